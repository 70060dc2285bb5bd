"""Property-based tests: the real pipelines in shared/pipelines/valid, mutated at random, never crash the parser or
the validator (every problem comes back as an issue), and no node file or dependency outside the root is accepted.

Each case is copied into a temporary root whose `_escape/` directory holds symlinks to an `outside/` directory of real
notebooks and scripts (two levels above the root) and whose `_loop/` directory holds a symlink loop.
"""

from __future__ import annotations

import asyncio
import copy
import glob
import itertools
import json
import posixpath
import shutil
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from conftest import CORPUS, CORPUS_MISSING, HAS_CORPUS, load_json
from hypothesis import HealthCheck, Phase, given, note, reject, settings
from hypothesis import strategies as st
from hypothesis.strategies import DrawFn

from elyra_proc_ext.manager import ProcessorManager, Submission, create_manager
from elyra_proc_ext.model import GENERIC_OPS
from elyra_proc_ext.parsing import decode

if not HAS_CORPUS:
    pytest.skip(CORPUS_MISSING, allow_module_level=True)

MAX_MESSAGE = 2_000  # an issue message never echoes a huge user string whole
HUGE = 100_000
# Reproducible (derandomize, no database) and without the explain phase, which reruns failing examples many times.
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None, print_blob=False,
                    phases=[Phase.explicit, Phase.generate, Phase.target, Phase.shrink],
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.large_base_example, HealthCheck.filter_too_much])
# Mutated documents are not shrunk: their recipes are a few named steps already, and shrinking 1,500-node chains or
# 100,000-character strings would take minutes per open bug.
MUTATION_SETTINGS = settings(SETTINGS, phases=[Phase.explicit, Phase.generate])
EXTENSION = {"notebook": "ipynb", "python": "py", "r": "r"}
RECURSION_LIMIT = sys.getrecursionlimit()  # Python's own; hypothesis raises it while a test runs
T = TypeVar("T")
_SERVER_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="property-check")


def as_server(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call `function` on a fresh stack under Python's default recursion limit, as in the server's workers
    (hypothesis raises the limit while a test runs), so deep documents fail here exactly as they would there."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(RECURSION_LIMIT)
    try:
        return _SERVER_THREAD.submit(function, *args, **kwargs).result()
    finally:
        sys.setrecursionlimit(limit)


@dataclass(frozen=True)
class Case:
    """A valid corpus case, loaded once and never modified (mutations work on deep copies)."""

    name: str
    pipeline_file: str
    document: dict[str, Any] = field(repr=False, compare=False, hash=False)

    @property
    def version(self) -> int:
        primary = next(p for p in self.document["pipelines"] if p["id"] == self.document["primary_pipeline"])
        return int(primary["app_data"]["version"])

    @property
    def pipeline_dir(self) -> str:
        return posixpath.dirname(self.pipeline_file)


def _load_cases() -> tuple[Case, ...]:
    cases = []
    for case_file in sorted(CORPUS.glob("valid/*/case.json")):
        case = load_json(case_file)
        document = load_json(case_file.parent / case["pipeline_file"])
        cases.append(Case(case_file.parent.name, case["pipeline_file"], document))
    return tuple(cases)


CASES = _load_cases()


def _depth(relative_dir: str) -> int:
    return len([part for part in relative_dir.split("/") if part not in ("", ".")])


@dataclass(frozen=True)
class Target:
    """A generic execution node of a case: where its parameters live and how to climb to the root from it."""

    case: Case
    pipeline_index: int
    node_index: int
    kind: str
    to_root_from_base: str  # "../" chain from the directory node filenames are relative to
    to_root_from_node: str  # "../" chain from the node file's directory

    def params(self, document: dict[str, Any]) -> dict[str, Any]:
        app_data = document["pipelines"][self.pipeline_index]["nodes"][self.node_index]["app_data"]
        params = app_data.get("component_parameters")
        return params if isinstance(params, dict) else app_data

    def node_id(self) -> str:
        return self.case.document["pipelines"][self.pipeline_index]["nodes"][self.node_index]["id"]


def _targets() -> tuple[Target, ...]:
    targets = []
    for case in CASES:
        base = "" if case.version == 1 else case.pipeline_dir  # format 1: filenames relative to the root
        for p_index, pipeline in enumerate(case.document["pipelines"]):
            for n_index, node in enumerate(pipeline["nodes"]):
                if node.get("type") != "execution_node" or node.get("op") not in GENERIC_OPS:
                    continue
                app_data = node["app_data"]
                params = app_data.get("component_parameters", app_data)
                node_dir = posixpath.normpath(posixpath.join(base, posixpath.dirname(params["filename"])))
                targets.append(Target(case, p_index, n_index, GENERIC_OPS[node["op"]], "../" * _depth(base),
                                      "../" * _depth(node_dir)))
    return tuple(targets)


TARGETS = _targets()


@dataclass
class Workspace:
    """Copies of the cases (one root each), their managers, and the `outside/` directory above the roots."""

    base: Path
    data: Path
    managers: dict[str, ProcessorManager] = field(default_factory=dict)

    @property
    def outside(self) -> Path:
        return self.base / "outside"

    def root(self, case: Case) -> Path:
        return self.base / "roots" / case.name

    def manager(self, case: Case) -> ProcessorManager:
        if case.name not in self.managers:
            data = self.data / case.name
            self.managers[case.name] = create_manager(self.root(case), data, data / "runtimes")
        return self.managers[case.name]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    base = tmp_path_factory.mktemp("property")
    ws = Workspace(base, base / "data")
    ws.outside.mkdir()
    for extension in EXTENSION.values():
        (ws.outside / f"secret.{extension}").write_text("print('outside the root')\n")
    for case in CASES:
        root = ws.root(case)
        shutil.copytree(CORPUS / "valid" / case.name, root)
        escape = root / "_escape"
        escape.mkdir()
        (escape / "outside").symlink_to(ws.outside, target_is_directory=True)
        (root / "_loop").mkdir()
        (root / "_loop" / "loop").symlink_to("loop")
        for extension in EXTENSION.values():
            (escape / f"secret.{extension}").symlink_to(ws.outside / f"secret.{extension}")
    yield ws
    for manager in ws.managers.values():
        asyncio.run(manager.shutdown())


# --- values -------------------------------------------------------------------------------------------------------

ODD_STRINGS = st.sampled_from([
    "", " ", ".", "..", "~", "*", "**", "../../etc/passwd", "/etc/passwd", "**/../..", "\x00", "a\x00b", "\ud800",
    "NaN", "nan", "inf", "-inf", "1e400", "-1", "0", "true", "Exists", "K=V", "=", "a" * 300, "é" * 50,
    "execute-notebook-node", "execution_node", "super_node", "../outside/secret.py",
])
HUGE_STRINGS = st.sampled_from(["x" * HUGE, "../" * (HUGE // 3), "é" * HUGE, "9" * HUGE])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=20),
                    ODD_STRINGS)
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)), max_leaves=8)
RECORD_KEYS = ["env_var", "value", "name", "key", "path", "pvc_name", "sub_path", "read_only", "operator", "effect",
               "size", "units", "type", "default_value", "required", "description"]
RECORDS = st.lists(st.dictionaries(st.sampled_from(RECORD_KEYS), JSON_VALUES, max_size=5), max_size=3)
FIELD_VALUES = st.one_of(JSON_VALUES, RECORDS, ODD_STRINGS, HUGE_STRINGS)
TYPE_KINDS: dict[str, st.SearchStrategy[Any]] = {
    "null": st.none(), "bool": st.booleans(), "int": st.integers(-(2**70), 2**70), "float": st.floats(),
    "str": st.one_of(st.text(max_size=20), ODD_STRINGS), "list": st.lists(JSON_VALUES, max_size=3),
    "dict": st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=3),
}
ODD_VERSIONS = st.one_of(st.sampled_from([-1, 0, 1, 8, 9, 8.0, 9.0, 1.5, -0.0, 2**63, 10**100, -(2**70), "8", "",
                                          True, False, None, [], {}, [8], {"version": 8}]), st.floats())

PARAMETER_FIELDS = ["filename", "runtime_image", "dependencies", "include_subdirectories", "outputs", "env_vars",
                    "kubernetes_secrets", "mounted_volumes", "kubernetes_tolerations", "kubernetes_pod_labels",
                    "kubernetes_pod_annotations", "kubernetes_shared_mem_size", "cpu", "cpu_limit", "memory",
                    "memory_limit", "gpu", "gpu_vendor", "disable_node_caching", "pipeline_parameters"]
NODE_FIELDS = ["id", "type", "op", "app_data", "inputs", "outputs", "subflow_ref"]
APP_DATA_FIELDS = ["label", "ui_data", "component_parameters", "component_source"]
PIPELINE_FIELDS = ["name", "runtime", "runtime_type", "runtime_config", "source", "properties", "ui_data"]
PROPERTY_FIELDS = ["name", "description", "runtime", "pipeline_defaults", "pipeline_parameters"]
DEFAULT_FIELDS = ["runtime_image", "env_vars", "kubernetes_secrets", "mounted_volumes", "kubernetes_tolerations",
                  "kubernetes_pod_labels", "kubernetes_pod_annotations", "kubernetes_shared_mem_size",
                  "disable_node_caching", "cos_object_prefix"]


def _shorten(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}...<{len(text)} chars>"


def _nested(depth: int, as_dict: bool) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"nested": value} if as_dict else [value]
    return value


# --- navigating untrusted documents -----------------------------------------------------------------------------------

Path_ = tuple[str | int, ...]


def _paths(document: Any, max_depth: int = 12) -> list[Path_]:
    """Every JSON path in the document (iteratively, not below `max_depth`), the root first."""
    found: list[Path_] = []
    stack: list[tuple[Path_, Any]] = [((), document)]
    while stack:
        path, value = stack.pop()
        found.append(path)
        if len(path) >= max_depth:
            continue
        if isinstance(value, dict):
            stack.extend(((*path, key), child) for key, child in value.items())
        elif isinstance(value, list):
            stack.extend(((*path, index), child) for index, child in enumerate(value))
    return found


def _get(document: Any, path: Path_) -> Any:
    for part in path:
        document = document[part]
    return document


def _set(document: Any, path: Path_, value: Any) -> Any:
    """Set the value at `path`; returns the (possibly replaced) document."""
    if not path:
        return value
    _get(document, path[:-1])[path[-1]] = value
    return document


def _pipelines(document: Any) -> list[dict[str, Any]]:
    pipelines = document.get("pipelines") if isinstance(document, dict) else None
    return [p for p in pipelines if isinstance(p, dict)] if isinstance(pipelines, list) else []


def _primary(document: Any) -> dict[str, Any] | None:
    pipelines = _pipelines(document)
    primary_id = document.get("primary_pipeline") if isinstance(document, dict) else None
    return next((p for p in pipelines if p.get("id") == primary_id), pipelines[0] if pipelines else None)


def _node_dicts(document: Any) -> list[dict[str, Any]]:
    return [node for pipeline in _pipelines(document) if isinstance(pipeline.get("nodes"), list)
            for node in pipeline["nodes"] if isinstance(node, dict)]


def _dict_at(container: dict[str, Any], key: str) -> dict[str, Any]:
    if not isinstance(container.get(key), dict):
        container[key] = {}
    return container[key]


def _add_link(node: dict[str, Any], parent_id: Any) -> None:
    """Give `node` an input link from `parent_id`, repairing its input port if a mutation broke it."""
    inputs = node.get("inputs")
    if not isinstance(inputs, list) or not inputs or not isinstance(inputs[0], dict):
        node["inputs"] = inputs = [{"id": "inPort"}]
    if not isinstance(inputs[0].get("links"), list):
        inputs[0]["links"] = []
    inputs[0]["links"].append({"id": f"link-{len(inputs[0]['links'])}", "node_id_ref": parent_id,
                               "port_id_ref": "outPort"})


# --- mutations: each takes the draw function and the document, changes it, returns it and a description ------------

Mutation = Callable[[DrawFn, Any], tuple[Any, str]]


def drop_key(draw: DrawFn, document: Any) -> tuple[Any, str]:
    dicts = [path for path in _paths(document) if isinstance(_get(document, path), dict) and _get(document, path)]
    if not dicts:
        return document, "drop_key: nothing to drop"
    path = draw(st.sampled_from(dicts))
    key = draw(st.sampled_from(sorted(_get(document, path))))
    del _get(document, path)[key]
    return document, f"drop {[*path, key]}"


def retype(draw: DrawFn, document: Any) -> tuple[Any, str]:
    path = draw(st.sampled_from(_paths(document)))
    current = {type(None): "null", bool: "bool", int: "int", float: "float", str: "str", list: "list",
               dict: "dict"}.get(type(_get(document, path)), "null")
    kind = draw(st.sampled_from([kind for kind in TYPE_KINDS if kind != current]))
    value = draw(TYPE_KINDS[kind])
    return _set(document, path, value), f"retype {list(path)} = {_shorten(value)}"


def duplicate_node(draw: DrawFn, document: Any) -> tuple[Any, str]:
    pipelines = [p for p in _pipelines(document) if isinstance(p.get("nodes"), list) and p["nodes"]]
    if not pipelines:
        return document, "duplicate_node: no nodes"
    nodes = draw(st.sampled_from(pipelines))["nodes"]
    index = draw(st.integers(0, len(nodes) - 1))
    nodes.append(copy.deepcopy(nodes[index]))
    return document, f"duplicate node {index}"


def huge_string(draw: DrawFn, document: Any) -> tuple[Any, str]:
    path = draw(st.sampled_from(_paths(document)))
    value = draw(HUGE_STRINGS)
    return _set(document, path, value), f"huge string at {list(path)}: {_shorten(value)}"


def deep_nesting(draw: DrawFn, document: Any) -> tuple[Any, str]:
    depth = draw(st.sampled_from([50, 200, 500]))
    as_dict = draw(st.booleans())
    nodes = _node_dicts(document)
    if nodes and draw(st.booleans()):  # in a node parameter, where it is kept and handed around
        params = _dict_at(_dict_at(draw(st.sampled_from(nodes)), "app_data"), "component_parameters")
        name = draw(st.sampled_from([*PARAMETER_FIELDS, "custom_parameter"]))
        params[name] = _nested(depth, as_dict)
        return document, f"{depth} nested {'dicts' if as_dict else 'lists'} in parameter {name}"
    path = draw(st.sampled_from(_paths(document)))
    return _set(document, path, _nested(depth, as_dict)), f"{depth} nested at {list(path)}"


def add_cycle(draw: DrawFn, document: Any) -> tuple[Any, str]:
    pipelines = [p for p in _pipelines(document) if isinstance(p.get("nodes"), list)
                 and any(isinstance(n, dict) for n in p["nodes"])]
    if not pipelines:
        return document, "add_cycle: no nodes"
    nodes = [n for n in draw(st.sampled_from(pipelines))["nodes"] if isinstance(n, dict)]
    cycle = draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=3))
    for parent, child in zip(cycle, cycle[1:] + cycle[:1], strict=True):
        _add_link(child, parent.get("id"))
    return document, f"cycle through {[_shorten(n.get('id')) for n in cycle]}"


def dangling_link(draw: DrawFn, document: Any) -> tuple[Any, str]:
    nodes = _node_dicts(document)
    if not nodes:
        return document, "dangling_link: no nodes"
    missing = draw(st.one_of(st.just("no-such-node"), ODD_STRINGS, HUGE_STRINGS))
    _add_link(draw(st.sampled_from(nodes)), missing)
    return document, f"link from missing node {_shorten(missing)}"


def hostile_path(draw: DrawFn, document: Any) -> tuple[Any, str]:
    nodes = _node_dicts(document)
    if not nodes:
        return document, "hostile_path: no nodes"
    app_data = _dict_at(draw(st.sampled_from(nodes)), "app_data")
    params = app_data.get("component_parameters")
    params = params if isinstance(params, dict) else app_data
    value = draw(HOSTILE_PATHS)
    if draw(st.booleans()):
        params["filename"] = value
        return document, f"filename = {value!r}"
    params["dependencies"] = [value]
    params["include_subdirectories"] = draw(st.booleans())
    return document, f"dependencies = [{value!r}]"


def odd_version(draw: DrawFn, document: Any) -> tuple[Any, str]:
    primary = _primary(document)
    if primary is None:
        return document, "odd_version: no pipeline"
    value = draw(ODD_VERSIONS)
    _dict_at(primary, "app_data")["version"] = value
    return document, f"app_data.version = {value!r}"


def non_dict_node(draw: DrawFn, document: Any) -> tuple[Any, str]:
    pipelines = [p for p in _pipelines(document) if isinstance(p.get("nodes"), list) and p["nodes"]]
    if not pipelines:
        return document, "non_dict_node: no nodes"
    nodes = draw(st.sampled_from(pipelines))["nodes"]
    index = draw(st.integers(0, len(nodes) - 1))
    nodes[index] = draw(st.sampled_from([None, 0, 1.5, True, "node", [], [{}]]))
    return document, f"node {index} = {nodes[index]!r}"


def set_node_field(draw: DrawFn, document: Any) -> tuple[Any, str]:
    """Set one to three fields of a node, of its app_data or of its parameters to odd values."""
    nodes = _node_dicts(document)
    if not nodes:
        return document, "set_node_field: no nodes"
    node = draw(st.sampled_from(nodes))
    level = draw(st.sampled_from(["node", "app_data", "parameters"]))
    names = {"node": NODE_FIELDS, "app_data": APP_DATA_FIELDS, "parameters": PARAMETER_FIELDS}[level]
    values = draw(st.dictionaries(st.sampled_from(names), FIELD_VALUES, min_size=1, max_size=3))
    target = node if level == "node" else _dict_at(node, "app_data")
    target = _dict_at(target, "component_parameters") if level == "parameters" else target
    target.update(values)
    changes = ", ".join(f"{name} = {_shorten(value)}" for name, value in values.items())
    return document, f"node {_shorten(node.get('id'))} {level}: {changes}"


def set_pipeline_field(draw: DrawFn, document: Any) -> tuple[Any, str]:
    primary = _primary(document)
    if primary is None:
        return document, "set_pipeline_field: no pipeline"
    app_data = _dict_at(primary, "app_data")
    level = draw(st.sampled_from(["app_data", "properties", "pipeline_defaults", "pipeline_parameters"]))
    value = draw(FIELD_VALUES)
    if level == "app_data":
        name = draw(st.sampled_from(PIPELINE_FIELDS))
        app_data[name] = value
    elif level == "properties":
        name = draw(st.sampled_from(PROPERTY_FIELDS))
        _dict_at(app_data, "properties")[name] = value
    elif level == "pipeline_defaults":
        name = draw(st.sampled_from(DEFAULT_FIELDS))
        _dict_at(_dict_at(app_data, "properties"), "pipeline_defaults")[name] = value
    else:
        name = "pipeline_parameters"
        parameter = {"name": draw(st.one_of(st.text(max_size=10), ODD_STRINGS)),
                     "default_value": {"type": draw(st.sampled_from(["String", "Integer", "Float", "Bool", "x"])),
                                       "value": draw(JSON_VALUES)},
                     "required": draw(st.booleans()), "value": value}
        properties = _dict_at(app_data, "properties")
        if not isinstance(properties.get(name), list):
            properties[name] = []
        properties[name].append(parameter)
    return document, f"pipeline {level}.{name} = {_shorten(value)}"


def set_pipeline_default(draw: DrawFn, document: Any) -> tuple[Any, str]:
    """Pipeline defaults are applied to every generic node, and the schema leaves their shape open."""
    primary = _primary(document)
    if primary is None:
        return document, "set_pipeline_default: no pipeline"
    name = draw(st.sampled_from(DEFAULT_FIELDS))
    value = draw(st.one_of(RECORDS, FIELD_VALUES))
    _dict_at(_dict_at(_dict_at(primary, "app_data"), "properties"), "pipeline_defaults")[name] = value
    return document, f"pipeline_defaults.{name} = {_shorten(value)}"


def pass_through_chain(draw: DrawFn, document: Any) -> tuple[Any, str]:
    """A long chain of binding nodes in front of an execution node (graph depth rather than JSON depth)."""
    primary = _primary(document)
    if primary is None or not isinstance(primary.get("nodes"), list):
        return document, "pass_through_chain: no pipeline"
    length = draw(st.sampled_from([3, 1_500]))
    chain = [{"id": f"binding-{index}", "type": "binding"} for index in range(length)]
    for parent, child in itertools.pairwise(chain):
        _add_link(child, parent["id"])
    targets = [n for n in primary["nodes"] if isinstance(n, dict) and n.get("type") == "execution_node"]
    if targets:
        _add_link(draw(st.sampled_from(targets)), chain[-1]["id"])
    primary["nodes"].extend(chain)
    return document, f"chain of {length} bindings"


def supernode_chain(draw: DrawFn, document: Any) -> tuple[Any, str]:
    """Supernodes nested `depth` deep, optionally referring back to the first subflow."""
    primary = _primary(document)
    if primary is None or not isinstance(primary.get("nodes"), list) or not isinstance(document["pipelines"], list):
        return document, "supernode_chain: no pipeline"
    depth = draw(st.sampled_from([2, 600]))
    loops = draw(st.booleans())
    ids = [f"subflow-{index}" for index in range(depth)]
    owners = [primary["nodes"]]
    for index, subflow_id in enumerate(ids):
        nodes: list[Any] = []
        document["pipelines"].append({"id": subflow_id, "nodes": nodes, "app_data": {"version": 8}})
        owners.append(nodes)
        owners[index].append({"id": f"super-{index}", "type": "super_node", "subflow_ref": {
            "pipeline_id_ref": subflow_id}, "inputs": [{"id": "in"}], "outputs": [{"id": "out"}]})
    owners[-1].append({"id": "super-loop" if loops else "exit", "type": "super_node" if loops else "binding",
                       "subflow_ref": {"pipeline_id_ref": ids[0]}})
    return document, f"{depth} nested supernodes{' with a loop' if loops else ''}"


# Families of mutations. A test run draws one to four mutations of one family (or of all, for "mixed"), so an open
# bug in one family cannot hide the others: there is no shrinking to untangle them (see MUTATION_SETTINGS).
FAMILIES: dict[str, list[Mutation]] = {
    "structure": [drop_key, retype, duplicate_node, non_dict_node],
    "huge_and_deep": [huge_string, deep_nesting],
    "graph": [add_cycle, dangling_link, pass_through_chain, supernode_chain],
    "node_fields": [set_node_field],
    "pipeline_fields": [set_pipeline_field, odd_version],
    "pipeline_defaults": [set_pipeline_default],
    "paths": [hostile_path],
}
FAMILIES["mixed"] = [mutation for family in list(FAMILIES.values()) for mutation in family]


# --- paths outside the root ---------------------------------------------------------------------------------------


def _hostile(category: str, up: str, extension: str, outside: str) -> st.SearchStrategy[str]:
    """Paths of one category that name something outside the root, a link out, or nothing readable.

    `up` climbs from the directory the path is relative to back to the root; `outside` is the absolute path of a
    directory outside the root holding real `secret.*` files.
    """
    secret = f"secret.{extension}"
    if category == "parent":
        return st.one_of(
            st.builds(lambda k, tail: up + "../" * k + tail, st.integers(1, 4),
                      st.sampled_from([f"outside/{secret}", secret, "etc/passwd", "*", "**", "outside/*",
                                       "*/secret.*", "**/*", ""])),
            st.sampled_from([f"{up}../../outside/{secret}", f"{up}x/../../../outside/{secret}", f"{up}**/../..",
                             f"{up}**/../../*", f"{up}*/../../*", f"{up}../*", f"{up}./../*", f"{up}../?utside/*",
                             f"{up}../[o]utside/{secret}", (up + "../../outside/").replace("/", "\\") + secret]))
    if category == "absolute":
        return st.sampled_from([f"{outside}/{secret}", f"{outside}/*", f"{outside}/**", "/etc/passwd", "/etc/*",
                                "/", "/*", "/**", "//etc/passwd", "//*", f"file://{outside}/{secret}"])
    if category == "home":
        return st.sampled_from([f"~/{secret}", "~/*", "~root/.bashrc", "~/.ssh/id_rsa", f"{up}~/{secret}"])
    if category == "symlink":
        return st.sampled_from([f"{up}_escape/{secret}", f"{up}_escape/outside/{secret}", f"{up}_escape/outside",
                                f"{up}_escape/*", f"{up}_escape/**", f"{up}_escape/outside/*", f"{up}_escape/secre?.*",
                                f"{up}_escape/[o]utside/*", f"{up}_escape/outside/../outside/{secret}"])
    assert category == "unreadable"
    return st.sampled_from([f"{up}secret\x00.{extension}", f"{up}\ud800.{extension}", f"{up}{'a' * 300}.{extension}",
                            f"{up}{'a/' * 3000}{secret}", f"{up}_loop/loop", f"{up}_loop/loop/{secret}",
                            f"{up}_loop/*"])


PATH_CATEGORIES = ["parent", "absolute", "home", "symlink", "unreadable"]
HOSTILE_PATHS = st.sampled_from(PATH_CATEGORIES).flatmap(lambda category: _hostile(category, "", "py", "/tmp"))


def _escapes(root: Path, relative: str, pattern: bool = False, recursive: bool = False) -> bool:
    """Independent oracle: does this root-relative path (a glob if `pattern`) name anything outside `root`?"""
    if posixpath.isabs(relative) or relative.split("/")[0] == "..":
        return True
    try:
        paths = glob.glob(glob.escape(str(root)) + "/" + relative, recursive=recursive) \
            if pattern and glob.has_magic(relative) else [str(root / relative)]
        return any(not Path(path).resolve().is_relative_to(root) for path in paths)
    except (OSError, ValueError, RuntimeError):
        return True  # unreadable names count as escaping: they must not be accepted either


def _assert_sound(submission: Submission, root: Path) -> None:
    """The properties every submission has, whatever the document (message length is checked on its own)."""
    assert isinstance(submission, Submission)
    for issue in submission.issues:
        json.dumps(issue.to_json(), allow_nan=False)  # strict JSON: browsers' JSON.parse rejects NaN/Infinity
    if any(issue.fatal for issue in submission.issues):
        assert not submission.accepted
    if submission.accepted:
        assert submission.pipeline is not None
        root = root.resolve()
        for node in submission.pipeline.nodes.values():
            if not node.is_generic:
                continue
            assert node.filename and not _escapes(root, node.filename), f"accepted {node.filename!r}"
            node_dir = posixpath.dirname(node.filename)
            for dependency in node.dependencies:
                joined = posixpath.normpath(posixpath.join(node_dir, dependency))
                assert not _escapes(root, joined, True, node.include_subdirectories), \
                    f"accepted dependency {dependency!r}"


class Mutated:
    """A mutated corpus document; its repr is the recipe, not the (possibly huge) document."""

    def __init__(self, case: Case, document: Any, steps: list[str], runtime: str | None) -> None:
        self.case, self.document, self.steps, self.runtime = case, document, steps, runtime

    def __repr__(self) -> str:
        return f"Mutated({self.case.name!r}, steps={self.steps!r}, runtime={self.runtime!r})"


@st.composite
def mutated_documents(draw: DrawFn, family: str) -> Mutated:
    """A corpus case after one to four mutations of `family`."""
    case = draw(st.sampled_from(CASES))
    document: Any = copy.deepcopy(case.document)
    steps = []
    for mutation in draw(st.lists(st.sampled_from(FAMILIES[family]), min_size=1, max_size=4)):
        document, step = mutation(draw, document)
        steps.append(step)
    runtime = draw(st.sampled_from(["local", "local", None, "kfp", "no-such-runtime"]))
    return Mutated(case, document, steps, runtime)


# --- properties -----------------------------------------------------------------------------------------------------
# (Under pytest 9 hypothesis prints drawn arguments blank, so every test notes its input in a readable form.)


@pytest.mark.parametrize("family", FAMILIES)
@settings(MUTATION_SETTINGS, max_examples=40)
@given(data=st.data())
def test_check_never_raises_on_mutated_corpus(family: str, data: st.DataObject, workspace: Workspace) -> None:
    mutated = data.draw(mutated_documents(family))  # hypothesis notes the draw's repr: the recipe
    manager = workspace.manager(mutated.case)
    submission = as_server(manager.check, mutated.document, source=mutated.case.pipeline_file,
                           runtime=mutated.runtime)
    _assert_sound(submission, manager.root_dir)


@pytest.mark.parametrize("family", ["structure", "huge_and_deep", "graph", "node_fields", "pipeline_fields", "mixed"])
@settings(MUTATION_SETTINGS, max_examples=25)
@given(data=st.data())
def test_issue_messages_stay_short(family: str, data: st.DataObject, workspace: Workspace) -> None:
    """Huge user strings (names, ids, paths, wrong-typed values) must not be echoed whole in messages.

    Documents that crash the check are left to test_check_never_raises_on_mutated_corpus, which reports them.
    """
    mutated = data.draw(mutated_documents(family))  # hypothesis notes the draw's repr: the recipe
    manager = workspace.manager(mutated.case)
    try:
        submission = as_server(manager.check, mutated.document, source=mutated.case.pipeline_file,
                               runtime=mutated.runtime)
    except Exception:
        reject()
    long = [(issue.type, len(issue.message), issue.message[:120]) for issue in submission.issues
            if len(issue.message) > MAX_MESSAGE]
    assert not long


@pytest.mark.parametrize("category", PATH_CATEGORIES)
@settings(SETTINGS, max_examples=40)
@given(target=st.sampled_from(TARGETS), data=st.data())
def test_node_file_outside_the_root_is_rejected(category: str, target: Target, data: st.DataObject,
                                                workspace: Workspace) -> None:
    note(repr(target))
    document = copy.deepcopy(target.case.document)
    extension = EXTENSION[target.kind]
    filename = data.draw(_hostile(category, target.to_root_from_base, extension, str(workspace.outside)),
                         label="filename")
    target.params(document)["filename"] = filename
    submission = as_server(workspace.manager(target.case).check, document, source=target.case.pipeline_file,
                           runtime="local")
    _assert_sound(submission, workspace.root(target.case))
    assert not submission.accepted
    assert any(issue.type == "invalidFilePath" and issue.fatal and issue.node_id == target.node_id()
               for issue in submission.issues), [issue.to_json() for issue in submission.issues]


@pytest.mark.parametrize("category", PATH_CATEGORIES)
@settings(SETTINGS, max_examples=40)
@given(target=st.sampled_from(TARGETS), data=st.data())
def test_dependency_outside_the_root_is_rejected(category: str, target: Target, data: st.DataObject,
                                                 workspace: Workspace) -> None:
    note(repr(target))
    document = copy.deepcopy(target.case.document)
    dependency = data.draw(_hostile(category, target.to_root_from_node, EXTENSION[target.kind],
                                    str(workspace.outside)), label="dependency")
    params = target.params(document)
    params["dependencies"] = [*data.draw(st.sampled_from([[], list(params.get("dependencies") or [])])), dependency]
    params["include_subdirectories"] = data.draw(st.booleans(), label="include_subdirectories")
    submission = as_server(workspace.manager(target.case).check, document, source=target.case.pipeline_file,
                           runtime="local")
    _assert_sound(submission, workspace.root(target.case))
    assert not submission.accepted
    assert any(issue.type == "invalidFilePath" and issue.fatal and issue.node_id == target.node_id()
               and issue.property_name == "dependencies" for issue in submission.issues), \
        [issue.to_json() for issue in submission.issues]


@settings(SETTINGS, max_examples=60)
@given(case=st.sampled_from([t.case for t in TARGETS]), data=st.data())
def test_source_or_base_dir_outside_the_root_is_rejected(case: Case, data: st.DataObject,
                                                         workspace: Workspace) -> None:
    """The pipeline's location is request input too: resolving node files against it must not leave the root."""
    note(repr(case))
    hostile_dir = data.draw(st.sampled_from(["..", "../..", "../../outside", "../" * 20, str(workspace.outside),
                                             "/", "/etc", "a/../../..", "_escape/outside"]), label="directory")
    as_source = data.draw(st.booleans(), label="as_source")
    options = {"source": f"{hostile_dir}/x.pipeline"} if as_source else \
        {"source": case.pipeline_file, "base_dir": hostile_dir}
    manager = workspace.manager(case)
    submission = as_server(manager.check, copy.deepcopy(case.document), runtime="local", **options)
    _assert_sound(submission, manager.root_dir)
    assert not submission.accepted


RAW_INPUTS: dict[str, st.SearchStrategy[bytes]] = {
    "bytes": st.one_of(st.binary(max_size=512),
                       st.text(max_size=200).map(lambda text: text.encode("utf-8", "surrogatepass"))),
    "encodings": st.sampled_from(["utf-16", "utf-32", "utf-8-sig", "latin-1"]).flatmap(
        lambda codec: st.text(max_size=50).map(lambda text: json.dumps({"a": text}).encode(codec, "replace"))),
    "specials": st.sampled_from([b"NaN", b"-Infinity", b'"\\ud800"', b"\xef\xbb\xbf{}", b"\xff\xfe{", b"\x00\x00\x00",
                                 b"", b'{"a": 1e400}', b"1" + b"0" * 400 + b".5", b'{"a": "' + b"x" * HUGE + b'"}']),
    "deep": st.builds(lambda opener, depth: (opener * depth).encode(), st.sampled_from(["[", '{"a":', '[{"b":']),
                      st.sampled_from([10, 500, 990, 5_000, 100_000])),
    "digits": st.builds(lambda digits, prefix: f"{prefix}{'1' * digits}".encode(),
                        st.sampled_from([10, 4_300, 4_301, 100_000]), st.sampled_from(["", "-", "[", '{"version": '])),
}


@pytest.mark.parametrize("kind", RAW_INPUTS)
@settings(SETTINGS, max_examples=60)
@given(data=st.data())
def test_decode_never_raises(kind: str, data: st.DataObject) -> None:
    raw = data.draw(RAW_INPUTS[kind])
    note(f"raw ({len(raw)} bytes): {raw[:80]!r}")
    for text in (raw, raw.decode("utf-8", "surrogateescape")):
        document, issues = as_server(decode, text)
        for issue in issues:
            json.dumps(issue.to_json(), allow_nan=False)
            assert issue.fatal and len(issue.message) <= MAX_MESSAGE
        assert document is None or not issues
