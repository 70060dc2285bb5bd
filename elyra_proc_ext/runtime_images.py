"""Runtime images where Elyra keeps them: `<jupyter data dir>/metadata/runtime-images/<name>.json`.

Each file is `{"display_name", "schema_name": "runtime-image", "metadata": {"image_name", "pull_policy"?, ...}}`.
Every directory of `jupyter_path("metadata", "runtime-images")` is read, the first holding a name wins (the user's
data dir before the environment's and the system's), as in Elyra. The editor offers these images; a file that
cannot be read or is not a runtime image is skipped with a warning naming it, never an error for the caller.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_path

SCHEMA_NAME = "runtime-image"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuntimeImage:
    name: str
    display_name: str
    image_name: str
    pull_policy: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = {"name": self.name, "display_name": self.display_name, "image_name": self.image_name}
        return data | ({"pull_policy": self.pull_policy} if self.pull_policy else {})


def image_directories() -> list[Path]:
    return [Path(directory) for directory in jupyter_path("metadata", "runtime-images")]


def _read(path: Path) -> RuntimeImage | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        log.warning("Skipping runtime image %s: it cannot be read (%s).", path, error)
        return None
    if not isinstance(data, dict):
        data = {}
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    image_name = metadata.get("image_name")
    if data.get("schema_name", SCHEMA_NAME) != SCHEMA_NAME or not isinstance(image_name, str) or not image_name:
        log.warning("Skipping runtime image %s: it is not a runtime image ({\"schema_name\": \"%s\", \"metadata\": "
                    "{\"image_name\": ...}}).", path, SCHEMA_NAME)
        return None
    pull_policy = metadata.get("pull_policy")
    display_name = data.get("display_name")
    return RuntimeImage(path.stem, display_name if isinstance(display_name, str) and display_name else path.stem,
                        image_name, pull_policy if isinstance(pull_policy, str) else None)


def load_runtime_images(directories: Iterable[Path] | None = None) -> list[RuntimeImage]:
    """The runtime images of `directories` (Jupyter's by default), by display name."""
    images: dict[str, RuntimeImage] = {}
    for directory in image_directories() if directories is None else directories:
        try:
            paths = sorted(directory.glob("*.json")) if directory.is_dir() else []
        except OSError as error:
            log.warning("Skipping runtime images in %s: %s.", directory, error)
            continue
        for path in paths:
            if path.stem not in images and (image := _read(path)) is not None:
                images[path.stem] = image
    return sorted(images.values(), key=lambda image: (image.display_name.casefold(), image.name))


async def runtime_images() -> list[RuntimeImage]:
    """`load_runtime_images` off the event loop: the data dirs may be on slow or network storage."""
    return await asyncio.to_thread(load_runtime_images)
