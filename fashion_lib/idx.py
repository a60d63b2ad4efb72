"""Parse the upstream IDX files (optionally gzipped) into numpy arrays."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from .errors import IdxFormatError

IMAGES_MAGIC = 0x00000803  # unsigned byte, 3 dimensions
LABELS_MAGIC = 0x00000801  # unsigned byte, 1 dimension
IMAGE_SHAPE = (28, 28)


def decompressed(path: Path) -> bytes:
    """The content of ``path``, decompressed if it is gzipped (detected by its magic bytes); a damaged
    gzip file raises what :mod:`gzip` raises (``EOFError``, ``gzip.BadGzipFile``, ``zlib.error``)."""
    with open(path, "rb") as fh:
        head = fh.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    with opener(path, "rb") as fh:
        return fh.read()


def read_bytes(path: Path) -> bytes:
    """The decompressed content of ``path`` (gzip is detected by its magic bytes)."""
    try:
        return decompressed(path)
    except (OSError, EOFError, zlib.error) as exc:
        raise IdxFormatError(f"{path}: cannot read ({exc}); expected an IDX file, optionally gzipped") from None


def _header(data: bytes, path: Path, magic: int, ndim: int) -> tuple[int, ...]:
    size = 4 + 4 * ndim
    if len(data) < size:
        raise IdxFormatError(f"{path}: {len(data)} bytes is too short for an IDX header; expected at least {size}")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise IdxFormatError(f"{path}: magic number 0x{found:08x}, expected 0x{magic:08x}")
    return tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))


def parse_images(data: bytes, path: Path = Path("<bytes>")) -> np.ndarray:
    """``N x 28 x 28`` uint8 images from the bytes of an ``idx3-ubyte`` file."""
    n, rows, cols = _header(data, path, IMAGES_MAGIC, 3)
    if (rows, cols) != IMAGE_SHAPE:
        raise IdxFormatError(f"{path}: images are {rows}x{cols}, expected 28x28")
    expected = 16 + n * rows * cols
    if len(data) != expected:
        raise IdxFormatError(f"{path}: {len(data)} bytes for {n} images, expected {expected}")
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(n, rows, cols)


def parse_labels(data: bytes, path: Path = Path("<bytes>")) -> np.ndarray:
    """``N`` uint8 labels (0..9) from the bytes of an ``idx1-ubyte`` file."""
    (n,) = _header(data, path, LABELS_MAGIC, 1)
    if len(data) != 8 + n:
        raise IdxFormatError(f"{path}: {len(data)} bytes for {n} labels, expected {8 + n}")
    labels = np.frombuffer(data, dtype=np.uint8, offset=8)
    if labels.size and labels.max() > 9:
        raise IdxFormatError(f"{path}: label {int(labels.max())} found, expected 0..9")
    return labels


def load_images(path: Path) -> np.ndarray:
    return parse_images(read_bytes(path), path)


def load_labels(path: Path) -> np.ndarray:
    return parse_labels(read_bytes(path), path)
