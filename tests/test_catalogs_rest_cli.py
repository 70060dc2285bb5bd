"""Component catalogs through their interfaces: the REST routes of a real Jupyter server, `elyra-proc catalog` as a
real subprocess, and a catalog type of another package, really installed, found through the entry point group."""

from __future__ import annotations

import asyncio
import importlib
import json
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import api_call
from test_catalogs import COMPONENTS, ComponentServer, by_name
from test_cli import cli, private_env

from elyra_proc_ext.catalogs import ComponentCatalogs, op_id
from elyra_proc_ext.catalogs.registry import ENTRY_POINT_GROUP, connector_types

PLUGIN = Path(__file__).resolve().parent / "fixtures" / "tarball_catalog"
READ_TIMEOUT = 1.0


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"elyra_proc_ext": True}},
            "ElyraProcExt": {"catalog_read_timeout": READ_TIMEOUT}}


@pytest.fixture
def component_server() -> Iterator[ComponentServer]:
    server = ComponentServer().start()
    yield server
    server.stop()


async def test_catalog_routes_round_trip(jp_fetch: Any, jp_data_dir: Path) -> None:
    code, listing = await api_call(jp_fetch, "GET", "catalogs")
    assert code == 200 and listing["catalogs"] == []
    types = {kind["schema_name"]: kind for kind in listing["catalog_types"]}
    assert {"local-file-catalog", "local-directory-catalog", "url-catalog"} <= set(types)
    assert types["url-catalog"]["metadata_schema"]["required"] == ["runtime_type", "paths"]
    body = {"display_name": "My Components", "schema_name": "local-directory-catalog",
            "metadata": {"paths": [str(COMPONENTS)], "categories": ["mine"]}}
    response = await jp_fetch("pipeline", "catalogs", method="POST", body=json.dumps(body))
    created = json.loads(response.body)
    assert response.code == 201 and response.headers["Location"].endswith("/pipeline/catalogs/my_components")
    assert created["name"] == "my_components" and sorted(by_name(created)) == ["Count lines", "Echo text"]
    assert (jp_data_dir / "metadata" / "component-catalogs" / "my_components.json").is_file()
    assert (jp_data_dir / "elyra_proc_ext" / "catalog-cache" / "my_components.json").is_file()
    code, error = await api_call(jp_fetch, "POST", "catalogs", body=body)
    assert code == 409 and "already exists" in error["message"]
    code, error = await api_call(jp_fetch, "POST", "catalogs", body={**body, "schema_name": "nope"})
    assert code == 400 and "schema_name must name a catalog type" in error["message"]
    code, error = await api_call(jp_fetch, "POST", "catalogs", body={**body, "metadata": {"paths": "x"}})
    assert code == 400 and "metadata.paths: 'x' is not of type 'array'" in error["message"]
    code, error = await api_call(jp_fetch, "POST", "catalogs", body={**body, "display_name": 3})
    assert code == 400 and "display_name" in error["message"]
    update = {**created, "metadata": {**created["metadata"], "include_subdirs": True}}
    code, updated = await api_call(jp_fetch, "PUT", "catalogs", "my_components", body=update)
    assert code == 200 and "Upper text" in by_name(updated) and len(updated["errors"]) == 2
    code, shown = await api_call(jp_fetch, "GET", "catalogs", "my_components")
    assert code == 200 and shown["component_count"] == 3 and shown["metadata"]["categories"] == ["mine"]
    code, refreshed = await api_call(jp_fetch, "POST", "catalogs", "my_components", "refresh")
    assert code == 200 and refreshed["refreshed"] >= shown["refreshed"]
    for method, path in (("GET", ()), ("PUT", ()), ("DELETE", ()), ("POST", ("refresh",))):
        payload = update if method == "PUT" else None
        code, error = await api_call(jp_fetch, method, "catalogs", "nothing", *path, body=payload)
        assert code == 404 and "does not exist" in error["message"], (method, error)
        code, error = await api_call(jp_fetch, method, "catalogs", "bad name!", *path, body=payload)
        assert code == 400 and "not a valid component catalog name" in error["message"], (method, error)
    code, _ = await api_call(jp_fetch, "DELETE", "catalogs", "my_components")
    assert code == 204 and not (jp_data_dir / "elyra_proc_ext" / "catalog-cache" / "my_components.json").exists()


@pytest.fixture
def elyra_catalog(jp_data_dir: Path) -> str:
    """A catalog file as Elyra writes it, there before the server starts, never read by this extension."""
    directory = jp_data_dir / "metadata" / "component-catalogs"
    directory.mkdir(parents=True)
    (directory / "from_elyra.json").write_text(json.dumps({
        "display_name": "From Elyra", "schema_name": "local-directory-catalog",
        "metadata": {"runtime_type": "KUBEFLOW_PIPELINES", "categories": [], "paths": [str(COMPONENTS)]}}))
    return "from_elyra"


async def test_catalogs_found_at_start_are_read_in_the_background(elyra_catalog: str, jp_fetch: Any) -> None:
    deadline = time.monotonic() + 30
    while True:
        code, shown = await api_call(jp_fetch, "GET", "catalogs", elyra_catalog)
        if shown["refreshed"] is not None or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert code == 200 and sorted(by_name(shown)) == ["Count lines", "Echo text"]


async def test_a_slow_catalog_url_holds_neither_the_server_nor_the_refresh(
        jp_fetch: Any, component_server: ComponentServer) -> None:
    """A refresh waiting on a URL that never answers runs off the event loop: other requests are answered at once,
    and the refresh itself ends after the read time-out, naming the URL, with the other URLs read."""
    hanging, good = f"{component_server.url}/hang/a.yaml", f"{component_server.url}/echo_text.yaml"
    body = {"display_name": "Remote", "schema_name": "url-catalog", "metadata": {"paths": [good]}}
    assert (await api_call(jp_fetch, "POST", "catalogs", body=body))[0] == 201
    code, _ = await api_call(jp_fetch, "PUT", "catalogs", "remote",
                             body={**body, "metadata": {"paths": [good, hanging]}})
    assert code == 200
    started = time.monotonic()
    refresh = asyncio.ensure_future(api_call(jp_fetch, "POST", "catalogs", "remote", "refresh"))
    await asyncio.sleep(0.2)
    code, _ = await api_call(jp_fetch, "GET", "catalogs")
    assert code == 200 and not refresh.done() and time.monotonic() - started < READ_TIMEOUT
    code, refreshed = await refresh
    assert code == 200 and refreshed["errors"] == [f"{hanging}: did not answer within 1 s."]
    assert list(by_name(refreshed)) == ["Echo text"] and time.monotonic() - started < 3 * READ_TIMEOUT


async def test_url_catalog_secrets_are_masked_in_answers(jp_fetch: Any, jp_data_dir: Path,
                                                         component_server: ComponentServer) -> None:
    body = {"name": "private", "display_name": "Private", "schema_name": "url-catalog", "metadata": {
        "paths": [f"{component_server.url}/echo_text.yaml".replace("//", "//me:in-url@")], "auth_id": "me",
        "auth_password": "p4ssw0rd"}}
    code, created = await api_call(jp_fetch, "POST", "catalogs", body=body)
    assert code == 201 and created["component_count"] == 1
    code, listing = await api_call(jp_fetch, "GET", "catalogs")
    for answer in (created, listing):
        assert "p4ssw0rd" not in json.dumps(answer) and "in-url" not in json.dumps(answer)
    assert created["metadata"]["auth_password"] == "********"
    stored = json.loads((jp_data_dir / "metadata" / "component-catalogs" / "private.json").read_text())
    assert stored["metadata"]["auth_password"] == "p4ssw0rd"


@pytest.fixture
def plugin_installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """`pip install` the example catalog type into a private target and make its entry point visible here."""
    target = tmp_path_factory.mktemp("tarball_site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "--target", str(target), str(PLUGIN)],
                   check=True, capture_output=True, text=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(target))
        importlib.invalidate_caches()
        connector_types.cache_clear()
        yield
    for module in [name for name in sys.modules if name.split(".")[0] == "elyra_proc_tarball_catalog"]:
        del sys.modules[module]
    importlib.invalidate_caches()
    connector_types.cache_clear()


def test_a_plugged_in_catalog_type(plugin_installed: None, tmp_path: Path) -> None:
    from importlib.metadata import entry_points

    assert [entry.name for entry in entry_points(group=ENTRY_POINT_GROUP)] == ["tarball-catalog"]
    archive = tmp_path / "components.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(COMPONENTS / "echo_text.yaml", "lib/echo_text.yaml")
        tar.add(COMPONENTS / "broken" / "unclosed.yaml", "lib/unclosed.yaml")
    catalogs = ComponentCatalogs(tmp_path / "catalogs", tmp_path / "data")
    assert "tarball-catalog" in [kind["schema_name"] for kind in catalogs.types()]
    answer = catalogs.save({"display_name": "Packed", "schema_name": "tarball-catalog",
                            "metadata": {"archive": str(archive)}})
    assert by_name(answer) == {"Echo text": op_id("tarball-catalog", {"member": "lib/echo_text.yaml"}, ("member",))}
    assert answer["errors"] == [f"{archive}!lib/unclosed.yaml: not valid YAML at line 3, column 1: expected the node "
                                "content, but found '<stream end>'."]
    archive.write_bytes(b"not gzip")
    assert "not a readable .tar.gz archive" in catalogs.refresh("packed")["errors"][0]
    with pytest.raises(Exception, match="metadata: 'archive' is a required property"):
        catalogs.save({"display_name": "Empty", "schema_name": "tarball-catalog", "metadata": {}})


def test_catalog_commands(tmp_path: Path) -> None:
    env = private_env(tmp_path)
    added = cli(env, tmp_path, "catalog", "add", "mine", "--type", "local-file-catalog", "--base-path", str(COMPONENTS),
                "--path", "echo_text.yaml", "--path", "count_lines.yaml", "--category", "team", "--json")
    assert added.returncode == 0, added.stderr
    assert sorted(by_name(json.loads(added.stdout))) == ["Count lines", "Echo text"]
    listed = cli(env, tmp_path, "catalog", "list")
    assert listed.returncode == 0 and listed.stdout.split()[:4] == ["mine", "local-file-catalog", "2", "components"]
    env["CATALOG_TOKEN"] = "t0ken-value"
    remote = cli(env, tmp_path, "catalog", "add", "remote", "--type", "url-catalog", "--path", "http://127.0.0.1:1/x.yaml",
                 "--set", "auth_id=reader", "--set-from-env", "auth_password=CATALOG_TOKEN")
    assert remote.returncode == 1 and "auth_password: ********" in remote.stdout
    assert "remote: http://127.0.0.1:1/x.yaml: cannot be read" in remote.stderr
    assert "t0ken-value" not in remote.stdout + remote.stderr
    updated = cli(env, tmp_path, "catalog", "update", "mine", "--path", "nested/upper_text.yaml", "--json")
    assert updated.returncode == 0 and list(by_name(json.loads(updated.stdout))) == ["Upper text"]
    shown = cli(env, tmp_path, "catalog", "show", "mine")
    assert shown.returncode == 0 and "categories: ['team']" in shown.stdout and "Upper text" in shown.stdout
    refreshed = cli(env, tmp_path, "catalog", "refresh", "--json")
    assert refreshed.returncode == 1 and [c["name"] for c in json.loads(refreshed.stdout)] == ["mine", "remote"]
    removed = cli(env, tmp_path, "catalog", "remove", "remote")
    assert removed.returncode == 0 and cli(env, tmp_path, "catalog", "refresh").returncode == 0
    for args, status, message in ((("catalog", "show"), 2, "catalog show needs a catalog name"),
                                  (("catalog", "show", "gone"), 1, "Component catalog 'gone' does not exist"),
                                  (("catalog", "add", "x", "--type", "nope"), 1, "schema_name must name a catalog")):
        result = cli(env, tmp_path, *args)
        assert result.returncode == status and message in result.stderr, result.stderr
