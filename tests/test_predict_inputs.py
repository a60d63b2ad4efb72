"""What ``fashion predict`` reads from a PNG: transparency is composited over black (the
Fashion-MNIST background), and an inverted image (a bright frame) is classified with a warning.
Real PNGs written by PIL, a tiny real Keras model saved to disk, the command run as a user would."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from cli_support import cli

from fashion_lib.inputs import load_images

WHITE = np.full((28, 28), 255, np.uint8)
GARMENT = np.zeros((28, 28), np.uint8)
GARMENT[6:22, 8:20] = 230  # a light block on black, like a Fashion-MNIST bag


def _save(path: Path, pixels: np.ndarray, mode: str, **options) -> Path:
    from PIL import Image

    Image.fromarray(pixels, mode).save(path, **options)
    return path


def _alpha(value: int) -> np.ndarray:
    return np.full((28, 28), value, np.uint8)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import keras

    tiny = keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    tiny.save(path)
    return path


def test_transparent_pixels_are_black_whatever_colour_they_hold(tmp_path: Path) -> None:
    from PIL import Image

    grey = np.dstack([GARMENT, GARMENT, GARMENT])
    paths = {
        "LA, fully transparent": _save(tmp_path / "la.png", np.dstack([WHITE, _alpha(0)]), "LA"),
        "RGBA, fully transparent": _save(tmp_path / "rgba.png", np.dstack([WHITE, WHITE, WHITE, _alpha(0)]), "RGBA"),
        "LA, half transparent": _save(tmp_path / "half.png", np.dstack([WHITE, _alpha(128)]), "LA"),
        "RGBA, opaque": _save(tmp_path / "opaque.png", np.dstack([grey, _alpha(255)]), "RGBA"),
        "L with a transparent grey": _save(
            tmp_path / "l.png", np.where(GARMENT > 0, GARMENT, 255), "L", transparency=255
        ),
        "16-bit with a transparent grey": tmp_path / "wide.png",
        "P with a transparent entry": tmp_path / "p.png",
    }
    Image.fromarray(np.where(GARMENT > 0, 230 * 257, 65535).astype(np.uint16)).save(
        paths["16-bit with a transparent grey"], transparency=65535
    )
    indexed = Image.fromarray(np.where(GARMENT > 0, 1, 0).astype(np.uint8), "P")  # index 0, white, transparent
    indexed.putpalette([255, 255, 255, 230, 230, 230] + [0] * 762)
    indexed.save(paths["P with a transparent entry"], transparency=0)
    loaded = dict(zip(paths, load_images(list(paths.values())).images))
    assert not loaded["LA, fully transparent"].any() and not loaded["RGBA, fully transparent"].any()
    assert (loaded["LA, half transparent"] == 128).all()
    for opaque_garment in list(paths)[3:]:
        assert (loaded[opaque_garment] == GARMENT).all(), opaque_garment


def test_predict_reads_a_transparent_png_as_black(model: Path, tmp_path: Path) -> None:
    clear = _save(tmp_path / "clear.png", np.dstack([WHITE, _alpha(0)]), "LA")
    black = _save(tmp_path / "black.png", np.zeros((28, 28), np.uint8), "L")
    done = cli("predict", str(clear), str(black), "--model", str(model))
    assert done.returncode == 0, done.stderr
    rows = [line.split("\t")[1:] for line in done.stdout.splitlines()]
    assert len(rows) == 2 and rows[0] == rows[1]


def test_an_inverted_image_is_classified_with_one_warning_line(model: Path, tmp_path: Path) -> None:
    from fashion_lib.csvio import write_csv

    inverted = _save(tmp_path / "inv.png", 255 - GARMENT, "L")
    normal = _save(tmp_path / "bag.png", GARMENT, "L")
    rows = write_csv(np.stack([GARMENT, 255 - GARMENT]), np.array([8, 8], np.uint8), tmp_path / "rows.csv")
    done = cli("predict", str(inverted), str(normal), str(rows), "--model", str(model))
    assert done.returncode == 0, done.stderr
    assert [line.split("\t")[0] for line in done.stdout.splitlines()] == [
        str(inverted),
        str(normal),
        f"{rows}:2",
        f"{rows}:3",
    ]
    said = "looks inverted (bright background); Fashion-MNIST garments are light on black: invert it first"
    warnings = [line for line in done.stderr.splitlines() if "inverted" in line]
    assert warnings == [f"warning: {inverted} {said}", f"warning: {rows}:3 {said}"]


def test_a_blank_image_is_classified_with_one_warning_line(model: Path, tmp_path: Path) -> None:
    """A blank image (every pixel the same) was classified without a word (a white one was called
    inverted); now one warning line each, and still classified."""
    from fashion_lib.csvio import write_csv

    black = _save(tmp_path / "black.png", np.zeros((28, 28), np.uint8), "L")
    white = _save(tmp_path / "white.png", WHITE, "L")
    normal = _save(tmp_path / "bag.png", GARMENT, "L")
    rows = write_csv(
        np.stack([GARMENT, np.full((28, 28), 40, np.uint8)]), np.array([8, 8], np.uint8), tmp_path / "r.csv"
    )
    done = cli("predict", str(black), str(white), str(normal), str(rows), "--model", str(model))
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 5
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: {black} is blank (every pixel 0); its class is a guess",
        f"warning: {white} is blank (every pixel 255); its class is a guess",
        f"warning: {rows}:3 is blank (every pixel 40); its class is a guess",
    ]
