"""The README's promises that code can keep: its notebook snippet runs as written in a notebook's kernel of a real
Jupyter server and follows a run to its end; its REST table lists exactly the routes and methods the server
registers; its CLI synopsis lists every command, option and choice of `elyra-proc`. Each reads the README itself,
so editing it keeps these tests honest."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import EXAMPLE, PROJECT, load_json, write_notebook
from jupyter_client import BlockingKernelClient
from live_server import Server

from elyra_proc_ext.cli import build_parser
from elyra_proc_ext.handlers import ROUTES

README = (PROJECT / "README.md").read_text(encoding="utf-8")
SNIPPET_MARKER = "<!-- tests/test_readme.py runs the next snippet in a notebook's kernel of a real Jupyter server -->"
HTTP_METHODS = ("get", "put", "post", "delete", "patch")
BASE_URL = "/user/reader/"  # as JupyterHub serves a user's server: the snippet must find it in the server's url
# Where the snippet's notebook sits in the server root: beside the example pipeline, as the README says.
NOTEBOOK = "examples/hello_pipeline/submit.ipynb"


def section(title: str, text: str = README) -> str:
    """The Markdown `text` under the heading `title`, up to the next heading of its level or above (a `#` line in a
    code block is no heading)."""
    lines = text.splitlines(keepends=True)
    in_code, start, level = False, -1, 0
    for index, line in enumerate(lines):
        in_code ^= line.startswith("```")
        heading = None if in_code else re.match(r"(#+) (.*)", line)
        if heading and start >= 0 and len(heading.group(1)) <= level:
            return "".join(lines[start:index])
        if heading and start < 0 and heading.group(2).strip() == title:
            start, level = index + 1, len(heading.group(1))
    assert start >= 0, f"no section {title!r}"
    return "".join(lines[start:])


def fenced_block(text: str, language: str) -> str:
    """The first fenced code block of `language` in `text`."""
    match = re.search(rf"^```{language}\n(.*?)^```$", text, re.M | re.S)
    assert match, f"no ```{language} block"
    return match.group(1)


def template(path: str) -> str:
    """A route or documented path with each parameter as `{}`: `/pipeline/runs/{id}` and the route's
    `pipeline/runs/(?P<run_id>[^/]+)` are the same path."""
    return "/" + re.sub(r"\(\?P<\w+>[^)]*\)|\{\w+\}", "{}", path).lstrip("/")


def test_rest_table_lists_every_route_and_method() -> None:
    rows = [line for line in section("REST API").splitlines() if line.startswith("| `")]
    documented: set[tuple[str, str]] = set()
    for row in rows:
        endpoint = row.split("|")[1]
        path = re.search(r"/pipeline/[^`\s]*", endpoint)
        assert path, f"no path in the README's row {row!r}"
        methods = re.findall(r"\b(GET|POST|PUT|DELETE|PATCH)\b", endpoint)
        assert methods, f"no method in the README's row {row!r}"
        documented.update((method, template(path.group(0))) for method in methods)
    registered = {(method.upper(), template(route)) for route, handler in ROUTES for method in HTTP_METHODS
                  if method in vars(handler)}
    assert sorted(registered - documented) == [], "registered but missing from the README's REST table"
    assert sorted(documented - registered) == [], "in the README's REST table but not registered"


def test_cli_synopsis_lists_every_command_option_and_choice() -> None:
    synopsis: dict[str, str] = {}  # command -> its lines in the synopsis
    command = ""
    for line in fenced_block(section("Command line"), "text").splitlines():
        if line.startswith("elyra-proc "):
            command = line.split()[1]
            synopsis[command] = line
        else:
            assert command and line.startswith(" "), f"synopsis line {line!r} continues no command"
            synopsis[command] += line
    subcommands = next(action for action in build_parser()._actions
                       if isinstance(action, argparse._SubParsersAction)).choices
    assert sorted(synopsis) == sorted(subcommands)
    for name, parser in subcommands.items():
        for action in parser._actions:
            words = [max(action.option_strings, key=len)] if action.option_strings else []
            words += [str(choice) for choice in action.choices or ()]
            for word in words:
                if word != "--help":  # a whole word: `--runtime` is not found in `--runtime-config`
                    assert re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", synopsis[name]), \
                        f"`elyra-proc {name}` synopsis lacks {word}"


def test_figures_quoted_from_the_benchmarks_are_the_documented_ones() -> None:
    """Every time in seconds in a README paragraph (or list item) that cites docs/benchmarks.md is written, digit for
    digit, in the section it names there, as a time or a table cell: a new measurement cannot leave the README
    quoting the old one."""
    benchmarks = (PROJECT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    quoted: list[tuple[str, str]] = []  # (section, figure)
    for paragraph in re.split(r"\n\s*\n|\n- ", README):
        figures = re.findall(r"(?<![\d.])(\d+(?:\.\d+)?) s\b", paragraph)
        if "docs/benchmarks.md" in paragraph and figures:
            cited = re.search(r'docs/benchmarks\.md`?, "([^"]+)"', paragraph)
            assert cited, f"figures quoted from docs/benchmarks.md without naming its section:\n{paragraph}"
            quoted += [(cited.group(1), figure) for figure in figures]
    assert len(quoted) >= 5, quoted  # the parallel runs, the CLI start-up and the notebook nodes
    assert [(title, figure) for title, figure in quoted
            if not re.search(rf"(?<![\d.]){re.escape(figure)}(?: s\b| \|)", section(title, benchmarks))] == []


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A `jupyter server` under a JupyterHub-like base_url whose root holds the example where the README has it."""
    root = tmp_path / "root"
    shutil.copytree(EXAMPLE, root / Path(NOTEBOOK).parent, ignore=shutil.ignore_patterns("output"))
    server = Server(root, tmp_path / "home").start(base_url=BASE_URL)
    yield server
    server.stop()


def add_decoy_servers(server: Server, elsewhere: Path) -> None:
    """Info files of two other running servers (this process), unreachable, that the snippet must not pick: one whose
    root also holds the notebook but less closely (`/`), one deeper whose root does not hold it."""
    for number, root in enumerate((Path("/"), elsewhere)):
        port = unused_port()
        info = {"url": f"http://127.0.0.1:{port}/", "hostname": "127.0.0.1", "port": port, "sock": "", "secure": False,
                "base_url": "/", "token": "decoy", "root_dir": str(root), "password": False, "pid": os.getpid(),
                "version": "2"}
        (server.home / "runtime" / f"jpserver-decoy{number}.json").write_text(json.dumps(info))


def run_in_kernel(server: Server, notebook: str, code: str) -> str:
    """Run `code` in the kernel of a notebook session of `server` (started in the notebook's folder, as JupyterLab
    does); its printed output. Fails with the traceback when the code raises."""
    api = f"{server.url}/api/sessions"
    session = requests.post(api, json={"path": notebook, "type": "notebook", "name": "", "kernel": {"name": "python3"}},
                            headers=server.headers, timeout=60).json()
    # The server writes the kernel's connection file in its runtime directory, as for every kernel it starts.
    connection_file = server.home / "runtime" / f"kernel-{session['kernel']['id']}.json"
    client = BlockingKernelClient(connection_file=str(connection_file))
    client.load_connection_file()
    # No heartbeat: a kernel still importing IPython on a busy machine does not beat yet, which `wait_for_ready`
    # would take for a dead kernel; without it, it waits for the kernel's answer until the timeout.
    client.start_channels(hb=False)
    printed: list[str] = []

    def collect(message: dict[str, Any]) -> None:
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])

    try:
        client.wait_for_ready(timeout=60)
        reply = client.execute_interactive(code, timeout=60, output_hook=collect)
    finally:
        client.stop_channels()
        requests.delete(f"{api}/{session['id']}", headers=server.headers, timeout=60)
    content = reply["content"]
    traceback = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(content.get("traceback", [])))  # without its colours
    assert content["status"] == "ok", "".join(printed) + traceback
    return "".join(printed)


def test_notebook_snippet_runs_as_written_in_a_notebook_of_the_server(server: Server, tmp_path: Path) -> None:
    snippet = fenced_block(README[README.index(SNIPPET_MARKER):], "python")
    write_notebook(server.root / NOTEBOOK, snippet)  # what a reader does; the session runs it in that folder
    add_decoy_servers(server, tmp_path / "elsewhere" / "deeper" / "than" / "root")

    printed = run_in_kernel(server, NOTEBOOK, snippet)

    run_id = re.search(r"\b([0-9a-f]{32})\b", printed)
    assert run_id, f"no run id printed:\n{printed}"
    run = server.call("GET", f"runs/{run_id.group(1)}")
    assert run["status"] == "succeeded", run
    assert run["source"] == "examples/hello_pipeline/hello_pipeline.pipeline"
    lines = printed.splitlines()
    assert any(run["id"] in line and "succeeded" in line for line in lines), printed
    nodes = load_json(EXAMPLE / "hello_pipeline.pipeline")["pipelines"][0]["nodes"]
    labels = [node["app_data"]["label"] for node in nodes]
    assert sorted(node["name"] for node in run["nodes"]) == sorted(labels)
    for label in labels:  # each node's line names it with its status
        assert any(label in line and "succeeded" in line for line in lines), f"{label} not printed:\n{printed}"
