"""Catalogs of component files on this machine: `local-file-catalog` (files, from an optional base directory) and
`local-directory-catalog` (every `.yaml` file of directories, optionally of their subdirectories), as Elyra reads
them. Relative paths without a base directory are under `<sys.prefix>/share/jupyter/components`, as in Elyra. Op ids
hash the path relative to the base directory, so a catalog moved to another machine keeps its ids."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, ClassVar

from jupyter_core.paths import ENV_JUPYTER_PATH

from .connector import CatalogConnector, CatalogReadError, ReadLimits

FILE_TYPES = (".yaml",)  # what Elyra reads as Kubeflow Pipelines components


def shared_components_dir() -> str:
    return os.path.join(ENV_JUPYTER_PATH[0], "components")


def absolute(path: str) -> str:
    """Elyra's `get_absolute_path`: `~` expanded; relative paths under the environment's shared components."""
    path = os.path.expanduser(path)
    return path if os.path.isabs(path) else os.path.join(shared_components_dir(), path)


def read_file(path: str, limits: ReadLimits) -> bytes:
    """A regular file's content: a FIFO or a device (`/dev/stdin`) could block or never end."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise CatalogReadError(f"{path}: not a regular file.")
        with open(path, "rb") as file:
            data = file.read(limits.max_bytes + 1)
    except FileNotFoundError:
        raise CatalogReadError(f"{path}: no such file.") from None
    except OSError as error:
        raise CatalogReadError(f"{path}: cannot be read ({error.strerror or error}).") from None
    if len(data) > limits.max_bytes:
        raise CatalogReadError(f"{path}: larger than {limits.max_bytes} bytes; component files are small.")
    return data


class LocalFileConnector(CatalogConnector):
    schema_name = "local-file-catalog"
    display_name = "Filesystem Component Catalog"
    description = "Component files on the server's file system"
    hash_keys = ("path",)
    required_metadata = ("paths",)
    metadata_properties: ClassVar[dict[str, Any]] = {
        "base_path": {"type": "string", "title": "Optional Base Directory",
                      "description": "The directory the paths are relative to"},
        "paths": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1, "title": "Paths",
                  "description": "Component specification files"},
    }

    def entries(self, metadata: dict[str, Any]) -> list[dict[str, str]]:
        base_dir = absolute(metadata["base_path"]) if metadata.get("base_path") else ""
        if base_dir and not os.path.isdir(base_dir):
            raise CatalogReadError(f"base_path {base_dir} is not a directory.")
        entries = []
        for path in metadata.get("paths", []):
            path = os.path.expanduser(path)
            directory = base_dir or ("" if os.path.isabs(path) else shared_components_dir())
            entries.append({"base_dir": directory, "path": path})
        return entries

    def read(self, entry: dict[str, str], metadata: dict[str, Any], limits: ReadLimits) -> bytes:
        return read_file(os.path.join(entry["base_dir"], entry["path"]), limits)

    def location(self, entry: dict[str, str]) -> str:
        return os.path.join(entry["base_dir"], entry["path"])


class LocalDirectoryConnector(LocalFileConnector):
    schema_name = "local-directory-catalog"
    display_name = "Directory Component Catalog"
    description = "Every component file of directories on the server's file system"
    metadata_properties: ClassVar[dict[str, Any]] = {
        "paths": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1, "title": "Directories",
                  "description": "Directories holding component specification files"},
        "include_subdirs": {"type": "boolean", "title": "Include Subdirectories",
                            "description": "Also read the files of subdirectories, recursively"},
    }

    def entries(self, metadata: dict[str, Any]) -> list[dict[str, str]]:
        pattern = "**/*" if metadata.get("include_subdirs") else "*"
        entries = []
        for directory in metadata.get("paths", []):
            base_dir = absolute(directory)
            if not os.path.isdir(base_dir):
                raise CatalogReadError(f"{base_dir} is not a directory.")
            files = sorted(str(found) for suffix in FILE_TYPES for found in Path(base_dir).glob(pattern + suffix))
            entries += [{"base_dir": base_dir, "path": relative_path(base_dir, file)} for file in files]
        return entries


def relative_path(base_dir: str, file: str) -> str:
    """`file`'s path from `base_dir`, '/'-separated: the op id's hash key, as in Elyra."""
    return Path(file).relative_to(base_dir).as_posix()
