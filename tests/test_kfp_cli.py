"""`elyra-proc config / submit / export / validate` for Kubeflow Pipelines, as a subprocess, against the KFP API test
server (tests/kfp_server, a stand-in) and a real S3 server (moto_server)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLE
from kfp_server import KfpTestServer
from s3_server import S3Server

SOURCE = "hello_pipeline/hello_pipeline.pipeline"
PASSWORD_VARIABLE = "TEST_COS_PASSWORD"


@pytest.fixture
def env(tmp_path: Path, s3_server: S3Server) -> dict[str, str]:
    (tmp_path / "config").mkdir()
    return {**os.environ, "HOME": str(tmp_path / "home"), "JUPYTER_DATA_DIR": str(tmp_path / "data"),
            "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_CONFIG_PATH": "", "JUPYTER_PLATFORM_DIRS": "0",
            PASSWORD_VARIABLE: s3_server.secret_key}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(EXAMPLE, root / "hello_pipeline", ignore=shutil.ignore_patterns("output"))
    return root


def cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "elyra_proc_ext.cli", *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=300)


@pytest.fixture
def configured(env: dict[str, str], root: Path, kfp_server: KfpTestServer, s3_server: S3Server) -> str:
    result = cli(env, root, "config", "create", "team", "--schema", "kfp", "--display-name", "Team cluster",
                 "--set", f"api_endpoint={kfp_server.endpoint}", "--set", f"cos_endpoint={s3_server.endpoint}",
                 "--set", f"cos_bucket={s3_server.make_bucket()}", "--set", f"cos_username={s3_server.access_key}",
                 "--set-from-env", f"cos_password={PASSWORD_VARIABLE}", "--set", "timeout=20")
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_config_commands(configured: str, env: dict[str, str], root: Path, s3_server: S3Server) -> None:
    assert "cos_password: ********" in configured and s3_server.secret_key not in configured
    stored = Path(env["JUPYTER_DATA_DIR"]) / "metadata" / "runtimes" / "team.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    shown = json.loads(cli(env, root, "config", "show", "team", "--json").stdout)
    assert shown["display_name"] == "Team cluster" and shown["metadata"]["timeout"] == 20
    listing = cli(env, root, "config", "list").stdout
    assert listing.split()[:2] == ["team", "kfp"]
    bad = cli(env, root, "config", "update", "team", "--set", "auth_type=DEX_LDAP")
    assert bad.returncode == 1 and "api_username and api_password are required" in bad.stderr
    assert cli(env, root, "config", "delete", "team").returncode == 0 and not stored.exists()
    assert cli(env, root, "config", "show").returncode == 2


def test_submit_wait_follows_the_run(configured: str, env: dict[str, str], root: Path,
                                     kfp_server: KfpTestServer, s3_server: S3Server) -> None:
    result = cli(env, root, "submit", SOURCE, "--runtime-config", "team", "--experiment", "cli", "--wait",
                 "--param", "ROWS=15")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for step in ("Checking object storage bucket", "Uploading the dependencies of 4 nodes",
                 "Compiling the pipeline", "Creating or reusing experiment 'cli'", "Submitted to Kubeflow Pipelines"):
        assert step in out, step
    assert "✔ Report: succeeded" in out and "succeeded" in out.splitlines()[-10:][0] + out
    assert "run_url:" in out and "experiment_name: cli" in out
    assert s3_server.secret_key not in out + result.stderr
    [run] = kfp_server.runs.values()
    assert run.state == "SUCCEEDED" and run.runtime_config["parameters"]["ROWS"] == 15


def test_submit_without_wait_and_export(configured: str, env: dict[str, str], root: Path) -> None:
    result = cli(env, root, "submit", SOURCE, "--runtime-config", "team", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("{"), result.stdout[:500]
    submitted = json.loads(result.stdout)
    assert submitted["status"] == "submitted" and submitted["result"]["kfp_run_id"]
    exported = cli(env, root, "export", SOURCE, "--runtime-config", "team")
    assert exported.returncode == 0, exported.stderr
    target = root / "hello_pipeline" / "hello_pipeline.yaml"
    spec = next(yaml.safe_load_all(target.read_text()))
    assert set(spec["root"]["dag"]["tasks"]) == {"generate-data", "summarize", "per-station", "report"}
    again = cli(env, root, "export", SOURCE, "--runtime-config", "team")
    assert again.returncode == 1 and "--overwrite" in again.stderr
    assert cli(env, root, "export", SOURCE, "--runtime-config", "team", "--overwrite").returncode == 0


def test_validate_with_a_runtime_configuration(configured: str, env: dict[str, str], root: Path) -> None:
    document = json.loads((root / SOURCE).read_text())
    document["pipelines"][0]["nodes"][1]["app_data"]["component_parameters"]["kubernetes_secrets"] = [
        {"env_var": "TOKEN", "name": "Not_A_Name", "key": "token"}]
    (root / "hello_pipeline" / "bad.pipeline").write_text(json.dumps(document))
    result = cli(env, root, "validate", "hello_pipeline/bad.pipeline", "--runtime-config", "team")
    assert result.returncode == 1 and "invalidKubernetesSecret [node Summarize]" in result.stdout
