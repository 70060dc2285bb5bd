"""The Jupyter server extension: its settings, its long-lived objects and its route table, on one screen."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import url_path_join
from traitlets import Float, Int, Unicode, default

from .catalogs import ComponentCatalogs, ReadLimits, default_catalogs_dir
from .handlers import ROUTES
from .manager import ProcessorManager, create_manager, default_data_dir, default_runtime_configs_dir
from .redaction import redact_credentials


class CredentialFilter(logging.Filter):
    """Masks credentials written inside URLs in a log record, whoever logs it: libraries (kfp, urllib3, botocore,
    tornado) repeat the endpoint URLs they were given, in messages and in exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit: left for the handler to report, as logging does
            return True
        if "@" in message:
            record.msg, record.args = redact_credentials(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and "@" in record.exc_text:
            record.exc_text = redact_credentials(record.exc_text)
        return True


def redact_every_log_record() -> None:
    """Apply `CredentialFilter` to every record this process creates. A filter on a logger misses its child
    loggers' records, and one on handlers misses handlers added later, so it runs where records are made."""
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "redacts_credentials", False):
        return
    credential_filter = CredentialFilter()

    def make_redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        credential_filter.filter(record)
        return record

    make_redacted_record.redacts_credentials = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make_redacted_record)


class ElyraProcExt(ExtensionApp):
    """Runs Elyra pipelines from JupyterLab on the local machine, Kubeflow Pipelines or plugged-in runtimes."""

    name = "elyra_proc_ext"
    load_other_extensions = True

    data_dir = Unicode(config=True, help="Where run records (runs.sqlite) and run artifacts (runs/) are kept. "
                                         "Default: <jupyter data dir>/elyra_proc_ext.")
    runtime_configs_dir = Unicode(config=True, help="Directory of runtime configurations, in Elyra's format. "
                                                    "Default: <jupyter data dir>/metadata/runtimes.")
    catalogs_dir = Unicode(config=True, help="Directory of component catalogs, in Elyra's format. "
                                             "Default: <jupyter data dir>/metadata/component-catalogs.")
    catalog_read_timeout = Float(ReadLimits.seconds, config=True,
                                 help="Seconds one catalog entry (a URL) may take to read when a catalog is added or "
                                      "refreshed; past it the entry is skipped and the answer says so.")

    max_request_bytes = Int(8 * 1024 * 1024, config=True,
                            help="Largest request body accepted under /pipeline/ (413 beyond, before parsing).")

    @default("data_dir")
    def _default_data_dir(self) -> str:
        return str(default_data_dir())

    @default("runtime_configs_dir")
    def _default_runtime_configs_dir(self) -> str:
        return str(default_runtime_configs_dir())

    @default("catalogs_dir")
    def _default_catalogs_dir(self) -> str:
        return str(default_catalogs_dir())

    def initialize_settings(self) -> None:
        redact_every_log_record()
        root_dir = Path(self.serverapp.root_dir).expanduser().resolve()
        manager = create_manager(root_dir, Path(self.data_dir), Path(self.runtime_configs_dir), parent=self,
                                 catalogs_dir=Path(self.catalogs_dir))
        interrupted = manager.store.mark_interrupted()
        if interrupted:
            self.log.warning("Marked %d run(s) left unfinished by a stopped server as interrupted.", len(interrupted))
        manager.workers.warm_up()
        self.settings["elyra_proc_ext_manager"] = manager
        catalogs = ComponentCatalogs(Path(self.catalogs_dir), Path(self.data_dir),
                                     ReadLimits(self.catalog_read_timeout))
        threading.Thread(target=catalogs.read_unread, name="elyra-proc-catalogs", daemon=True).start()
        self.settings["elyra_proc_ext_catalogs"] = catalogs
        self.settings["elyra_proc_ext_max_request_bytes"] = self.max_request_bytes

    def initialize_handlers(self) -> None:
        self.handlers.extend((url_path_join("/", route), handler) for route, handler in ROUTES)

    async def stop_extension(self) -> None:
        manager: ProcessorManager = self.settings["elyra_proc_ext_manager"]
        await manager.shutdown()
