"""Everything the browser tests talk to, started on 127.0.0.1 and stopped on SIGTERM / SIGINT.

- a temporary workspace: the example pipeline (`hello_pipeline/`), an invalid copy of it
  (`invalid_pipeline/`, whose "Per station" node names a notebook that does not exist), a pipeline with a long
  name whose second notebook raises (`failing_pipeline/`, for the Runs panel's tests), and `editor/` for the
  editor's tests: the example's script and two notebooks, a pipeline with a supernode, comments and fields the
  editor does not know (`supernode.pipeline`), and a file that is not a pipeline (`broken.pipeline`);
- the KFP API test server (`tests/kfp_server`, in this process, bearer token required) and moto_server (S3 with
  real credential checks, `tests/s3_server.py`) with an empty bucket;
- `jupyter lab` with the extension, on a free port, with private HOME / data / config / runtime dirs and the
  workspace as its root.

When everything answers, the URLs and credentials are written as JSON to the file given with `--info` (the
Playwright global set-up waits for it, then hands it to the tests). Run it alone to poke at the same set-up by
hand: `python ui-tests/servers.py --info /tmp/servers.json` (Ctrl-C stops everything).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
EXAMPLE = PROJECT / "examples" / "hello_pipeline"
sys.path.insert(0, str(PROJECT / "tests"))

import s3_server  # noqa: E402  (tests/ on sys.path first)
from kfp_server import KfpTestServer  # noqa: E402

START_TIMEOUT = 120.0
# The node of the invalid pipeline whose file is missing, and the file it names.
INVALID_NODE = "per-station"
MISSING_FILE = "no_such_notebook.ipynb"
# The failing pipeline's nodes: one that succeeds (with an output), the one that raises and its error, one skipped.
FAILING_NODES = {"succeeds": "prepare", "fails": "train", "skipped": "evaluate"}
FAILING_MESSAGE = "the learning rate must be positive"
SCHEMA_URL = "http://api.dataplatform.ibm.com/schemas/common-pipeline/pipeline-flow/pipeline-flow-v3-schema.json"
# The example's files that the editor's tests draw pipelines of (copied into `editor/`).
EDITOR_FILES = ("generate_data.py", "summarize.ipynb", "per_station.ipynb")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_workspace(root: Path) -> dict[str, Any]:
    """The example pipeline as it ships, and a copy whose "Per station" node names a missing notebook."""
    ignore = shutil.ignore_patterns("output", ".ipynb_checkpoints", "__pycache__")
    shutil.copytree(EXAMPLE, root / "hello_pipeline", ignore=ignore)
    invalid_dir = root / "invalid_pipeline"
    shutil.copytree(EXAMPLE, invalid_dir, ignore=ignore)
    source = invalid_dir / "hello_pipeline.pipeline"
    document = json.loads(source.read_text(encoding="utf-8"))
    source.unlink()
    pipeline = document["pipelines"][0]
    pipeline["app_data"]["properties"]["name"] = "invalid_pipeline"
    node = next(n for n in pipeline["nodes"] if n["id"] == INVALID_NODE)
    node["app_data"]["component_parameters"]["filename"] = MISSING_FILE
    (invalid_dir / "per_station.ipynb").unlink()
    (invalid_dir / "invalid_pipeline.pipeline").write_text(json.dumps(document, indent=2), encoding="utf-8")
    editor_dir = root / "editor"
    editor_dir.mkdir()
    for name in EDITOR_FILES:
        shutil.copyfile(EXAMPLE / name, editor_dir / name)
    (editor_dir / "supernode.pipeline").write_text(json.dumps(supernode_pipeline(), indent=2), encoding="utf-8")
    (editor_dir / "broken.pipeline").write_text('{"doc_type": "pipeline", "pipelines": [', encoding="utf-8")
    failing_dir = root / "failing_pipeline"
    failing_dir.mkdir()
    write_failing_pipeline(failing_dir)
    return {
        "pipeline": "hello_pipeline/hello_pipeline.pipeline",
        "invalid_pipeline": "invalid_pipeline/invalid_pipeline.pipeline",
        "invalid_node": INVALID_NODE,
        "missing_file": MISSING_FILE,
        "editor_dir": "editor",
        "editor_files": list(EDITOR_FILES),
        "supernode_pipeline": "editor/supernode.pipeline",
        "broken_pipeline": "editor/broken.pipeline",
        "failing_pipeline": "failing_pipeline/failing.pipeline",
        "failing_nodes": FAILING_NODES,
        "failing_error": f"ValueError: {FAILING_MESSAGE}",
    }


def write_failing_pipeline(folder: Path) -> None:
    """`failing.pipeline`, named longer than the sidebar is wide: "Prepare the features" (a notebook that prints
    "3 rows prepared"), then "Train the model" (a notebook whose second cell raises), then "Evaluate the model"
    (a script, skipped)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    cells = {"prepare_features.ipynb": ["rows = [1, 2, 3]\nprint(f'{len(rows)} rows prepared')"],
             "train_model.ipynb": ["rate = -0.1", f"raise ValueError({FAILING_MESSAGE!r})"]}
    for name, sources in cells.items():
        nbformat.write(new_notebook(cells=[new_code_cell(source) for source in sources], metadata=kernel),
                       folder / name)
    (folder / "evaluate.py").write_text("print('evaluated')\n", encoding="utf-8")
    prepare = _generic_node(FAILING_NODES["succeeds"], "execute-notebook-node", "Prepare the features",
                            "prepare_features.ipynb", 40, 120)
    train = _generic_node(FAILING_NODES["fails"], "execute-notebook-node", "Train the model", "train_model.ipynb",
                          300, 120, [_link("prepare-train", FAILING_NODES["succeeds"])])
    evaluate = _generic_node(FAILING_NODES["skipped"], "execute-python-node", "Evaluate the model", "evaluate.py",
                             560, 120, [_link("train-evaluate", FAILING_NODES["fails"])])
    primary = {
        "id": "primary", "nodes": [prepare, train, evaluate], "runtime_ref": "",
        "app_data": {"version": 8, "properties": {
            "name": "nightly_feature_engineering_and_model_training", "runtime": "Generic",
            "pipeline_defaults": {"runtime_image": "quay.io/jupyter/scipy-notebook:2024-05-27"}}},
    }
    document = {"doc_type": "pipeline", "version": "3.0", "json_schema": SCHEMA_URL, "id": "failing-document",
                "primary_pipeline": "primary", "pipelines": [primary], "schemas": []}
    (folder / "failing.pipeline").write_text(json.dumps(document, indent=2), encoding="utf-8")


def _port(port_id: str, label: str, links: list[dict[str, str]] | None = None, **extra: str) -> dict[str, Any]:
    port: dict[str, Any] = {"id": port_id, **extra, "app_data": {"ui_data": {"label": label}}}
    if links:
        port["links"] = links
    return port


def _link(link_id: str, node_id: str, port_id: str = "outPort") -> dict[str, str]:
    return {"id": link_id, "node_id_ref": node_id, "port_id_ref": port_id}


def _generic_node(node_id: str, op: str, label: str, filename: str, x: int, y: int,
                  links: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {
        "id": node_id, "type": "execution_node", "op": op,
        "app_data": {"label": label,
                     "component_parameters": {"filename": filename, "outputs": [], "env_vars": [], "dependencies": [],
                                              "include_subdirectories": False},
                     "ui_data": {"label": label, "x_pos": x, "y_pos": y}},
        "inputs": [_port("inPort", "Input Port", links)],
        "outputs": [_port("outPort", "Output Port")],
    }


def supernode_pipeline() -> dict[str, Any]:
    """A pipeline as Elyra's editor writes one with a supernode (its two notebooks in a subflow with binding nodes)
    and comments on both levels, plus fields the editor does not know, which must be saved unchanged."""
    subflow = {
        "id": "analysis-subflow",
        "nodes": [
            {"id": "entry", "type": "binding", "app_data": {"ui_data": {"label": "Binding", "x_pos": 0, "y_pos": 80}},
             "outputs": [_port("entry-out", "Binding port for supernode")]},
            _generic_node("summarize", "execute-notebook-node", "Summarize", "summarize.ipynb", 200, 0,
                          [_link("entry-summarize", "entry", "entry-out")]),
            _generic_node("per-station", "execute-notebook-node", "Per station", "per_station.ipynb", 200, 160,
                          [_link("entry-per-station", "entry", "entry-out")]),
            {"id": "exit", "type": "binding", "app_data": {"ui_data": {"label": "Binding", "x_pos": 500, "y_pos": 80}},
             "inputs": [_port("exit-in", "Binding port for supernode",
                              [_link("summarize-exit", "summarize"), _link("per-station-exit", "per-station")])]},
        ],
        "app_data": {"ui_data": {"comments": [
            {"id": "subflow-comment", "x_pos": 200, "y_pos": -90, "width": 200, "height": 50,
             "class_name": "d3-comment-rect", "content": "Both notebooks read output/measurements.csv",
             "associated_id_refs": [{"id": "subflow-comment-link", "node_ref": "summarize"}]}]}},
        "runtime_ref": "",
    }
    supernode = {
        "id": "analysis", "type": "super_node", "subflow_ref": {"pipeline_id_ref": "analysis-subflow",
                                                              "url": "app-defined"},
        "app_data": {"ui_data": {"label": "Analysis", "image": "useDefaultIcon", "x_pos": 320, "y_pos": 120,
                                 "description": "Two notebooks", "is_expanded": False,
                                 "expanded_width": 600, "expanded_height": 300}},
        "inputs": [_port("entry-in", "Binding port for supernode", [_link("generate-analysis", "generate")],
                         subflow_node_ref="entry")],
        "outputs": [_port("exit-out", "Binding port for supernode", subflow_node_ref="exit")],
    }
    generate = _generic_node("generate", "execute-python-node", "Generate data", "generate_data.py", 40, 120)
    # Another tool's data on a node and on the document: the editor must keep them as they are.
    generate["app_data"]["x_other_tool"] = {"reviewed": True, "tags": ["ingest"]}
    primary = {
        "id": "primary",
        "nodes": [generate, supernode],
        "app_data": {
            "version": 8,
            "ui_data": {"comments": [
                {"id": "primary-comment", "x_pos": 40, "y_pos": 0, "width": 240, "height": 60,
                 "class_name": "d3-comment-rect", "content": "Generates the data the analysis reads",
                 "associated_id_refs": [{"id": "primary-comment-link", "node_ref": "generate"}]}]},
            "properties": {"name": "supernode_pipeline", "runtime": "Generic",
                           "pipeline_defaults": {"runtime_image": "quay.io/jupyter/scipy-notebook:2024-05-27"}},
        },
        "runtime_ref": "",
    }
    return {
        "doc_type": "pipeline", "version": "3.0",
        "json_schema": SCHEMA_URL,
        "id": "supernode-document", "primary_pipeline": "primary", "pipelines": [primary, subflow], "schemas": [],
        "x_other_tool": {"opened_by": "ui-tests"},
    }


class Moto:
    """moto_server with credentials that are checked (the same set-up as the pytest fixture in tests/)."""

    def __init__(self, work: Path) -> None:
        self.log = work / "moto.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.server: s3_server.S3Server | None = None

    def start(self) -> s3_server.S3Server:
        port = free_port()
        endpoint = f"http://127.0.0.1:{port}"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        s3_server._wait_until_up(endpoint, self.process, self.log)
        access_key, secret_key = s3_server._enable_authentication(endpoint)
        self.server = s3_server.S3Server(endpoint, access_key, secret_key)
        return self.server

    def stop(self) -> None:
        stop_process(self.process)


class JupyterLab:
    """`jupyter lab` with private Jupyter dirs (runs, runtime configurations, settings start empty)."""

    #: Answers 200 once the server and the extension are up.
    probe_path = "/pipeline/runtimes"

    def __init__(self, work: Path, root: Path) -> None:
        self.work, self.root = work, root
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = work / "jupyter.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        home = self.work / "home"
        home.mkdir()
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("JUPYTER_", "KF_PIPELINES_"))}
        env.update(HOME=str(home), JUPYTER_DATA_DIR=str(home / "data"), JUPYTER_CONFIG_DIR=str(home / "config"),
                   JUPYTER_RUNTIME_DIR=str(home / "runtime"), PYTHONUNBUFFERED="1")
        # No "receive Jupyter news?" toast over the views in screenshots; no update checks.
        labconfig = home / "config" / "labconfig"
        labconfig.mkdir(parents=True)
        (labconfig / "page_config.json").write_text(json.dumps(
            {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}), encoding="utf-8")
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(self.command(), env=env, cwd=self.root, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.process.returncode}:\n{self.log_tail()}")
            if self._answers():
                return
            time.sleep(0.2)
        raise RuntimeError(f"jupyter lab did not answer within {START_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def command(self) -> list[str]:
        """The `jupyter lab` command line (the editor benchmark adds options, or runs another Python)."""
        return [
            sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser", f"--port={self.port}",
            "--port-retries=0", "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={self.root}",
            f"--IdentityProvider.token={self.token}", "--ServerApp.jpserver_extensions={'elyra_proc_ext': True}",
        ]

    def _answers(self) -> bool:
        request = urllib.request.Request(f"{self.url}{self.probe_path}",
                                         headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return answer.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        stop_process(self.process, timeout=30)


def stop_process(process: subprocess.Popen[bytes] | None, timeout: float = 10) -> None:
    """Terminate a process started in a session of its own, and what it started (kernels, node processes)."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--info", type=Path, required=True, help="where to write the servers' URLs (JSON)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, workspace)")
    args = parser.parse_args()
    if importlib.util.find_spec("jupyterlab") is None:
        print(f"servers.py: JupyterLab is not installed for {sys.executable}: pip install 'jupyterlab>=4,<5'",
              file=sys.stderr)
        return 1

    stop = threading.Event()
    parent = os.getppid()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())

    work = Path(tempfile.mkdtemp(prefix="elyra-proc-ui-tests-"))
    root = work / "workspace"
    root.mkdir()
    kfp_token = secrets.token_hex(12)
    kfp: KfpTestServer | None = None
    moto = Moto(work)
    lab = JupyterLab(work, root)
    status = 0
    try:
        workspace = make_workspace(root)
        kfp = KfpTestServer(workdir=work / "kfp-server", require_token=kfp_token).start()
        s3 = moto.start()
        bucket = s3.make_bucket("ui-tests")
        lab.start()
        info: dict[str, Any] = {
            "jupyter": {"url": lab.url, "token": lab.token, "root": str(root), "log": str(lab.log)},
            "kfp": {"endpoint": kfp.endpoint, "token": kfp_token},
            "s3": {"endpoint": s3.endpoint, "access_key": s3.access_key, "secret_key": s3.secret_key,
                   "bucket": bucket},
            "workspace": workspace,
            "work": str(work),
        }
        partial = args.info.with_name(args.info.name + ".partial")
        partial.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps(info, indent=2), encoding="utf-8")
        partial.replace(args.info)  # appears whole: the set-up polls for it
        print(f"servers ready: JupyterLab {lab.url}, KFP {kfp.endpoint}, S3 {s3.endpoint}", flush=True)
        while not stop.wait(0.5):
            if os.getppid() != parent:  # the test runner died without stopping us
                break
            if lab.process is not None and lab.process.poll() is not None:
                print(f"jupyter lab exited with {lab.process.returncode}:\n{lab.log_tail()}", file=sys.stderr)
                status = 1
                break
    except Exception as error:  # reported to the set-up, which shows this output
        print(f"servers.py: {error}", file=sys.stderr, flush=True)
        status = 1
    finally:
        lab.stop()
        moto.stop()
        if kfp is not None:
            kfp.stop()
        args.info.unlink(missing_ok=True)
        if args.keep or os.environ.get("UI_TESTS_KEEP"):
            print(f"kept {work}", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
