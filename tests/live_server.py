"""A real `jupyter server` process with the extension, for tests and scripts that kill, restart or load it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from elyra_proc_ext.procfs import descendants

TOKEN = "live-server-token"


class Server:
    """A `jupyter server` subprocess with the extension, on a private data dir that outlives restarts."""

    def __init__(self, root: Path, home: Path) -> None:
        self.root, self.home = root, home
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self, *settings: str, base_url: str = "/") -> Server:
        """Start the server, with extra command-line `settings` such as `--ProcessorManager.check_timeout=5`, under
        `base_url` (such as JupyterHub's `/user/NAME/`); `url` then ends with it, without the last slash."""
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "HOME": str(self.home), "JUPYTER_DATA_DIR": str(self.home / "data"),
               "JUPYTER_CONFIG_DIR": str(self.home / "config"), "JUPYTER_RUNTIME_DIR": str(self.home / "runtime")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", "--allow-root", "--no-browser", f"--port={port}",
             "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={self.root}",
             f"--ServerApp.base_url={base_url}", "--ServerApp.jpserver_extensions={'elyra_proc_ext': True}",
             *settings],
            env=env, stdout=subprocess.DEVNULL, stderr=(self.home / "server.log").open("ab"), start_new_session=True)
        self.url = f"http://127.0.0.1:{port}{base_url.rstrip('/')}"
        wait_for(lambda: self._answers(), 60, "server start")
        return self

    def _answers(self) -> bool:
        try:
            return requests.get(f"{self.url}/api/status", headers=self.headers, timeout=2).ok
        except requests.ConnectionError:
            return False

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {TOKEN}"}

    def call(self, method: str, path: str, body: Any = None, **params: str) -> Any:
        response = requests.request(method, f"{self.url}/pipeline/{path}", json=body, params=params,
                                    headers=self.headers, timeout=60)
        assert response.status_code < 500, response.text
        return response.json()

    def descendants(self) -> list[int]:
        """Processes started by the server (worker processes, their forkserver), from /proc."""
        assert self.process is not None
        return list(descendants(self.process.pid))

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)  # the server only: node processes have sessions of their own
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
