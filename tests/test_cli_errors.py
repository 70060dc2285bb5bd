"""`elyra-proc` against hostile and unlucky input: Ctrl-C at any moment, a reader that goes away, bad files,
paths and options. Each ends in one line on stderr and a non-zero exit, never a traceback.

Commands run as users run them: the installed console script, in its own process group (signals go to the group,
as a terminal sends them), with pipes that really close.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import api_call, node, pipeline_document
from kfp_server import KfpTestServer
from s3_server import S3Server
from test_cli import private_env

from elyra_proc_ext.parsing import parse
from elyra_proc_ext.store import RunRecord, RunStore

SCRIPT = str(Path(sys.executable).parent / "elyra-proc")
HEAVY_MODULES = ("asyncio", "traitlets", "jsonschema", "jupyter_core", "elyra_proc_ext.manager")
PIPE_BUFFER = 65536  # Linux's pipe capacity: output beyond it cannot all be written before the reader closes
INTERRUPTED = "elyra-proc: Interrupted."
RUN_CANCELLED = "elyra-proc: Interrupted: the run was cancelled."


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return private_env(tmp_path)


def elyra_proc(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SCRIPT, *args], cwd=cwd, env=env, text=True, capture_output=True, timeout=300)


def start(env: dict[str, str], cwd: Path, *args: str, importtime: bool = False) -> subprocess.Popen[str]:
    """The console script in a new session (its own process group); with `importtime`, Python reports each
    module on stderr as it finishes importing it, which tells the test where the command is."""
    flags = ["-X", "importtime"] if importtime else []
    return subprocess.Popen([sys.executable, *flags, SCRIPT, *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def own_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith("import time:")]


def assert_one_line(result: subprocess.CompletedProcess[str], status: int, *fragments: str) -> str:
    """The command failed with `status` and said so in exactly one line naming every fragment."""
    assert result.returncode == status, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("elyra-proc"), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def interrupt(process: subprocess.Popen[str]) -> tuple[str, str]:
    """Ctrl-C as a terminal sends it, to the whole process group; then everything the command wrote."""
    os.killpg(process.pid, signal.SIGINT)
    return process.communicate(timeout=120)


def read_until(stream: Any, text: str, timeout: float = 120) -> list[str]:
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines.append(stream.readline())
        if text in lines[-1] or not lines[-1]:
            break
    assert lines and text in lines[-1], lines[-20:]
    return lines


def run_store(env: dict[str, str]) -> RunStore:
    """The run records the commands run with `env` write."""
    return RunStore(Path(env["JUPYTER_DATA_DIR"]) / "elyra_proc_ext" / "runs.sqlite")


def slow_node(pid_file: Path) -> str:
    """A node that writes its process id to `pid_file`, then sleeps for two minutes."""
    return f"import os, pathlib, time\npathlib.Path({str(pid_file)!r}).write_text(str(os.getpid()))\ntime.sleep(120)\n"


def write_pipeline(path: Path, nodes: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(pipeline_document(path.stem, nodes)))
    return path


def many_issues(workspace: Path) -> Path:
    """A pipeline whose report is far beyond a pipe's buffer and slow to check: 300 nodes with missing files."""
    return write_pipeline(workspace / "issues.pipeline",
                          [node(f"n{i}", f"{'missing-' * 25}{i}.py") for i in range(300)])


# -- help and usage


@pytest.mark.parametrize("command", [[], ["run"], ["submit"], ["export"], ["validate"], ["runs"], ["status"],
                                     ["cancel"], ["runtimes"], ["config"]])
def test_help_answers_before_anything_heavy_is_imported(env: dict[str, str], tmp_path: Path,
                                                        command: list[str]) -> None:
    """Counting work instead of timing it: after `--help`, none of the slow imports happened."""
    probe = ("import sys\nfrom elyra_proc_ext._entry import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit as e:"
             f"\n    print('exit', e.code)\nprint([m for m in {HEAVY_MODULES!r} if m in sys.modules])\n")
    result = subprocess.run([sys.executable, "-c", probe, *command, "--help"], env=env, cwd=tmp_path, text=True,
                            capture_output=True, timeout=60)
    assert result.stdout.splitlines()[-2:] == ["exit 0", "[]"], result.stdout + result.stderr
    assert result.stdout.startswith(f"usage: elyra-proc {' '.join(command)}".rstrip())
    if not command:
        for name in ("run", "submit", "export", "validate", "runs", "status", "cancel", "runtimes", "config", "130"):
            assert name in result.stdout


def test_validating_a_valid_pipeline_imports_no_heavy_library(env: dict[str, str], workspace: Path) -> None:
    """`validate` of a valid pipeline needs neither jsonschema (its fast check passes) nor a runtime's client
    libraries nor the server: their imports are what made the CLI slow to start."""
    heavy = ("jsonschema", "kfp", "boto3", "botocore", "requests", "tornado", "jupyter_server", "papermill",
             "nbformat", "yaml")
    probe = ("import sys\nfrom elyra_proc_ext._entry import main\nprint('exit', main(sys.argv[1:]))\n"
             f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))")
    result = subprocess.run([sys.executable, "-c", probe, "validate", "hello_pipeline/hello_pipeline.pipeline"],
                            env=env, cwd=workspace, text=True, capture_output=True, timeout=60)
    assert result.stdout.splitlines()[-2:] == ["exit 0", "[]"], result.stdout + result.stderr


@pytest.mark.parametrize("work", [
    "from elyra_proc_ext._entry import main\nmain(['validate', 'shapeless.pipeline'])",  # jsonschema names the errors
    "import elyra_proc_ext.processors.launcher, papermill",  # what the launcher imports for notebooks
])
def test_our_processes_never_build_the_iri_grammar(env: dict[str, str], workspace: Path, work: str) -> None:
    """jsonschema's optional format checkers cost seconds (the IRI one builds a grammar) at import: neither the
    CLI checking a pipeline nor the node launcher importing papermill loads them, though both load jsonschema."""
    (workspace / "shapeless.pipeline").write_text(json.dumps({"doc_type": "pipeline", "pipelines": 3}))
    skipped = ("jsonschema", "rfc3987_syntax", "rfc3986_validator", "rfc3339_validator", "isoduration", "webcolors")
    probe = f"import sys\n{work}\nprint(sorted(m for m in {skipped!r} if sys.modules.get(m)))"
    result = subprocess.run([sys.executable, "-c", probe], env=env, cwd=workspace, text=True, capture_output=True,
                            timeout=120)
    assert result.stdout.splitlines()[-1:] == ["['jsonschema']"], result.stdout[-2000:] + result.stderr[-2000:]


@pytest.mark.parametrize(("args", "fragment"), [
    (["runs", "--limit", "0"], "--limit: must be from 1"),
    (["runs", "--limit", "-3"], "--limit: must be from 1"),
    (["runs", "--limit", "many"], "'many' is not a whole number"),
    (["runs", "--limit", "1e3"], "'1e3' is not a whole number"),
    (["runs", "--limit", "9" * 30], "--limit: must be from 1"),
    (["run", "p.pipeline", "--parallel", "0"], "--parallel: must be from 1"),
    (["run", "p.pipeline", "--parallel", "-1"], "--parallel: must be from 1"),
    (["run", "p.pipeline", "--parallel", "2.5"], "'2.5' is not a whole number"),
    (["config", "show"], "config show needs a configuration name"),
    (["launch"], "invalid choice: 'launch'"),
    (["submit", "p.pipeline"], "--runtime-config"),
    ([], "required: COMMAND"),
])
def test_usage_errors_are_one_line_with_status_2(env: dict[str, str], tmp_path: Path, args: list[str],
                                                 fragment: str) -> None:
    result = elyra_proc(env, tmp_path, *args)
    assert_one_line(result, 2, fragment, "--help")
    assert result.stdout == ""


# -- files, paths and values


@pytest.mark.parametrize(("args", "fragments"), [
    (["validate", "nowhere.pipeline"], ["nowhere.pipeline: no such file"]),
    (["run", "hello_pipeline"], ["hello_pipeline is a directory", "give the .pipeline file inside it",
                                 "hello_pipeline.pipeline"]),
    (["validate", "."], [". is a directory"]),
    (["validate", "hello_pipeline/hello_pipeline.pipeline", "--root", "gone"], ["--root gone does not exist"]),
    (["validate", "hello_pipeline/hello_pipeline.pipeline", "--root", "hello_pipeline/report.py"],
     ["is not a directory"]),
    (["validate", "hello_pipeline/hello_pipeline.pipeline", "--root", "hello_pipeline/nested"],
     ["is outside the workspace root", "pass --root"]),
    (["run", "hello_pipeline/hello_pipeline.pipeline", "--param", "ROWS"], ["--param takes NAME=VALUE", "'ROWS'"]),
    (["run", "hello_pipeline/hello_pipeline.pipeline", "--param", "=3"], ["--param takes NAME=VALUE"]),
    (["export", "hello_pipeline/hello_pipeline.pipeline", "--runtime-config", "team", "--output", "hello_pipeline"],
     ["is a directory"]),
    (["export", "hello_pipeline/hello_pipeline.pipeline", "--runtime-config", "team", "--output", "no/x.yaml"],
     ["directory", "does not exist"]),
    (["export", "hello_pipeline/hello_pipeline.pipeline", "--runtime-config", "team", "--output",
      "hello_pipeline/report.py"], ["exists", "Pass --overwrite"]),
    (["config", "show", "nothing"], ["'nothing' does not exist"]),
    (["config", "delete", "nothing"], ["'nothing' does not exist"]),
])
def test_wrong_paths_and_names_get_their_own_message(env: dict[str, str], workspace: Path, args: list[str],
                                                     fragments: list[str]) -> None:
    (workspace / "hello_pipeline" / "nested").mkdir()
    result = elyra_proc(env, workspace, *args)
    assert_one_line(result, 1, *fragments)
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["status", "cancel"])
def test_a_run_id_naming_no_run_is_a_usage_error(env: dict[str, str], workspace: Path, command: str) -> None:
    assert_one_line(elyra_proc(env, workspace, command, "no-such-run"), 2, "no run id begins with 'no-such-run'",
                    "elyra-proc runs")


@pytest.mark.parametrize(("content", "fragments"), [
    (b"display_name: yaml", ["is not JSON", "line 1, column 1"]),
    (b'{"display_name": "x",', ["is not JSON"]),
    (b"", ["is not JSON"]),
    (b"[1, 2]", ["holds a JSON array, not an object"]),
    (b'"kfp"', ["holds a JSON string, not an object"]),
    (b"null", ["holds a JSON null, not an object"]),
    (b"\xff\xfe\x00{", ["is not UTF-8 text"]),
    (b"1" * 5000, ["cannot be read as a runtime configuration"]),
    (b"[" * 100000, ["cannot be read as a runtime configuration"]),
    (b'{"schema_name": "kfp", "metadata": [1]}', ["metadata must be an object"]),
    (None, ["no such file"]),
    ("directory", ["is a directory"]),
])
def test_config_from_file_names_the_file_and_the_problem(env: dict[str, str], tmp_path: Path, content: Any,
                                                         fragments: list[str]) -> None:
    path = tmp_path / "team.json"
    if content == "directory":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    result = elyra_proc(env, tmp_path, "config", "create", "team", "--from-file", str(path))
    assert_one_line(result, 1, f"--from-file {path}", *fragments)


@pytest.mark.parametrize(("option", "value", "fragments"), [
    ("--set", "api_endpoint", ["--set takes KEY=VALUE", "'api_endpoint'"]),
    ("--set", "=https://kf", ["--set takes KEY=VALUE"]),
    ("--set-from-env", "cos_password", ["--set-from-env takes KEY=ENV_VAR"]),
    ("--set-from-env", "cos_password=ELYRA_PROC_UNSET_VARIABLE", ["ELYRA_PROC_UNSET_VARIABLE is not set"]),
])
def test_config_assignments_are_checked(env: dict[str, str], tmp_path: Path, option: str, value: str,
                                        fragments: list[str]) -> None:
    result = elyra_proc(env, tmp_path, "config", "create", "team", "--schema", "kfp", option, value)
    assert_one_line(result, 1, *fragments)


def test_os_errors_are_one_line(env: dict[str, str], tmp_path: Path) -> None:
    """The data directory below a regular file: Python raises NotADirectoryError deep in the manager."""
    (tmp_path / "a-file").write_text("")
    result = elyra_proc({**env, "JUPYTER_DATA_DIR": str(tmp_path / "a-file" / "data")}, tmp_path, "runs")
    assert_one_line(result, 1, str(tmp_path / "a-file"), "Not a directory")


@pytest.mark.parametrize("content", [b"not a database at all" * 100, b"SQLite format 3\x00" + b"\xff" * 4000])
def test_a_corrupt_run_database_is_one_line(env: dict[str, str], tmp_path: Path, content: bytes) -> None:
    database = Path(env["JUPYTER_DATA_DIR"]) / "elyra_proc_ext" / "runs.sqlite"
    database.parent.mkdir(parents=True)
    database.write_bytes(content)
    for command in (["runs"], ["status", "0123abcd"]):
        assert_one_line(elyra_proc(env, tmp_path, *command), 1, str(database), "move it aside")


def test_an_invalid_pipeline_reports_on_one_stream(env: dict[str, str], workspace: Path) -> None:
    """`run` of an invalid pipeline: the header and every issue on stderr, nothing on stdout; `validate` prints
    the same issues as its result, on stdout."""
    write_pipeline(workspace / "p.pipeline", [node("a", "nowhere.py"), node("b", "elsewhere.py")])
    refused = elyra_proc(env, workspace, "run", "p.pipeline")
    assert refused.returncode == 1 and refused.stdout == ""
    lines = refused.stderr.splitlines()
    assert lines[0] == "p.pipeline: not run, the pipeline has errors:"
    assert sum("error: invalidFilePath" in line for line in lines) == 2
    validated = elyra_proc(env, workspace, "validate", "p.pipeline")
    assert validated.returncode == 1 and validated.stderr == ""
    assert validated.stdout.splitlines()[1:] == lines[1:]


# -- schema issues, each once


BROKEN_DOCUMENTS = [
    ({}, {"version", "primary_pipeline", "pipelines"}),
    ({"version": "3.0"}, {"primary_pipeline", "pipelines"}),
    ({"version": "3.0", "primary_pipeline": "p", "pipelines": [{}]}, {"pipelines[0].id", "pipelines[0].nodes"}),
    ({"version": "3.0", "primary_pipeline": "p", "pipelines": [{}, {}, {"id": "p"}]},
     {"pipelines[0].id", "pipelines[0].nodes", "pipelines[1].id", "pipelines[1].nodes", "pipelines[2].nodes"}),
    ({"version": "3.0", "primary_pipeline": "p", "pipelines": [{"id": "p", "nodes": [{}, {"id": "a"}]}]}, None),
    ({"version": 3, "primary_pipeline": "", "pipelines": []}, {"version", "primary_pipeline", "pipelines"}),
]


@pytest.mark.parametrize(("document", "missing"), BROKEN_DOCUMENTS)
def test_schema_problems_are_listed_once(document: dict[str, Any], missing: set[str] | None) -> None:
    issues = parse(document).issues
    keys = [(issue.property_name, issue.message) for issue in issues]
    assert issues and len(keys) == len(set(keys)), keys
    if missing is not None:
        assert {issue.property_name for issue in issues} == missing


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"elyra_proc_ext": True}}}


async def test_the_rest_api_lists_schema_problems_once(jp_fetch: Any) -> None:
    for document, _ in BROKEN_DOCUMENTS:
        code, body = await api_call(jp_fetch, "POST", "validate", body=document)
        keys = [(issue["data"].get("propertyName"), issue["message"]) for issue in body["issues"]]
        assert code == 200 and keys and len(keys) == len(set(keys)), keys


# -- closed pipes


@pytest.fixture
def many_runs(env: dict[str, str], workspace: Path) -> Iterator[str]:
    """300 recorded runs with long names, the newest holding 400 nodes: listings far beyond a pipe's buffer."""
    store = run_store(env)
    pipeline = parse(pipeline_document("r" * 200, [node("a", "a.py")])).pipeline
    big = parse(pipeline_document("big", [node(f"{'n' * 150}{i}", "a.py") for i in range(400)])).pipeline
    assert pipeline is not None and big is not None
    for index in range(300):
        record = RunRecord.new(pipeline if index < 299 else big, "local", None, workspace / "runs")
        record.submitted += index
        store.save(record)
    store.close()
    yield record.id


@pytest.mark.parametrize("command", [["runs", "--limit", "300"], ["runs", "--limit", "300", "--json"],
                                     ["status", "NEWEST"], ["status", "NEWEST", "--json"],
                                     ["validate", "broken.pipeline"], ["validate", "broken.pipeline", "--json"]])
def test_a_closed_pipe_ends_quietly(env: dict[str, str], workspace: Path, many_runs: str,
                                    command: list[str]) -> None:
    """`elyra-proc ... | head -1`: the first line arrives, then exit 141 as other tools do, nothing on stderr."""
    nodes = [{"id": f"{'x' * 100}{i}"} for i in range(600)]  # 1,200 schema issues, checked in no time
    (workspace / "broken.pipeline").write_text(json.dumps({"version": "3.0", "primary_pipeline": "p",
                                                           "pipelines": [{"id": "p", "nodes": nodes}]}))
    args = " ".join(many_runs if arg == "NEWEST" else arg for arg in command)
    full = subprocess.run(f"{SCRIPT} {args}", shell=True, cwd=workspace, env=env, capture_output=True, timeout=300)
    assert len(full.stdout) > PIPE_BUFFER and full.stderr == b"", full.stderr
    result = subprocess.run(f"{SCRIPT} {args} | head -1; echo \"status ${{PIPESTATUS[0]}}\" >&2", shell=True,
                            executable="/bin/bash", cwd=workspace, env=env, capture_output=True, timeout=300)
    assert result.stdout == full.stdout.splitlines(keepends=True)[0]
    assert result.stderr == b"status 141\n"


def test_a_closed_pipe_cancels_a_run(env: dict[str, str], workspace: Path) -> None:
    """`elyra-proc run p | head -1`: nobody reads the progress any longer, so the run stops, as SIGPIPE would
    stop it, and is recorded as cancelled (not failed with 'Broken pipe')."""
    (workspace / "slow.py").write_text(slow_node(workspace / "slow.pid"))
    write_pipeline(workspace / "slow.pipeline", [node("slow", "slow.py")])
    result = subprocess.run(f"{SCRIPT} run slow.pipeline | head -1; echo \"status ${{PIPESTATUS[0]}}\" >&2",
                            shell=True, executable="/bin/bash", cwd=workspace, env=env, capture_output=True,
                            timeout=300)
    assert result.stdout.startswith(b"Run ") and result.stderr == b"status 141\n"
    [record] = json.loads(elyra_proc(env, workspace, "runs", "--json").stdout)
    assert record["status"] == "cancelled", record


# -- Ctrl-C


@pytest.mark.parametrize("moment", ["elyra_proc_ext._entry", "argparse", "traitlets", "fastjsonschema",
                                    "elyra_proc_ext.manager", "printing"])
def test_ctrl_c_at_any_moment_of_a_check(env: dict[str, str], workspace: Path, moment: str) -> None:
    """Interrupt `validate` just after Python imported `moment`, or while its report fills the unread stdout pipe
    (a report beyond the pipe's buffer cannot end on its own, so the signal always finds the command at work)."""
    many_issues(workspace)
    process = start(env, workspace, "validate", "issues.pipeline", importtime=moment != "printing")
    if moment == "printing":
        assert select.select([process.stdout], [], [], 300)[0], "validate printed nothing"
    else:
        read_until(process.stderr, f" {moment}\n")  # the line `import time: ... | <indent>module`
    _, err = interrupt(process)
    assert process.returncode == 130 and own_lines(err) == [INTERRUPTED], (moment, err[-3000:])


def test_ctrl_c_during_a_run_cancels_it(env: dict[str, str], workspace: Path) -> None:
    (workspace / "first.py").write_text("print('first')\n")
    pid_file = workspace / "slow.pid"
    (workspace / "slow.py").write_text(slow_node(pid_file))
    write_pipeline(workspace / "slow.pipeline", [node("first", "first.py"), node("slow", "slow.py", ("first",))])
    process = start(env, workspace, "run", "slow.pipeline")
    read_until(process.stdout, "slow: running")
    deadline = time.monotonic() + 60
    while not pid_file.exists() and time.monotonic() < deadline:  # the node's Python is starting
        time.sleep(0.1)
    time.sleep(0.2)  # the whole number written
    _, err = interrupt(process)
    assert process.returncode == 130 and err.splitlines() == [RUN_CANCELLED], err
    [record] = json.loads(elyra_proc(env, workspace, "runs", "--json").stdout)
    assert record["status"] == "cancelled"
    assert {n["id"]: n["status"] for n in record["nodes"]} == {"first": "succeeded", "slow": "cancelled"}
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


@pytest.mark.parametrize("moment", ["uploading", "following"])
def test_ctrl_c_during_submit_wait_cancels_the_run(env: dict[str, str], workspace: Path, tmp_path: Path,
                                                   kfp_server: KfpTestServer, s3_server: S3Server,
                                                   moment: str) -> None:
    """While the dependencies upload (in a worker process, which gets the signal too) or while `--wait` follows
    the run on the cluster: Ctrl-C cancels it, and nothing but the one line shows."""
    kfp_server.start_delay = 120
    config = {"display_name": "Team", "schema_name": "kfp", "metadata": {
        "api_endpoint": kfp_server.endpoint, "cos_endpoint": s3_server.endpoint, "cos_bucket": s3_server.make_bucket(),
        "cos_username": s3_server.access_key, "cos_password": s3_server.secret_key}}
    (tmp_path / "team.json").write_text(json.dumps(config))
    created = elyra_proc(env, workspace, "config", "create", "team", "--from-file", str(tmp_path / "team.json"))
    assert created.returncode == 0, created.stderr
    process = start(env, workspace, "submit", "hello_pipeline/hello_pipeline.pipeline", "--runtime-config", "team",
                    "--wait")
    if moment == "uploading":
        read_until(process.stdout, "Uploading the dependencies")
    else:
        read_until(process.stdout, "Submitted to Kubeflow Pipelines")
        store, deadline = run_store(env), time.monotonic() + 60
        while store.list()[0].status != "submitted" and time.monotonic() < deadline:
            time.sleep(0.2)
        store.close()
    out, err = interrupt(process)
    assert process.returncode == 130 and err.splitlines() == [RUN_CANCELLED], out + err
    [record] = json.loads(elyra_proc(env, workspace, "runs", "--json").stdout)
    if moment == "following":
        [run] = kfp_server.runs.values()
        assert run.cancel.is_set() and record["result"]["kfp_run_id"] == run.run_id
    else:
        assert record["status"] == "cancelled", record
