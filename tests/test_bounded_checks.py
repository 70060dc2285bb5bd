"""Checks with bounded cost and values no process can receive (issue 9).

Cycle detection is linear in nodes plus links; dependency globs stop after a set number of visited paths; values
holding NUL or lone surrogates are refused naming node and field; and on the real server a check has a time limit,
is stopped when its client goes away, and one user cannot hold every check worker.
"""

from __future__ import annotations

import asyncio
import gc
import glob
import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import api_call, node, pipeline_document
from hypothesis import given, settings
from hypothesis import strategies as st
from jupyter_server.auth.identity import IdentityProvider, User
from tornado.httpclient import HTTPClientError

from elyra_proc_ext import globbing
from elyra_proc_ext.globbing import PatternTooBroadError, bounded_glob
from elyra_proc_ext.manager import ProcessorManager
from elyra_proc_ext.model import Node, Pipeline, strongly_connected
from elyra_proc_ext.parsing import parse
from elyra_proc_ext.procfs import descendants, stat_fields
from elyra_proc_ext.storage import build_archive


def graph(links: dict[str, list[str]]) -> Pipeline:
    """A pipeline whose node `id` has the parents `links[id]`."""
    return Pipeline("p", "p", {node_id: Node(node_id, node_id, "execute-python-node", "python", list(parents))
                               for node_id, parents in links.items()})


def reaches_itself(pipeline: Pipeline, start: str) -> bool:
    """The reference: a search from `start` along parent links that comes back to it."""
    pending, seen = list(pipeline.nodes[start].parent_ids), set()
    while pending:
        current = pending.pop()
        if current == start:
            return True
        if current in pipeline.nodes and current not in seen:
            seen.add(current)
            pending.extend(pipeline.nodes[current].parent_ids)
    return False


# --- cycles --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("links", "in_cycles"), [
    ({"a": ["c"], "b": ["a"], "c": ["b"], "d": ["c"]}, ["a", "b", "c"]),  # a ring with a tail
    ({"a": ["c", "e"], "b": ["a"], "c": ["b"], "d": ["a"], "e": ["d"], "f": ["a"]}, ["a", "b", "c", "d", "e"]),  # 8
    ({"a": ["a"], "b": ["a"]}, ["a"]),  # a self-link
    ({"a": [], "b": ["a"], "c": ["a", "b"]}, []),  # a diamond-ish DAG
    ({"a": ["b"], "b": ["a"], "c": ["d"], "d": ["c"], "e": ["b", "d"]}, ["a", "b", "c", "d"]),  # two rings
    ({"a": ["ghost"], "b": ["a"]}, []),  # a dangling link is not a cycle
])
def test_nodes_in_cycles_on_known_shapes(links: dict[str, list[str]], in_cycles: list[str]) -> None:
    assert [found.id for found in graph(links).nodes_in_cycles()] == in_cycles


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 12).flatmap(lambda size: st.lists(
    st.lists(st.integers(0, size - 1), max_size=3), min_size=size, max_size=size)))
def test_nodes_in_cycles_match_a_search_from_each_node(parents: list[list[int]]) -> None:
    pipeline = graph({f"n{index}": [f"n{parent}" for parent in own] for index, own in enumerate(parents)})
    expected = [node_id for node_id in pipeline.nodes if reaches_itself(pipeline, node_id)]
    assert [found.id for found in pipeline.nodes_in_cycles()] == expected


def test_cycle_behind_a_supernode_names_the_nodes_inside_it(manager: ProcessorManager) -> None:
    """a -> supernode(c) -> b -> a: the cycle runs through the subflow's bindings."""
    document = pipeline_document("p", [node("a", "a.py", ("b",)), node("b", "b.py", ("super",))])
    document["pipelines"][0]["nodes"].append({
        "id": "super", "type": "super_node", "subflow_ref": {"pipeline_id_ref": "sub"},
        "inputs": [{"id": "in", "links": [{"id": "a-super", "node_id_ref": "a"}]}], "outputs": [{"id": "out"}]})
    exit_binding = {"id": "exit", "type": "binding", "inputs": [{"id": "in", "links": [{"id": "c-exit",
                                                                                         "node_id_ref": "c"}]}]}
    document["pipelines"].append({"id": "sub", "app_data": {"version": 8}, "nodes": [
        {"id": "entry", "type": "binding", "outputs": [{"id": "out"}]}, node("c", "c.py", ("entry",)),
        exit_binding]})
    [cycle] = [issue for issue in manager.check(document, base_dir="").issues if issue.type == "circularReference"]
    assert sorted(cycle.value) == ["a", "b", "c"] and all(f"'{name}'" in cycle.message for name in "abc")


class CountedLinks(dict[str, list[str]]):
    """Successor lists that count every look-up, to measure the work a graph walk does."""

    lookups = 0

    def __getitem__(self, key: str) -> list[str]:
        self.lookups += 1
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.lookups += 1
        return super().__contains__(key)


@pytest.mark.parametrize("shape", ["ring", "chain", "figure-eight", "star"])
def test_strongly_connected_looks_at_each_node_and_link_a_bounded_number_of_times(shape: str) -> None:
    """What cycle detection does on 20,000 nodes: at most two look-ups per node and link (the search it replaced
    went round the whole ring from every node)."""
    size = 20_000
    links = CountedLinks({f"n{index}": [f"n{index + 1}"] if index + 1 < size else [] for index in range(size)})
    if shape == "ring":
        links[f"n{size - 1}"] = ["n0"]
    elif shape == "figure-eight":
        links[f"n{size - 1}"] = ["n0", f"n{size // 2}"]
        links[f"n{size // 2}"].append("n0")
    elif shape == "star":
        links["n0"] = [f"n{index}" for index in range(1, size)] + ["n0"]
    link_count = sum(len(targets) for targets in dict.values(links))
    links.lookups = 0
    components = list(strongly_connected(list(links), links))
    assert sorted(node_id for component in components for node_id in component) == sorted(links)
    assert links.lookups <= 2 * (size + link_count)


def test_parsing_a_long_chain_of_supernode_bindings_stays_linear(manager: ProcessorManager) -> None:
    """Many nodes behind one long chain of bindings: each resolves its parents once, not once per node."""
    def document(size: int) -> dict[str, Any]:
        chain = [{"id": f"b{index}", "type": "binding", "inputs": [{"id": "in", "links": [
            {"id": f"l{index}", "node_id_ref": f"b{index - 1}" if index else "root"}]}]} for index in range(size)]
        children = [node(f"c{index}", "a.py", (f"b{size - 1}",)) for index in range(size)]
        return pipeline_document("p", [node("root", "a.py"), *chain, *children])

    def best_time(size: int) -> float:
        doc, times = document(size), []
        for _ in range(3):
            gc.collect()  # a collection during one run must not decide the ratio
            started = time.perf_counter()
            parsed = parse(doc, base_dir="")
            times.append(time.perf_counter() - started)
        assert parsed.pipeline is not None and parsed.pipeline.nodes[f"c{size - 1}"].parent_ids == ["root"]
        return min(times)

    assert best_time(4_000) / best_time(400) < 30


# --- dependency globs ----------------------------------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Files, hidden ones, a folder with glob characters in its name and a link to a folder."""
    base = tmp_path / "tree"
    for relative in ("a/b/c.py", "a/.hidden/x.py", "a/b/.y.py", "z.py", "a/d/e/f.txt", "a/d/e/g.py", ".top/q.py",
                     "b[1]/k.py", "a/d/e/e/h.py"):
        (base / relative).parent.mkdir(parents=True, exist_ok=True)
        (base / relative).write_text("x")
    (base / "a" / "d" / "link").symlink_to(base / "a" / "b")
    return base


@pytest.mark.parametrize("recursive", [True, False])
@pytest.mark.parametrize("pattern", ["*.py", "**/*.py", "a/**", "**", "a/*/*.py", "a/**/*.py", "**/**/*.py",
                                     "a/.*/*.py", "a/b/.*", "*/b/c.py", "a/b/c.py", "a/**/e", "?.py", "b[[]1]/*",
                                     "**/e/**", "nope/*", "a/*", "a/**/e/**/*.py", "**/.hidden/*", ".*/*"])
def test_bounded_glob_matches_as_glob_does(tree: Path, pattern: str, recursive: bool) -> None:
    expected = sorted({match.rstrip("/") for match in glob.glob(pattern, root_dir=tree, recursive=recursive)})
    assert bounded_glob(tree, pattern, recursive=recursive) == expected


def deep_tree(base: Path, depth: int, width: int = 1) -> Path:
    """`width` folders per level, `depth` levels; one `leaf.py` at the bottom of the first branch."""
    level = [base]
    for depth_index in range(depth):
        level = [parent / f"d{depth_index}_{index}" for parent in level[:1] for index in range(width)] + level[1:]
        for folder in level:
            folder.mkdir(parents=True, exist_ok=True)
    (level[0] / "leaf.py").write_text("x")
    return level[0] / "leaf.py"


@pytest.mark.parametrize("pattern", ["**/**/**/**/*.py", "**/*/**/*/**/*.py", "**/d3_0/**/**/d7_0/**/*.py",
                                     "*/**/**/*/**/leaf.py"])
def test_repeated_double_stars_over_a_deep_tree_visit_each_folder_a_few_times(tmp_path: Path, pattern: str) -> None:
    """Thirty levels, three folders each: `glob` took minutes; here a few hundred paths suffice."""
    leaf = deep_tree(tmp_path, 30, width=3)
    assert bounded_glob(tmp_path, pattern, recursive=True, limit=1_000) == [leaf.relative_to(tmp_path).as_posix()]


@pytest.mark.parametrize("pattern", ["**/*", "**/**/*.nothing", "*/*/*/*/*/*", "**/d9_1/**"])
def test_a_pattern_over_too_many_paths_stops_at_the_limit(tmp_path: Path, pattern: str) -> None:
    for index in range(300):
        (tmp_path / f"f{index}").mkdir()
        (tmp_path / f"f{index}" / "d9_1").mkdir()
    with pytest.raises(PatternTooBroadError, match="matches too much"):
        bounded_glob(tmp_path, pattern, recursive=True, limit=200)


def test_a_link_loop_is_not_followed_round(tree: Path) -> None:
    (tree / "a" / "b" / "back").symlink_to(tree / "a")
    (tree / "a" / "d" / "e" / "up").symlink_to(tree)
    assert "a/b/c.py" in bounded_glob(tree, "**/*.py", recursive=True, limit=200)


@pytest.mark.parametrize("pattern", ["**/**/**/*.csv", "deep/**/*/**/*.csv", "**/*.nothing"])
def test_validation_names_node_field_and_pattern_that_matches_too_much(
        manager: ProcessorManager, monkeypatch: pytest.MonkeyPatch, pattern: str) -> None:
    monkeypatch.setattr(globbing, "MAX_VISITED_PATHS", 500)
    deep_tree(manager.root_dir / "deep", 20, width=30)
    (manager.root_dir / "a.py").write_text("")
    document = pipeline_document("p", [node("a", "a.py", dependencies=[pattern], include_subdirectories=True)])
    issues = [issue for issue in manager.check(document, base_dir="").issues if issue.fatal]
    assert [(issue.type, issue.node_id, issue.property_name, issue.value) for issue in issues] == [
        ("invalidFilePath", "a", "dependencies", pattern)]
    assert "matches too much" in issues[0].message and "name the folders or files" in issues[0].message


def test_staging_uses_the_same_bound_and_takes_each_folder_once(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "root"
    leaf = deep_tree(root / "data", 30, width=2)
    (root / "run.py").write_text("")
    monkeypatch.setattr(globbing, "MAX_VISITED_PATHS", 200)  # 61 folders, each looked at once or twice
    members = build_archive(root, "run.py", ["data/**/**/**"], True, tmp_path / "a.tar.gz")
    assert members == sorted(["run.py", leaf.relative_to(root).as_posix()])
    monkeypatch.setattr(globbing, "MAX_VISITED_PATHS", 20)
    with pytest.raises(PatternTooBroadError, match="data/\\*\\*/\\*\\*") as raised:
        build_archive(root, "run.py", ["data/**/**/*.py"], True, tmp_path / "b.tar.gz")
    copy = pickle.loads(pickle.dumps(raised.value))  # as it comes back from a staging worker process
    assert (type(copy), str(copy), copy.status) == (PatternTooBroadError, str(raised.value), 400)


# --- values no process can receive ---------------------------------------------------------------------------------

NUL, SURROGATE = "\x00", "\ud800"
UNRECEIVABLE = {  # field -> node parameters that put a NUL or a lone surrogate in it
    "env_vars": [{"env_vars": [{"env_var": f"A{NUL}B", "value": "1"}]},
                 {"env_vars": [{"env_var": "A", "value": f"x{NUL}y"}]},
                 {"env_vars": [{"env_var": "A", "value": f"x{SURROGATE}"}]},
                 {"env_vars": [{"env_var": f"A{SURROGATE}", "value": "1"}]}],
    "filename": [{"filename": f"a{NUL}.py"}, {"filename": f"a{SURROGATE}.py"}],
    "dependencies": [{"dependencies": [f"data{NUL}.csv"]}, {"dependencies": [f"*{SURROGATE}"]}],
    "outputs": [{"outputs": [f"out{NUL}.csv"]}],
    "kubernetes_secrets": [{"kubernetes_secrets": [{"env_var": "S", "name": f"secret{NUL}", "key": "k"}]}],
    "mounted_volumes": [{"mounted_volumes": [{"path": f"/mnt/{SURROGATE}", "pvc_name": "claim"}]}],
    "pipeline_parameters": [{"pipeline_parameters": [f"P{NUL}"]}],
}
CASES = [(field, parameters) for field, variants in UNRECEIVABLE.items() for parameters in variants]


def unreceivable_document(parameters: dict[str, Any]) -> dict[str, Any]:
    parameters = dict(parameters)
    filename = parameters.pop("filename", "a.py")
    return pipeline_document("p", [node("a", filename, **parameters)],
                             pipeline_parameters=[{"name": "P", "default_value": {"type": "String", "value": "1"}}])


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"elyra_proc_ext": True}}}


@pytest.mark.parametrize(("field", "parameters"), CASES)
async def test_server_refuses_values_no_process_can_receive(jp_fetch: Any, jp_root_dir: Path, field: str,
                                                            parameters: dict[str, Any]) -> None:
    (jp_root_dir / "a.py").write_text("")
    body = json.dumps(unreceivable_document(parameters)).encode()  # JSON escapes: \u0000, \ud800
    code, answer = await api_call(jp_fetch, "POST", "schedule", body=body)
    assert code == 400, answer
    errors = [issue for issue in answer["issues"] if issue["severity"] == 1]
    assert [(issue["data"]["nodeID"], issue["data"]["propertyName"]) for issue in errors] == [("a", field)]
    assert "no process can receive it" in errors[0]["message"]
    assert "\\x00" in errors[0]["message"] or "\\ud800" in errors[0]["message"]  # shown escaped, printable


@pytest.mark.parametrize("text", [f"x{NUL}y", SURROGATE])
@pytest.mark.parametrize("part", ["name", "value"])
async def test_pipeline_parameters_no_process_can_receive(jp_fetch: Any, text: str, part: str) -> None:
    parameter = {"name": "P", "default_value": {"type": "String", "value": "1"}, part: text}
    if part == "value":
        parameter["default_value"]["value"] = text
    body = json.dumps(pipeline_document("p", [node("a", "a.py")], pipeline_parameters=[parameter])).encode()
    code, answer = await api_call(jp_fetch, "POST", "schedule", body=body)
    assert code == 400
    assert any(issue["type"] == "invalidPipelineParameter" and issue["data"]["propertyName"] ==
               "pipeline_parameters" and "no process can receive it" in issue["message"]
               for issue in answer["issues"])


def elyra_proc(root: Path, *arguments: str | bytes) -> subprocess.CompletedProcess[str]:
    """`elyra-proc` in a subprocess with private Jupyter directories."""
    (root / "config").mkdir(exist_ok=True)
    env = {**os.environ, "JUPYTER_DATA_DIR": str(root / "data"), "JUPYTER_CONFIG_DIR": str(root / "config"),
           "JUPYTER_CONFIG_PATH": "", "JUPYTER_PLATFORM_DIRS": "0"}
    return subprocess.run([sys.executable, "-m", "elyra_proc_ext.cli", *arguments], cwd=root, capture_output=True,
                          text=True, encoding="utf-8", errors="replace", timeout=120, env=env)


@pytest.mark.parametrize(("field", "parameters"), [CASES[0], CASES[2], CASES[4], CASES[7]])
def test_cli_validate_exits_1_naming_node_and_field(tmp_path: Path, field: str, parameters: dict[str, Any]) -> None:
    """A subprocess each, so a few of the cases above: the check is the same code; the printing must not fail."""
    (tmp_path / "a.py").write_text("")
    (tmp_path / "p.pipeline").write_text(json.dumps(unreceivable_document(parameters)))
    result = elyra_proc(tmp_path, "validate", "p.pipeline", "--root", str(tmp_path))
    assert result.returncode == 1, result.stderr
    assert f"[node a] ({field})" in result.stdout and "no process can receive it" in result.stdout
    assert "Traceback" not in result.stderr


def test_cli_parameter_value_that_is_not_text_is_refused(tmp_path: Path) -> None:
    """A command-line value of undecodable bytes arrives as lone surrogates: refused, not passed on."""
    (tmp_path / "a.py").write_text("")
    document = pipeline_document("p", [node("a", "a.py")],
                                 pipeline_parameters=[{"name": "P", "default_value": {"type": "String", "value": ""}}])
    (tmp_path / "p.pipeline").write_text(json.dumps(document))
    result = elyra_proc(tmp_path, "run", "p.pipeline", "--root", str(tmp_path), "--param", os.fsencode("P=\udcff"))
    assert result.returncode == 1 and "no process can receive it" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


# --- checks on the server: time limit, clients that leave, one user's flood ----------------------------------------


class HeaderIdentityProvider(IdentityProvider):
    """Users named by an X-Test-User header, as behind an authenticating proxy."""

    def get_user(self, handler: Any) -> Any:
        name = handler.request.headers.get("X-Test-User")
        return User(name) if name else super().get_user(handler)


def slow_document(root: Path, nodes: int = 1500) -> dict[str, Any]:
    """Legal, but slow to check: every node's dependency pattern walks a wide tree to find nothing."""
    for folder in range(40):
        (root / "wide" / f"f{folder}").mkdir(parents=True, exist_ok=True)
        for index in range(60):
            (root / "wide" / f"f{folder}" / f"{index}.txt").touch()
    (root / "a.py").write_text("")
    return pipeline_document("slow", [node(f"n{index}", "a.py", dependencies=["wide/**/*.nothing"],
                                           include_subdirectories=True) for index in range(nodes)])


def cpu_ticks() -> int:
    """CPU time (clock ticks, user + system) used so far by every process below this one."""
    total = 0
    for pid in descendants(os.getpid()):
        fields = stat_fields(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])
    return total


async def workers_go_idle(within: float = 4.0) -> bool:
    """Whether the worker processes stop using CPU (under 0.1 s of CPU in a half-second window) within `within`."""
    ticks_per_second = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        before = cpu_ticks()
        await asyncio.sleep(0.5)
        if cpu_ticks() - before < ticks_per_second / 10:
            return True
    return False


LIMITED = {"ServerApp": {"jpserver_extensions": {"elyra_proc_ext": True}, "disable_check_xsrf": True,
                         "identity_provider_class": HeaderIdentityProvider},
           "ProcessorManager": {"check_timeout": 1.5, "check_processes": 2, "checks_queued_per_user": 0}}


async def post_as(jp_fetch: Any, user: str, document: Any, **options: Any) -> Any:
    return await jp_fetch("pipeline", "validate", method="POST", body=json.dumps(document), raise_error=False,
                          headers={"X-Test-User": user}, **options)


@pytest.mark.parametrize("jp_server_config", [LIMITED])
async def test_a_slow_check_is_stopped_at_its_time_limit(jp_fetch: Any, jp_root_dir: Path) -> None:
    started = time.monotonic()
    response = await post_as(jp_fetch, "ann", slow_document(jp_root_dir))
    answer = json.loads(response.body)
    assert response.code == 422, answer
    assert "took longer than 1.5 s" in answer["message"] and "check_timeout" in answer["message"]
    assert "dependency" in answer["message"]
    assert time.monotonic() - started < 15
    assert await workers_go_idle(), "the stopped check kept its worker busy"
    quick = await post_as(jp_fetch, "ann", pipeline_document("p", [node("a", "a.py")]))
    assert quick.code == 200 and json.loads(quick.body)["valid"] is True


@pytest.mark.parametrize("jp_server_config", [LIMITED])
async def test_a_check_whose_client_left_is_stopped(jp_fetch: Any, jp_root_dir: Path) -> None:
    document = slow_document(jp_root_dir)
    with pytest.raises(HTTPClientError):  # the client gives up after half a second
        await jp_fetch("pipeline", "validate", method="POST", body=json.dumps(document), request_timeout=0.5,
                       headers={"X-Test-User": "ann"})
    assert await workers_go_idle(within=3.0), "the abandoned check kept its worker busy"
    # Ann has one check at a time: a 200 (not 429) shows her abandoned check no longer counts.
    quick = await post_as(jp_fetch, "ann", pipeline_document("p", [node("a", "a.py")]))
    assert quick.code == 200


@pytest.mark.parametrize("jp_server_config", [LIMITED])
async def test_one_users_flood_gets_429_while_others_are_served(jp_fetch: Any, jp_root_dir: Path) -> None:
    document = slow_document(jp_root_dir)
    flood = [asyncio.ensure_future(post_as(jp_fetch, "mallory", document)) for _ in range(6)]
    await asyncio.sleep(0.3)
    other = await post_as(jp_fetch, "bob", pipeline_document("p", [node("a", "a.py")]))
    assert other.code == 200 and json.loads(other.body)["valid"] is True, (other.code, other.body)
    status = await jp_fetch("api", "status")
    assert status.code == 200
    answers = await asyncio.gather(*flood)
    refused = [answer for answer in answers if answer.code == 429]
    # One check at a time for mallory: most are refused (a slot freed by the 422 may serve a late arrival).
    codes = [answer.code for answer in answers]
    assert len(refused) >= 3 and set(codes) == {422, 429}, codes
    assert all(answer.headers["Retry-After"] == "1" for answer in refused)
    assert "running or waiting" in json.loads(refused[0].body)["message"]


@pytest.mark.parametrize("jp_server_config", [LIMITED])
async def test_requests_bearing_the_server_token_share_one_limit(jp_fetch: Any, jp_root_dir: Path) -> None:
    """Requests that carry the server's token get a new anonymous user each: the token itself is the owner."""
    document = slow_document(jp_root_dir)
    flood = [asyncio.ensure_future(jp_fetch("pipeline", "validate", method="POST", body=json.dumps(document),
                                            raise_error=False)) for _ in range(3)]
    codes = sorted(answer.code for answer in await asyncio.gather(*flood))
    assert codes == [422, 429, 429]
