"""Read images to classify: 28x28 greyscale PNG files, or CSVs in the data layout or of unlabelled pixel rows.

Which one a file is comes from its first bytes as well as its suffix: a gzip file is named as one
whatever it is called, and a CSV needs no ``.csv`` suffix.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .errors import ConfigError, DataValidationError


class Inputs(NamedTuple):
    """``N x 28 x 28`` uint8 images and where each came from."""

    images: np.ndarray
    sources: list[str]


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
GZIP_MAGIC = b"\x1f\x8b"
CSV_STARTS = (b"label,", b"pixel1,", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")  # headers, byte order marks
SIDE = 28
EXPECTED = "a 28x28 PNG or a CSV in the data layout"


def _is_csv(path: Path) -> bool:
    """Whether ``path`` is read as a CSV (else as a PNG): by its first bytes, then its suffix."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror}); expected {EXPECTED}") from None
    if head.startswith(GZIP_MAGIC):
        raise ConfigError(f"{path}: this is a gzip file, not a PNG or CSV; decompress it first (gunzip)")
    if head.startswith(PNG_SIGNATURE):
        return False
    return head.startswith(CSV_STARTS) or path.suffix.lower() == ".csv"


def _png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's header, without decoding it; ConfigError if not a PNG."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(24)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror}); expected a 28x28 PNG") from None
    if head[:8] != PNG_SIGNATURE or head[12:16] != b"IHDR":
        raise ConfigError(f"{path}: not a PNG file; expected {EXPECTED}")
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def _png(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    width, height = _png_size(path)  # checked before decoding: a huge image is never decoded
    if (width, height) != (SIDE, SIDE):
        raise ConfigError(
            f"{path}: image is {width}x{height}, expected 28x28 "
            "(light garment on a black background, like Fashion-MNIST)"
        )
    try:
        with Image.open(path) as img:
            grey = _grey(img)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ConfigError(f"{path}: cannot read as an image ({exc.__class__.__name__}); expected a 28x28 PNG") from None
    if grey.shape != (28, 28):
        raise ConfigError(
            f"{path}: image is {grey.shape[1]}x{grey.shape[0]}, expected 28x28 "
            "(light garment on a black background, like Fashion-MNIST)"
        )
    return grey


def _grey(img) -> np.ndarray:
    """8-bit greyscale pixels of an opened image; 16-bit greyscale is scaled (the high byte), not clipped,
    unless all its (opaque) values fit in 0..255: 8-bit data stored in 16 bits (``Image.fromarray`` of a
    uint16 array) is read as it is, not as black;
    transparency (an alpha channel, or a transparent palette entry or colour) is composited over black,
    the Fashion-MNIST background, so a transparent pixel is black whatever colour it holds.

    (PIL's ``convert("L")`` clips 16-bit values, so every pixel above 255 would become white, and
    drops alpha, so a fully transparent image would be read as opaque.)
    """
    from PIL import Image

    if img.mode.startswith("I"):  # "I;16", "I;16B", "I": a 16-bit greyscale PNG
        wide = np.clip(np.asarray(img).astype(np.int64), 0, 65535)
        value = img.info.get("transparency")  # tRNS: the one 16-bit value that is transparent
        clear = wide == value if isinstance(value, int) else np.zeros(wide.shape, bool)
        eight_bit = wide[~clear].max(initial=0) <= 255  # 8-bit values stored in 16 bits: taken as they are
        return np.where(clear, 0, wide if eight_bit else wide >> 8).astype(np.uint8)
    if img.mode in ("LA", "RGBA", "PA") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        return np.asarray(Image.alpha_composite(Image.new("RGBA", rgba.size, (0, 0, 0, 255)), rgba).convert("L"))
    return np.asarray(img.convert("L"), dtype=np.uint8)


def load_images(paths: Sequence[str | Path]) -> Inputs:
    """All images from PNG files and CSVs (data layout, or unlabelled ``pixel1..pixel784`` rows), in order."""
    from .csvio import load_pixels
    from .fsutil import regular_file

    images, sources = [], []
    for raw in paths:
        path = regular_file(Path(raw), EXPECTED, ConfigError)
        if _is_csv(path):
            try:
                pixels = load_pixels(path)
            except DataValidationError as exc:  # an input to classify: a usage mistake (exit 2), same line
                raise ConfigError(str(exc)) from None
            images.append(pixels)
            sources += [f"{path}:{line}" for line in range(2, len(pixels) + 2)]
        else:
            images.append(_png(path)[None])
            sources.append(str(path))
    return Inputs(np.concatenate(images), sources)
