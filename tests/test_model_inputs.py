"""What the model commands are given: input files that are not regular files, 16-bit PNGs, model
files of the wrong shape, and run folders that must not be published (``fashion model push``).
Real parts only: tiny Keras models saved to disk, real PNGs and CSVs, a real registry folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from cli_support import cli, one_line

from fashion_lib.config import TrainConfig
from fashion_lib.csvio import write_csv
from fashion_lib.errors import ConfigError, DataValidationError, ModelError
from fashion_lib.runfolder import CONFIG_FILE, HISTORY_CSV, METRICS_FILE, MODEL_FILE

RNG = np.random.default_rng(7)
IMAGES = RNG.integers(0, 256, size=(20, 28, 28), dtype=np.uint8)


def save_tiny(path: Path, input_shape: tuple[int, ...] = (28, 28), units: int = 10, softmax: bool = True) -> Path:
    """A tiny real Keras model (random weights) saved to ``path``."""
    import keras

    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Flatten(),
            keras.layers.Dense(units, activation="softmax" if softmax else None),
        ]
    )
    model.save(path)
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("models")
    return {
        "good": save_tiny(folder / "good.keras"),
        "wrong_input": save_tiny(folder / "wrong_input.keras", input_shape=(10,)),
        "three_outputs": save_tiny(folder / "three_outputs.keras", units=3),
        "no_softmax": save_tiny(folder / "no_softmax.keras", softmax=False),
    }


# --------------------------------------------------------------------------- not regular files


@pytest.fixture(params=["directory", "fifo", "device"])
def odd_file(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, str]:
    """(path, what the error says) for a folder, a FIFO and /dev/null; each named like a real input."""
    if request.param == "device":
        return Path(os.devnull), "not a regular file (a device)"
    path = tmp_path / "odd.csv"
    if request.param == "directory":
        path.mkdir()
        return path, "is a directory"
    os.mkfifo(path)  # opening it for reading would block: only stat may touch it
    return path, "not a regular file (a FIFO)"


def test_validate_names_what_a_non_regular_csv_is(odd_file: tuple[Path, str]) -> None:
    from fashion_lib.validate import validate_csv

    path, said = odd_file
    with pytest.raises(DataValidationError) as caught:
        validate_csv(path)
    assert str(caught.value) == f"{path}: {said}; expected a Fashion-MNIST CSV"


def test_predict_inputs_name_what_a_non_regular_file_is(odd_file: tuple[Path, str]) -> None:
    from fashion_lib.inputs import load_images

    path, said = odd_file
    with pytest.raises(ConfigError) as caught:
        load_images([path])
    assert str(caught.value) == f"{path}: {said}; expected a 28x28 PNG or a CSV in the data layout"


def test_a_folder_given_as_the_model_is_named_a_folder(tmp_path: Path) -> None:
    from fashion_lib.model import load_model_file

    (tmp_path / "dir.keras").mkdir()
    with pytest.raises(ModelError, match="dir.keras: is a directory; expected a .keras or .h5 model file"):
        load_model_file(tmp_path / "dir.keras")


def test_data_push_of_a_folder_or_fifo_is_one_line_and_publishes_nothing(tmp_path: Path) -> None:
    good = write_csv(IMAGES, (np.arange(20) % 10).astype(np.uint8), tmp_path / "test.csv")
    (tmp_path / "train.csv").mkdir()
    os.mkfifo(tmp_path / "fifo.csv")
    reg = tmp_path / "registry"
    for bad, said in (("train.csv", "is a directory"), ("fifo.csv", "not a regular file (a FIFO)")):
        done = cli("data", "push", "--train", str(tmp_path / bad), "--test", str(good), "--registry", str(reg))
        assert done.returncode == 2  # an input file that is no file: a usage mistake, not data failing validation
        assert one_line(done) == f"fashion: error: {tmp_path / bad}: {said}; expected a Fashion-MNIST CSV"
    assert not reg.exists()


# --------------------------------------------------------------------------- 16-bit PNGs


def test_a_16_bit_png_is_scaled_not_clipped(models: dict[str, Path], tmp_path: Path) -> None:
    from PIL import Image

    from fashion_lib.inputs import load_images
    from fashion_lib.model_package import classify_files

    image = IMAGES[0]
    Image.fromarray(image, mode="L").save(tmp_path / "eight.png")
    for name, scale in (("sixteen.png", 257), ("shifted.png", 256)):  # 0..65535, and the high byte only
        wide = Image.fromarray(image.astype(np.uint16) * scale)
        wide.save(tmp_path / name)
        assert Image.open(tmp_path / name).mode.startswith("I")  # really a 16-bit greyscale PNG
    paths = [tmp_path / n for n in ("eight.png", "sixteen.png", "shifted.png")]
    loaded = load_images(paths).images
    assert (loaded == image).all()
    found = classify_files(paths, model_file=models["good"])
    first = found[0][1]
    for _, other in found[1:]:  # the same pixels; rows of one batch may differ in the last float bit
        assert other.class_id == first.class_id and np.allclose(other.probabilities, first.probabilities, atol=1e-6)


def test_a_16_bit_png_of_8_bit_values_is_read_as_those_values(tmp_path: Path) -> None:
    """``Image.fromarray`` of a uint16 array of 0..255 (what tools that write uint16 arrays save) was
    read by its high byte: a blank image. Values that all fit in 0..255 are 8-bit data, taken as they are."""
    from PIL import Image

    from fashion_lib.inputs import load_images

    image = IMAGES[1]
    Image.fromarray(image.astype(np.uint16)).save(tmp_path / "narrow.png")
    clear = np.where(image > 0, image.astype(np.uint16), 999)  # 999: transparent, not what decides the range
    Image.fromarray(clear).save(tmp_path / "clear.png", transparency=999)
    for name in ("narrow.png", "clear.png"):
        assert Image.open(tmp_path / name).mode.startswith("I")
    narrow, transparent = load_images([tmp_path / "narrow.png", tmp_path / "clear.png"]).images
    assert (narrow == image).all()
    assert (transparent == image).all()  # the transparent pixels were the 0s: black


# --------------------------------------------------------------------------- model shapes


@pytest.mark.parametrize(
    "kind, said",
    [
        ("wrong_input", "model takes input (None, 10); expected 28x28 images"),
        ("three_outputs", "model gives 3 outputs; expected 10 class probabilities"),
    ],
)
def test_a_model_of_the_wrong_shape_is_refused_when_loaded(models: dict[str, Path], kind: str, said: str) -> None:
    from fashion_lib.model import load_model_file

    with pytest.raises(ModelError) as caught:
        load_model_file(models[kind])
    assert str(caught.value).startswith(f"{models[kind]}: {said}")


def test_outputs_that_are_not_probabilities_are_refused(models: dict[str, Path]) -> None:
    from fashion_lib.model import load_model_file
    from fashion_lib.predict import predict

    model = load_model_file(models["no_softmax"])
    with pytest.raises(ModelError, match=f"^{models['no_softmax']}: outputs are not class probabilities"):
        predict(model, IMAGES)
    good = predict(load_model_file(models["good"]), IMAGES)
    assert all(abs(sum(p.probabilities) - 1) < 1e-5 for p in good)


@pytest.mark.parametrize("kind", ["wrong_input", "three_outputs", "no_softmax"])
def test_predict_and_evaluate_with_a_wrong_model_are_one_clean_line(
    models: dict[str, Path], tmp_path: Path, kind: str
) -> None:
    from PIL import Image

    Image.fromarray(IMAGES[1], mode="L").save(tmp_path / "shirt.png")
    commands = [("predict", str(tmp_path / "shirt.png"))]
    if kind != "no_softmax":  # refused when loaded, before any data is looked for
        commands.append(("evaluate", "--registry", str(tmp_path / "registry")))
    for command in commands:
        done = cli(*command, "--model", str(models[kind]))
        line = one_line(done)
        assert done.returncode == 2 and done.stdout == "", line
        assert line.startswith(f"fashion: error: {models[kind]}: ") and "\x1b" not in line


LAMBDA_SAID = (
    "model holds a Lambda layer (Python code), which safe loading refuses; use a model without Lambda layers "
    "or custom code (this project's models, from fashion train or a model package, have none)"
)


def test_a_model_with_a_lambda_layer_is_named_as_such(tmp_path: Path) -> None:
    """Keras' safe mode refuses a Lambda layer; its message was cut mid-sentence at 200 characters
    and the line said to retrain or re-fetch the file, which cannot help."""
    import keras
    from PIL import Image

    from fashion_lib.model import load_model_file

    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            keras.layers.Lambda(lambda x: x),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.save(tmp_path / "m.keras")
    model.save(tmp_path / "m.h5")
    with pytest.raises(ModelError) as caught:
        load_model_file(tmp_path / "m.h5")
    assert str(caught.value) == f"{tmp_path / 'm.h5'}: {LAMBDA_SAID}"
    Image.fromarray(IMAGES[2], mode="L").save(tmp_path / "x.png")
    done = cli("predict", "--model", str(tmp_path / "m.keras"), str(tmp_path / "x.png"))
    assert done.returncode == 2 and done.stdout == ""
    assert one_line(done) == f"fashion: error: {tmp_path / 'm.keras'}: {LAMBDA_SAID}"


def test_a_long_load_error_is_cut_at_a_word_boundary(models: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    import keras

    from fashion_lib.model import load_model_file

    words = " ".join(f"word{i:03d}" for i in range(60))  # 479 characters

    def refuse(*args: object, **kwargs: object) -> None:
        raise ValueError(words)

    monkeypatch.setattr(keras.models, "load_model", refuse)
    with pytest.raises(ModelError) as caught:
        load_model_file(models["good"])
    said = str(caught.value)
    head = f"{models['good']}: cannot load model (ValueError: "
    assert said.startswith(head) and said.endswith(" …); retrain or re-fetch it"), said
    kept = said[len(head) : -len(" …); retrain or re-fetch it")]
    assert 150 < len(kept) <= 200 and words.startswith(kept + " "), kept


# --------------------------------------------------------------------------- model push


def run_folder(root: Path, model: Path | None) -> Path:
    """A finished run's folder as ``fashion train`` leaves it; ``clf.keras`` copied from ``model``."""
    folder = root / "run"
    folder.mkdir()
    if model is not None:
        (folder / MODEL_FILE).write_bytes(model.read_bytes())
    metrics = {"data_package": "fashion-mnist/data", "data_top_hash": "d" * 64, "test_accuracy": 0.9, "test_loss": 0.3}
    (folder / METRICS_FILE).write_text(json.dumps(metrics))
    (folder / CONFIG_FILE).write_text(TrainConfig.from_preset("quick").to_json())
    (folder / HISTORY_CSV).write_text("epoch,loss\n1,0.5\n")
    return folder


def published(reg: Path) -> list[str]:
    from fashion_lib import registry

    return [v.name for v in registry.list_versions(registry=str(reg))] if reg.exists() else []


def _damage(folder: Path, what: str, models: dict[str, Path]) -> str:
    """Spoil one file of ``folder``; what the error line then says."""
    model, config = folder / MODEL_FILE, folder / CONFIG_FILE
    if what == "missing model":
        model.unlink()
        return f"{folder}: clf.keras is missing"
    if what == "model is a folder":
        model.unlink()
        model.mkdir()
        return f"{model}: is a directory"
    if what == "empty model":
        model.write_bytes(b"")
        return f"{model}: not a valid .keras file"
    if what == "model of the wrong shape":
        model.write_bytes(models["three_outputs"].read_bytes())
        return f"{model}: model gives 3 outputs; expected 10 class probabilities"
    if what == "bad epochs":
        config.write_text(json.dumps({"epochs": "abc"}))
        return f"{config}: epochs='abc' is invalid; expected an integer from 1 to 1000"
    if what == "unknown setting":
        config.write_text(json.dumps({"epochz": 3}))
        return f"{config}: unknown setting 'epochz'"
    if what == "NaN weights":  # loads and has the right shapes, but predict would refuse it
        import keras

        nan = keras.models.load_model(models["good"])
        nan.set_weights([np.full_like(w, np.nan) for w in nan.get_weights()])
        nan.save(model)
        return f"{model}: outputs are not class probabilities (NaN or infinite values)"
    if what == "no softmax":
        model.write_bytes(models["no_softmax"].read_bytes())
        return f"{model}: outputs are not class probabilities"
    if what == "empty config":
        config.write_text("")
        return f"{config}: cannot be read as JSON (JSONDecodeError)"
    if what == "metrics is a folder":
        (folder / METRICS_FILE).unlink()
        (folder / METRICS_FILE).mkdir()
        return f"{folder / METRICS_FILE}: is a folder"
    config.write_text(json.dumps({"stages": [5]}))  # "stages of integers"
    return f"{config}: "


DAMAGE = [
    "missing model",
    "model is a folder",
    "empty model",
    "model of the wrong shape",
    "bad epochs",
    "unknown setting",
    "bad stages",
    "NaN weights",
    "no softmax",
    "empty config",
    "metrics is a folder",
]


@pytest.mark.parametrize("what", DAMAGE)
def test_model_push_checks_the_run_folder_before_publishing(models: dict[str, Path], tmp_path: Path, what: str) -> None:
    from fashion_lib import pipeline

    folder = run_folder(tmp_path, models["good"])
    said = _damage(folder, what, models)
    reg = tmp_path / "registry"
    with pytest.raises((ModelError, ConfigError)) as caught:
        pipeline.push_run_folder(folder, registry=str(reg))
    assert str(caught.value).startswith(said) and caught.value.exit_code == 2
    assert "fashion-mnist/model" not in published(reg)


def test_model_push_of_a_good_folder_publishes_and_a_bad_one_is_one_line(
    models: dict[str, Path], tmp_path: Path
) -> None:
    folder = run_folder(tmp_path, models["good"])
    reg = tmp_path / "registry"
    done = cli("model", "push", str(folder), "--registry", str(reg))
    assert done.returncode == 0, done.stderr
    assert published(reg) == ["fashion-mnist/model"]
    (folder / CONFIG_FILE).write_text(json.dumps({"epochs": 0}))
    done = cli("model", "push", str(folder), "--registry", str(reg))
    assert done.returncode == 2 and done.stdout == ""
    assert (
        one_line(done)
        == f"fashion: error: {folder / CONFIG_FILE}: epochs=0 is invalid; expected an integer from 1 to 1000"
    )
    assert published(reg) == ["fashion-mnist/model"]  # still the one version
