"""The Jupyter server extension: its settings, its long-lived objects and its route table, on one screen."""

from __future__ import annotations

from pathlib import Path

from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import url_path_join
from traitlets import Int, Unicode, default

from .handlers import ROUTES
from .manager import ProcessorManager, create_manager, default_data_dir, default_runtime_configs_dir


class ElyraProcExt(ExtensionApp):
    """Runs Elyra pipelines from JupyterLab on the local machine, Kubeflow Pipelines or plugged-in runtimes."""

    name = "elyra_proc_ext"
    load_other_extensions = True

    data_dir = Unicode(config=True, help="Where run records (runs.sqlite) and run artifacts (runs/) are kept. "
                                         "Default: <jupyter data dir>/elyra_proc_ext.")
    runtime_configs_dir = Unicode(config=True, help="Directory of runtime configurations, in Elyra's format. "
                                                    "Default: <jupyter data dir>/metadata/runtimes.")

    max_request_bytes = Int(8 * 1024 * 1024, config=True,
                            help="Largest request body accepted under /pipeline/ (413 beyond, before parsing).")

    @default("data_dir")
    def _default_data_dir(self) -> str:
        return str(default_data_dir())

    @default("runtime_configs_dir")
    def _default_runtime_configs_dir(self) -> str:
        return str(default_runtime_configs_dir())

    def initialize_settings(self) -> None:
        root_dir = Path(self.serverapp.root_dir).expanduser().resolve()
        manager = create_manager(root_dir, Path(self.data_dir), Path(self.runtime_configs_dir), parent=self)
        interrupted = manager.store.mark_interrupted()
        if interrupted:
            self.log.warning("Marked %d run(s) left unfinished by a stopped server as interrupted.", len(interrupted))
        manager.workers.warm_up()
        self.settings["elyra_proc_ext_manager"] = manager
        self.settings["elyra_proc_ext_max_request_bytes"] = self.max_request_bytes

    def initialize_handlers(self) -> None:
        self.handlers.extend((url_path_join("/", route), handler) for route, handler in ROUTES)

    async def stop_extension(self) -> None:
        manager: ProcessorManager = self.settings["elyra_proc_ext_manager"]
        await manager.shutdown()
