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

TOKEN = "live-server-token"


class Server:
    """A `jupyter server` subprocess with the extension, on a private data dir that outlives restarts."""

    def __init__(self, root: Path, home: Path) -> None:
        self.root, self.home = root, home
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> Server:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "HOME": str(self.home), "JUPYTER_DATA_DIR": str(self.home / "data"),
               "JUPYTER_CONFIG_DIR": str(self.home / "config"), "JUPYTER_RUNTIME_DIR": str(self.home / "runtime")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", "--allow-root", "--no-browser", f"--port={port}",
             "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={self.root}",
             "--ServerApp.jpserver_extensions={'elyra_proc_ext': True}"],
            env=env, stdout=subprocess.DEVNULL, stderr=(self.home / "server.log").open("ab"), start_new_session=True)
        self.url = f"http://127.0.0.1:{port}"
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
        parents: dict[int, int] = {}
        for entry in Path("/proc").glob("[0-9]*"):
            fields = process_stat(int(entry.name))
            if fields is not None:
                parents[int(entry.name)] = int(fields[1])
        found, frontier = [], [self.process.pid]
        while frontier:
            children = [pid for pid, parent in parents.items() if parent in frontier]
            found += children
            frontier = children
        return found

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




def process_stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, parent, ... CPU times); None once it is gone.
    The name, in parentheses, may itself hold spaces and parentheses, hence the split at the last ')'."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def running(pid: int) -> bool:
    """Whether the process exists and is not a zombie (an exited child its new parent has not reaped yet)."""
    fields = process_stat(pid)
    return fields is not None and fields[0] != "Z"
