"""Submit latency of a 100-node layered pipeline to Kubeflow Pipelines, and how free the event loop stays meanwhile.

A submission is the whole round trip a user waits for after pressing "Run": each node's file archived and uploaded
to object storage, the pipeline compiled, uploaded as a new pipeline version, the experiment looked up and the run
created. It runs in one of the processor's worker processes so the Jupyter server keeps answering; a coroutine
sleeping 10 ms in a loop meanwhile shows how long the event loop was held up anyway (by the progress messages and
record saves that stay in this process).

Nothing leaves this machine: Kubeflow Pipelines is the project's API test server (`tests/kfp_server`, a stand-in
speaking KFP's REST API; the real kfp SDK client talks to it), object storage a moto_server checking credentials
and request signatures like S3. Both run in their own processes on 127.0.0.1, so their work does not compete for
this process's GIL. Runs are created but NOT executed: the test server's `start_delay` keeps them pending until it
stops, so only the submission is measured. Full garbage collections are timed too, as they explain the longest
stalls. The first submission (worker start and imports, new pipeline and experiment) is reported apart from the
`--repeat` warm ones. This is a measurement, not a test.

    python benchmarks/kfp_submit.py [--nodes 100] [--repeat 3] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from elyra_proc_ext.manager import ProcessorManager, create_manager
from elyra_proc_ext.processors.base import RunStatus
from elyra_proc_ext.procfs import stat_fields
from elyra_proc_ext.store import NodeRecord, RunRecord

TESTS = Path(__file__).resolve().parents[1] / "tests"
WIDTH, FAN_IN = 10, 3  # the graph of benchmarks/kfp_compile.py, so the compile figures can be compared
TICK = 0.010
NEVER = 7 * 24 * 3600.0  # test server start_delay: runs wait this long (until the server stops) before executing
CONFIG_NAME = "bench-kfp"
# Progress messages of KfpProcessor, by prefix, and the step each one starts; the last one ends the submission.
STEPS = [("Connecting to Kubeflow Pipelines", "connect, check namespace"),
         ("Checking object storage bucket", "check bucket"),
         ("Uploading the dependencies of", "archives: build + upload ({nodes})"),
         ("Compiling the pipeline", "compile + write YAML"),
         ("Uploading the pipeline", "upload pipeline version"),
         ("Creating or reusing experiment", "experiment"),
         ("Starting the run", "create run"),
         ("Submitted to Kubeflow Pipelines", None)]
MANAGER_STEP = "manager: record, task, hand-over to a worker"


# --- the workspace --------------------------------------------------------------------------------------------


def parents_of(index: int) -> list[int]:
    """Layers of WIDTH nodes; each node depends on FAN_IN nodes of the layer above (as in kfp_compile.py)."""
    layer = index // WIDTH
    above = list(range((layer - 1) * WIDTH, layer * WIDTH)) if layer else []
    return above[index % WIDTH:][:FAN_IN] or above[:FAN_IN]


def pipeline_document(name: str, size: int) -> dict[str, Any]:
    """A pipeline-flow v3 document (app_data version 8) as Elyra's editor saves it: `size` Python nodes, each with
    one output, an environment variable and (every other node) the SIZE pipeline parameter."""
    nodes = []
    for index in range(size):
        links = [{"id": f"n{p}-n{index}", "node_id_ref": f"n{p}", "port_id_ref": "outPort"}
                 for p in parents_of(index)]
        nodes.append({
            "id": f"n{index}", "type": "execution_node", "op": "execute-python-node",
            "app_data": {"label": f"step {index}", "component_parameters": {
                "filename": f"steps/step_{index}.py", "outputs": [f"out_{index}.txt"],
                "env_vars": [{"env_var": "STEP", "value": str(index)}], "dependencies": [],
                "include_subdirectories": False, "pipeline_parameters": ["SIZE"] if index % 2 else []}},
            "inputs": [{"id": "inPort", "links": links}], "outputs": [{"id": "outPort"}]})
    properties = {"name": name, "runtime": "Generic", "pipeline_defaults": {"runtime_image": "python:3.11"},
                  "pipeline_parameters": [{"name": "SIZE", "default_value": {"type": "Integer", "value": size},
                                           "required": False}]}
    return {"doc_type": "pipeline", "version": "3.0", "id": name, "primary_pipeline": "primary", "schemas": [],
            "pipelines": [{"id": "primary", "runtime_ref": "", "nodes": nodes,
                           "app_data": {"version": 8, "properties": properties}}]}


def write_workspace(root: Path, size: int) -> Path:
    """The pipeline file and one small script per node, on disk so the archives are real; returns the pipeline."""
    directory = root / "layered"
    (directory / "steps").mkdir(parents=True)
    for index in range(size):
        (directory / "steps" / f"step_{index}.py").write_text(
            f'"""Step {index} of the benchmark pipeline."""\nimport os\n\n'
            f'with open("out_{index}.txt", "w") as out:\n    out.write(os.environ.get("STEP", ""))\n',
            encoding="utf-8")
    pipeline = directory / f"layered-{size}.pipeline"
    pipeline.write_text(json.dumps(pipeline_document(f"layered-{size}", size), indent=1), encoding="utf-8")
    return pipeline


# --- the servers ----------------------------------------------------------------------------------------------


SERVER_CHILD = """
import json, pathlib, sys
sys.path.insert(0, sys.argv[1])
from kfp_server import KfpTestServer
server = KfpTestServer(start_delay=float(sys.argv[2]), workdir=pathlib.Path(sys.argv[3])).start()
print(server.endpoint, flush=True)
sys.stdin.read()
print(json.dumps(sorted(run.state for run in server.runs.values())), flush=True)
server.stop()
"""


@dataclass
class Servers:
    """Where the two servers listen; `kfp_run_states` is filled in when the KFP test server stops."""

    kfp_endpoint: str
    s3: Any
    pids: dict[str, int] = field(default_factory=dict)
    kfp_run_states: list[str] = field(default_factory=list)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time each server process has used so far (Linux /proc; empty elsewhere): the share of a step's
        time that is the stand-in servers' own work, on the other core, rather than ours."""
        used = {}
        for name, pid in self.pids.items():
            fields = stat_fields(pid)
            if fields is not None:
                used[name] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return used


@contextmanager
def servers(workdir: Path) -> Iterator[Servers]:
    """The KFP API test server (runs held back) and an authenticating moto_server, each in its own process.

    Both run outside this process so that their request handling neither competes for this process's GIL nor
    grows its heap, as a real cluster would not. moto_server is started the way tests/s3_server.py's fixture does,
    with its helpers (the fixture itself needs pytest). kfp.Client's saved context is redirected so ~/.config/kfp
    is neither read nor written.
    """
    sys.path.insert(0, str(TESTS))
    import kfp
    from s3_server import S3Server, _enable_authentication, _wait_until_up, free_port, stop_process

    kfp.Client._LOCAL_KFP_CONTEXT = str(workdir / "kfp-context.json")
    for name in ("KF_PIPELINES_ENDPOINT", "KF_PIPELINES_DEFAULT_EXPERIMENT_NAME",
                 "KF_PIPELINES_OVERRIDE_EXPERIMENT_NAME"):
        os.environ.pop(name, None)
    log, port = workdir / "moto.log", free_port()
    endpoint = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                stdout=out, stderr=subprocess.STDOUT)
    kfp_server = subprocess.Popen([sys.executable, "-c", SERVER_CHILD, str(TESTS), str(NEVER),
                                   str(workdir / "kfp-server")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)
    try:
        assert kfp_server.stdin is not None and kfp_server.stdout is not None
        kfp_endpoint = kfp_server.stdout.readline().strip()
        if not kfp_endpoint.startswith("http"):
            raise SystemExit(f"kfp_submit.py: the KFP test server did not start (exit {kfp_server.wait()})")
        _wait_until_up(endpoint, moto, log)
        found = Servers(kfp_endpoint, S3Server(endpoint, *_enable_authentication(endpoint)),
                        {"KFP test server": kfp_server.pid, "moto_server": moto.pid})
        yield found
        kfp_server.stdin.close()
        found.kfp_run_states = json.loads(kfp_server.stdout.readline() or "[]")
        kfp_server.wait(timeout=30)
    finally:
        stop_process(kfp_server)
        stop_process(moto)


# --- measuring ------------------------------------------------------------------------------------------------


@dataclass
class Submission:
    """One submission: when each progress message arrived (seconds after `submit` was called) and loop stalls."""

    messages: list[tuple[float, str]] = field(default_factory=list)
    created: float = 0.0  # the run exists on KFP; the record turns `submitted` in the same loop turn
    waited: float = 0.0  # `wait()` returned: final record saved and the run's state read back once
    stalls: list[float] = field(default_factory=list)
    full_collections: list[float] = field(default_factory=list)  # seconds of each gen-2 garbage collection
    server_cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds each server process used meanwhile

    def steps(self, nodes: int) -> dict[str, float]:
        """Seconds per step: from a step's first progress message to the next step's."""
        starts: list[tuple[str, float]] = [(MANAGER_STEP, 0.0)]
        for prefix, label in STEPS:
            at = next((t for t, message in self.messages if message.startswith(prefix)), None)
            if at is None:
                raise SystemExit(f"kfp_submit.py: no progress message starting with {prefix!r}; did the "
                                 "processor's messages change?")
            starts.append((label.format(nodes=nodes) if label else "", at))
        return {label: starts[i + 1][1] - at for i, (label, at) in enumerate(starts[:-1])}


async def ticker(stalls: list[float], stop: asyncio.Event) -> None:
    """Sleep TICK in a loop and record how late each wake-up was: the event loop's stalls."""
    while not stop.is_set():
        start = time.perf_counter()
        await asyncio.sleep(TICK)
        stalls.append(time.perf_counter() - start - TICK)


async def submit_once(manager: ProcessorManager, pipeline: Path, root: Path) -> Submission:
    """One submission through the manager, as the server's handler and `elyra-proc submit` make it."""
    document = json.loads(pipeline.read_text(encoding="utf-8"))
    checked = manager.check(document, source=pipeline.relative_to(root).as_posix(), runtime_config=CONFIG_NAME,
                            options={"experiment": "benchmark"})
    if not checked.accepted:
        raise SystemExit("kfp_submit.py: the pipeline was rejected: "
                         + "; ".join(issue.message for issue in checked.issues if issue.fatal))
    result = Submission()
    start = 0.0

    def listen(record: RunRecord, node: NodeRecord | None) -> None:
        if node is None and record.progress:
            result.messages.append((time.perf_counter() - start, record.progress))

    collecting: list[float] = []

    def collected(phase: str, info: dict[str, int]) -> None:
        """A full collection holds the GIL throughout, so it shows as an event-loop stall from any thread."""
        if info["generation"] == 2:
            if phase == "start":
                collecting[:] = [time.perf_counter()]
            elif collecting:
                result.full_collections.append(time.perf_counter() - collecting[0])

    stop = asyncio.Event()
    ticking = asyncio.create_task(ticker(result.stalls, stop))
    await asyncio.sleep(TICK * 2)  # the ticker is running before the submission starts
    manager.listeners.append(listen)
    gc.callbacks.append(collected)
    try:
        start = time.perf_counter()
        record = await manager.submit(checked)
        record = await manager.wait(record.id)
        result.waited = time.perf_counter() - start
    finally:
        manager.listeners.remove(listen)
        gc.callbacks.remove(collected)
        stop.set()
        await ticking
    if record.status != RunStatus.SUBMITTED:
        raise SystemExit(f"kfp_submit.py: submission ended {record.status}: {record.error}")
    result.created = result.messages[-1][0]
    return result


async def next_second() -> None:
    """Sleep into the next wall-clock second: the processor names the object storage prefix and the pipeline
    version after the submission time to the second, so two submissions in one second would collide."""
    await asyncio.sleep(1.05 - time.time() % 1)


def time_archives(root: Path, pipeline: Path, size: int) -> float:
    """Seconds to build every node's archive alone, without uploading, to split the archive step."""
    from elyra_proc_ext.storage import build_archive

    steps = pipeline.parent.relative_to(root) / "steps"
    with tempfile.TemporaryDirectory() as directory:
        start = time.perf_counter()
        for index in range(size):
            build_archive(root, f"{steps.as_posix()}/step_{index}.py", [], False, Path(directory) / f"{index}.tar.gz")
        return time.perf_counter() - start


async def measure(args: argparse.Namespace, workspace: Path) -> str:
    """Start the servers, submit once cold and `--repeat` times warm; returns the report as Markdown."""
    root = workspace / "root"
    pipeline = write_workspace(root, args.nodes)
    with servers(workspace) as found:
        s3 = found.s3
        bucket = s3.make_bucket("benchmark")
        manager = create_manager(root, workspace / "data", workspace / "runtimes")
        manager.save_runtime_config({
            "name": CONFIG_NAME, "display_name": "Benchmark KFP", "schema_name": "kfp",
            "metadata": {"api_endpoint": found.kfp_endpoint, "cos_endpoint": s3.endpoint, "cos_bucket": bucket,
                         "cos_auth_type": "USER_CREDENTIALS", "cos_username": s3.access_key,
                         "cos_password": s3.secret_key, "timeout": 60}})
        try:
            cold = await submit_once(manager, pipeline, root)
            print(f"  first submission (cold): {cold.created:.2f} s", file=sys.stderr, flush=True)
            warm = []
            for index in range(args.repeat):
                await next_second()
                before = found.cpu_seconds()
                warm.append(await submit_once(manager, pipeline, root))
                after = found.cpu_seconds()
                warm[-1].server_cpu = {name: after[name] - before[name] for name in after}
                print(f"  submission {index + 1}/{args.repeat}: {warm[-1].created:.2f} s", file=sys.stderr,
                      flush=True)
        finally:
            await manager.shutdown()
    archives = statistics.median(time_archives(root, pipeline, args.nodes) for _ in range(3))
    return report(args, cold, warm, archives, found.kfp_run_states)


# --- reporting ------------------------------------------------------------------------------------------------


def machine_facts() -> dict[str, str]:
    """What the figures depend on, printed with them so they can be compared across machines."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"CPUs (os.cpu_count / usable)": f"{os.cpu_count()} / {usable}",
            "Python": f"{platform.python_version()} ({platform.python_implementation()})",
            "Platform": platform.platform(),
            **{package: version(package) for package in ("elyra_proc_ext", "kfp", "moto", "boto3")}}


def report(args: argparse.Namespace, cold: Submission, warm: list[Submission], archives: float,
           run_states: list[str]) -> str:
    """Machine facts, the latency table and the per-step table, as Markdown."""
    rows: list[tuple[str, Callable[[Submission], float], float, int]] = [
        ("submit → run created (record `submitted`) (s)", lambda s: s.created, 1, 2),
        ("submit → `wait()` returned (s)", lambda s: s.waited, 1, 2),
        ("worst event-loop stall (ms)", lambda s: max(s.stalls), 1000, 0),
        ("event-loop stall, 99th percentile (ms)", lambda s: percentile(s.stalls, 99), 1000, 0),
        ("longest full garbage collection (ms)", lambda s: max(s.full_collections, default=0.0), 1000, 0)]
    executed = sum(state not in ("PENDING", "CANCELED") for state in run_states)
    server_cpu = ", ".join(f"{name} {statistics.median(s.server_cpu[name] for s in warm):.2f} s"
                           for name in warm[0].server_cpu) or "not available (no /proc)"
    facts = [f"- {name}: {value}" for name, value in machine_facts().items()]
    facts += [f"- Pipeline: {args.nodes} Python nodes in layers of {WIDTH}, each depending on {FAN_IN} nodes of the "
              "layer above; one output and one environment variable per node; every other node takes a pipeline "
              "parameter",
              "- Kubeflow Pipelines: tests/kfp_server (KfpTestServer), object storage: moto_server checking "
              "credentials (SigV4); each in its own process on 127.0.0.1",
              f"- Runs created: {len(run_states)}, executed by the test server: {executed} (held back with "
              "start_delay, so only the submission is measured)",
              f"- Building the {args.nodes} archives alone (no upload), median of 3: {archives:.2f} s",
              f"- CPU time the stand-in servers used per warm submission, median: {server_cpu}"]
    lines = ["# elyra_proc_ext Kubeflow Pipelines submit benchmark", "", *facts, "",
             "| Measurement | Median | Min | Max | First submission (cold) |", "|---|---:|---:|---:|---:|"]
    for label, value, unit, digits in rows:
        values = [value(submission) * unit for submission in warm]
        lines.append(f"| {label} | {statistics.median(values):.{digits}f} | {min(values):.{digits}f} | "
                     f"{max(values):.{digits}f} | {value(cold) * unit:.{digits}f} |")
    lines += ["", f"Median, minimum and maximum of {len(warm)} warm submission(s), each a new version of the same "
              "pipeline. The first submission of the process imports the kfp SDK and creates the pipeline and the "
              "experiment; it is shown apart. A stall is how much later than 10 ms a coroutine sleeping 10 ms woke "
              "up while the submission ran.", "",
              "| Step | Median (s) | Min (s) | Share of the median total |", "|---|---:|---:|---:|"]
    steps = [submission.steps(args.nodes) for submission in warm]
    total = statistics.median(submission.created for submission in warm)
    for label in steps[0]:
        values = [step[label] for step in steps]
        lines.append(f"| {label} | {statistics.median(values):.3f} | {min(values):.3f} | "
                     f"{statistics.median(values) / total:.0%} |")
    lines += ["", "Each step runs from its progress message to the next one (timestamps taken when the manager's "
              "listener is called on the event loop); the manager step runs from `submit` to the first message."]
    return "\n".join(lines)


def percentile(values: Sequence[float], percent: int) -> float:
    """The nearest-rank percentile: never above the maximum, unlike extrapolating quantiles on few samples."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(percent / 100 * len(ordered)) - 1))]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Measure how long elyra_proc_ext takes to submit a layered pipeline to Kubeflow Pipelines "
                    "(the project's KFP API test server, runs not executed, and a local moto_server for object "
                    "storage), split into steps, and the worst stall of the event loop meanwhile. Progress goes to "
                    "stderr, the report (Markdown) to stdout.",
        epilog="Example: python benchmarks/kfp_submit.py --repeat 5 > results.md")
    parser.add_argument("--nodes", type=int, default=100, metavar="N", help="nodes in the pipeline (default: 100)")
    parser.add_argument("--repeat", type=int, default=3, metavar="N",
                        help="warm submissions measured after the first one; median and minimum reported "
                             "(default: 3)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary workspace (pipeline, run records, compiled YAML) and print where")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.repeat < 1 or args.nodes < 1:
        raise SystemExit("kfp_submit.py: --repeat and --nodes must be at least 1")
    workspace = Path(tempfile.mkdtemp(prefix="elyra-proc-kfp-bench-")).resolve()
    try:
        text = asyncio.run(measure(args, workspace))
    finally:
        if args.keep:
            print(f"Workspace kept in {workspace}", file=sys.stderr)
        else:
            shutil.rmtree(workspace, ignore_errors=True)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
