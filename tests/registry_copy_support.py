"""A registry holding one version, and a copy of it made with ``cp -r REG/* COPY/`` (the glob leaves the hidden
``.quilt`` folder out): what tests/test_registry_copies.py and tests/test_registry_lost_quilt.py both read."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fashion_lib import registry

NAME = "fashion-mnist/data"
WAY_OUT = "restore .quilt from the original (copy a registry with 'cp -a REG COPY'"  # every lost-.quilt line says it


def published(folder: Path, sources: dict[str, Path]) -> Path:
    """``folder``, made a local registry holding one version of :data:`NAME` (message ``good``)."""
    registry.push(NAME, sources, registry=str(folder), message="good")
    return folder


def star_copy(reg: Path, copy: Path) -> Path:
    """``copy``, made with ``cp -r REG/* COPY/``: ``objects/`` copied, ``.quilt`` (manifests, pointers) left out."""
    copy.mkdir()
    subprocess.run(f"cp -r '{reg}'/* '{copy}/'", shell=True, check=True)
    assert (copy / "objects").is_dir() and not (copy / ".quilt").exists()
    return copy
