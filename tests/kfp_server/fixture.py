"""The `kfp_server` pytest fixture: a fresh KfpTestServer per test (startup is a socket bind and a thread).

The root conftest registers this module as a plugin. The fixture is *named* `kfp_server`, and the
function has another name so that test parameters called `kfp_server` do not trip ruff's F811 (redefinition).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .server import KfpTestServer


@pytest.fixture(name="kfp_server")
def kfp_server_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[KfpTestServer]:
    """A started server with default options; tests set attributes (secrets, fail, hang, ...) as they need.

    kfp.Client reads and writes `~/.config/kfp/context.json` (a saved namespace skips the healthz call and changes
    which namespace is used), so it is pointed at this test's directory to keep tests independent of the machine.
    """
    try:
        import kfp

        monkeypatch.setattr(kfp.Client, "_LOCAL_KFP_CONTEXT", str(tmp_path / "kfp-context.json"))
    except ImportError:
        pass
    for name in ("KF_PIPELINES_ENDPOINT", "KF_PIPELINES_DEFAULT_EXPERIMENT_NAME",
                 "KF_PIPELINES_OVERRIDE_EXPERIMENT_NAME"):
        monkeypatch.delenv(name, raising=False)
    server = KfpTestServer(workdir=tmp_path / "kfp-server").start()
    try:
        yield server
    finally:
        server.stop()
