"""elyra_proc_ext: run Elyra pipelines from JupyterLab locally, on Kubeflow Pipelines, or on a custom runtime.

Importing the package is cheap: the server extension, kfp and papermill load only when first needed.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import ElyraProcExt

    return [{"module": "elyra_proc_ext.app", "app": ElyraProcExt}]
