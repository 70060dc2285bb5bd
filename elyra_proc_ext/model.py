"""The validated pipeline every processor receives, and the issues validation reports.

A `Pipeline` is a flat DAG of `Node`s: supernodes are already expanded, pipeline defaults already applied and
every path already resolved against the workspace root, so a processor never re-reads the Elyra JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .catalogs import CatalogComponent

NOTEBOOK_OP = "execute-notebook-node"
PYTHON_OP = "execute-python-node"
R_OP = "execute-r-node"
GENERIC_OPS = {NOTEBOOK_OP: "notebook", PYTHON_OP: "python", R_OP: "r"}
MAX_MESSAGE, MAX_VALUE = 1000, 200
UPSTREAM_WIDGETS = ("inputpath", "inputvalue")  # Elyra's widgets of an input taking an upstream node's output


def printable(text: str) -> str:
    """`text` with NUL characters and lone surrogates written as escapes (`\\x00`, `\\ud800`)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\0", "\\x00")


class Severity(IntEnum):
    """Elyra's severity numbers: only ERROR blocks a run."""

    ERROR = 1
    WARNING = 2
    INFORMATION = 3
    HINT = 4


@dataclass(frozen=True)
class Issue:
    """One validation finding, serialised exactly as Elyra's validation service does."""

    type: str
    message: str
    severity: Severity = Severity.ERROR
    node_id: str | None = None
    node_name: str | None = None
    property_name: str | None = None
    value: Any = None
    pipeline_id: str | None = None

    def __post_init__(self) -> None:
        """User values can be huge (a 100,000-character label) or unprintable (NUL, lone surrogates): messages,
        names and values are kept readable, and printable on any UTF-8 terminal or JSON client."""
        for name in ("message", "node_name", "value"):
            if isinstance(getattr(self, name), str):
                object.__setattr__(self, name, printable(getattr(self, name)))
        if len(self.message) > MAX_MESSAGE:
            object.__setattr__(self, "message", self.message[:MAX_MESSAGE - 1] + "…")
        if isinstance(self.value, str) and len(self.value) > MAX_VALUE:
            object.__setattr__(self, "value", self.value[:MAX_VALUE - 1] + "…")
        elif isinstance(self.value, list) and len(self.value) > MAX_VALUE:
            object.__setattr__(self, "value", self.value[:MAX_VALUE])

    @property
    def fatal(self) -> bool:
        return self.severity == Severity.ERROR

    def to_json(self) -> dict[str, Any]:
        data = {
            "nodeID": self.node_id,
            "nodeName": self.node_name,
            "propertyName": self.property_name,
            "value": self.value,
            "pipelineID": self.pipeline_id,
        }
        return {
            "severity": int(self.severity),
            "source": "Elyra Pipeline Validation Service",
            "type": self.type,
            "message": self.message,
            "data": {key: value for key, value in data.items() if value is not None},
        }


@dataclass(frozen=True)
class KubernetesSecret:
    env_var: str
    name: str
    key: str


@dataclass(frozen=True)
class VolumeMount:
    path: str
    pvc_name: str
    sub_path: str | None = None
    read_only: bool = False


@dataclass(frozen=True)
class Toleration:
    key: str
    operator: str
    value: str
    effect: str


@dataclass(frozen=True)
class PipelineParameter:
    name: str
    description: str = ""
    type: str = "String"
    default_value: Any = None
    value: Any = None
    required: bool = False

    @property
    def effective_value(self) -> Any:
        return self.default_value if self.value in (None, "") else self.value

    def coerce(self, raw: Any) -> Any:
        """A value given as text (CLI, query string) as the parameter's declared type; ValueError if it is not."""
        if raw is None or not isinstance(raw, str) or self.type == "String":
            return raw
        if self.type == "Integer":
            return int(raw)
        if self.type == "Float":
            return float(raw)
        if self.type == "Bool":
            if raw.strip().lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(raw)
            return raw.strip().lower() in ("true", "1", "yes")
        return raw


@dataclass(frozen=True)
class ComponentValue:
    """One saved input of a custom-component node: a value (`widget` as Elyra's editor saved it: string, number,
    boolean...; None for a bare value of an older format), a pipeline parameter (`parameter`), or the output
    `output` of the upstream node `node_id` (`inputpath`/`inputvalue`; `output` without Elyra's `elyra_` prefix,
    None when the saved reference does not name one)."""

    widget: str | None
    value: Any = None
    node_id: str | None = None
    output: str | None = None

    @property
    def takes_output(self) -> bool:
        return self.widget in UPSTREAM_WIDGETS


@dataclass
class Node:
    """One executable step. `kind` is notebook/python/r for generic nodes and `custom` for catalog components."""

    id: str
    name: str
    op: str
    kind: str
    parent_ids: list[str] = field(default_factory=list)
    filename: str | None = None
    runtime_image: str | None = None
    dependencies: list[str] = field(default_factory=list)
    include_subdirectories: bool = False
    env_vars: dict[str, str] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    cpu: float | None = None
    cpu_limit: float | None = None
    memory: float | None = None
    memory_limit: float | None = None
    gpu: int | None = None
    gpu_vendor: str | None = None
    kubernetes_secrets: list[KubernetesSecret] = field(default_factory=list)
    mounted_volumes: list[VolumeMount] = field(default_factory=list)
    kubernetes_tolerations: list[Toleration] = field(default_factory=list)
    kubernetes_pod_labels: dict[str, str] = field(default_factory=dict)
    kubernetes_pod_annotations: dict[str, str] = field(default_factory=dict)
    kubernetes_shared_mem_size: float | None = None
    disable_node_caching: bool | None = None
    pipeline_parameters: list[str] = field(default_factory=list)
    component_parameters: dict[str, Any] = field(default_factory=dict)
    pipeline_id: str | None = None
    component: CatalogComponent | None = None  # a custom node's component, from the catalogs; None if none has it
    component_values: dict[str, ComponentValue] = field(default_factory=dict)  # a custom node's inputs, by id

    @property
    def is_generic(self) -> bool:
        return self.kind != "custom"

    def issue(self, type_: str, message: str, property_name: str | None = None, value: Any = None,
              severity: Severity = Severity.ERROR) -> Issue:
        """An issue pointing at this node, so clients can select it in the graph."""
        return Issue(type_, message, severity, node_id=self.id, node_name=self.name,
                     property_name=property_name, value=value, pipeline_id=self.pipeline_id)


@dataclass
class Pipeline:
    """A parsed pipeline. `nodes` keeps document order; `source` is the file path relative to the root, if known."""

    id: str
    name: str
    nodes: dict[str, Node]
    runtime_config: str | None = None
    runtime_type: str | None = None
    source: str | None = None
    description: str = ""
    version: int = 8
    parameters: list[PipelineParameter] = field(default_factory=list)
    cos_object_prefix: str | None = None

    def parameter_values(self) -> dict[str, Any]:
        return {parameter.name: parameter.effective_value for parameter in self.parameters}

    def children(self) -> dict[str, list[str]]:
        """Map each node id to the ids of the nodes that depend on it."""
        result: dict[str, list[str]] = {node_id: [] for node_id in self.nodes}
        for node in self.nodes.values():
            for parent_id in node.parent_ids:
                if parent_id in result:
                    result[parent_id].append(node.id)
        return result

    def topological_order(self) -> list[Node]:
        """Parents before children in Elyra's order (depth-first over parents, in document order), so a serial
        run visits nodes as Elyra would. Iterative, for long chains; callers reject cycles first."""
        order: list[Node] = []
        seen: set[str] = set()
        for start in self.nodes:
            if start in seen:
                continue
            seen.add(start)
            stack = [(start, iter(self.nodes[start].parent_ids))]
            while stack:
                node_id, parents = stack[-1]
                parent = next((p for p in parents if p in self.nodes and p not in seen), None)
                if parent is None:
                    stack.pop()
                    order.append(self.nodes[node_id])
                else:
                    seen.add(parent)
                    stack.append((parent, iter(self.nodes[parent].parent_ids)))
        return order

    def nodes_in_cycles(self) -> list[Node]:
        """Nodes that depend on themselves through their links, in document order: those in a strongly connected
        component of more than one node, or linked to themselves. Linear in nodes plus links, so a ring of
        thousands of nodes costs what a chain does."""
        cyclic = {node_id for component in strongly_connected(self.nodes, self.children()) if len(component) > 1
                  for node_id in component}
        cyclic.update(node_id for node_id, node in self.nodes.items() if node_id in node.parent_ids)
        return [node for node_id, node in self.nodes.items() if node_id in cyclic]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def strongly_connected(ids: Iterable[str], successors: Mapping[str, Sequence[str]]) -> Iterator[list[str]]:
    """The strongly connected components of a graph (iterative Tarjan: linear, no recursion limit), each after
    every component it reaches. `successors` holds every id; links to ids outside it are ignored."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    for start in ids:
        if start in index:
            continue
        work = [(start, iter(successors[start]))]
        index[start] = lowlink[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            current, pending = work[-1]
            following = next(pending, None)
            if following is None:
                work.pop()
                if work:
                    lowlink[work[-1][0]] = min(lowlink[work[-1][0]], lowlink[current])
                if lowlink[current] == index[current]:
                    component = []
                    while not component or component[-1] != current:
                        component.append(stack.pop())
                        on_stack.discard(component[-1])
                    yield component
            elif following not in successors:
                continue
            elif following not in index:
                index[following] = lowlink[following] = len(index)
                stack.append(following)
                on_stack.add(following)
                work.append((following, iter(successors[following])))
            elif following in on_stack:
                lowlink[current] = min(lowlink[current], index[following])
