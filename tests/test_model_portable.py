"""The shipped .keras file leaves out what Keras 3.4 to 3.14 don't know, and is still the same model here.

Keras 3.15 writes ``quantization_config`` (Dense), ``renorm*`` (BatchNormalization) and
``input_axes``/``output_axes`` (GlorotUniform) even at their defaults; each older Keras 3 refuses
the file for them ("Unrecognized keyword arguments passed to Dense: {'quantization_config': None}").
"""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from fashion_lib.config import TrainConfig
from fashion_lib.portable import NEWER_DEFAULTS, drop_newer_defaults

TINY = TrainConfig(
    stages=[[4], [8]], dense_units=16, tta_shift=1, precision="float32"
)  # BN, Dense, GlorotUniform, frozen views


@pytest.fixture(scope="module")
def shipped():
    from fashion_lib.model import build_model, export_model

    return export_model(build_model(TINY), TINY)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(1).integers(0, 256, size=(32, 28, 28), dtype=np.uint8)


def _config_text(path) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read("config.json").decode()


def test_saved_file_has_none_of_the_newer_arguments(shipped, tmp_path):
    from fashion_lib.model import save_model

    text = _config_text(save_model(shipped, tmp_path / "clf.keras"))
    assert not [key for key in NEWER_DEFAULTS if f'"{key}"' in text]
    assert '"GlorotUniform"' in text and '"BatchNormalization"' in text  # the layers are still there


def test_saved_file_loads_as_the_same_model_with_the_same_predictions(shipped, images, tmp_path):
    """Against Keras' own save: same config once loaded, same weights, bit-identical predictions."""
    import keras

    from fashion_lib.model import save_model

    ours = keras.models.load_model(save_model(shipped, tmp_path / "clf.keras"))
    shipped.save(tmp_path / "plain.keras")
    plain = keras.models.load_model(tmp_path / "plain.keras")
    assert ours.get_config() == plain.get_config()  # what Keras' own file gives back, argument for argument
    assert all(np.array_equal(a, b) for a, b in zip(ours.get_weights(), plain.get_weights(), strict=True))
    expected = shipped.predict(images, verbose=0)
    assert np.array_equal(ours.predict(images, verbose=0), expected)
    assert np.array_equal(plain.predict(images, verbose=0), expected)
    with zipfile.ZipFile(tmp_path / "clf.keras") as a, zipfile.ZipFile(tmp_path / "plain.keras") as b:
        assert a.namelist() == b.namelist()
        assert [i.compress_type for i in a.infolist()] == [i.compress_type for i in b.infolist()]


def test_only_defaults_are_dropped_and_only_from_layer_configs():
    config = {
        "class_name": "Functional",
        "config": {
            "layers": [
                {"class_name": "BatchNormalization", "config": {"renorm": True, "renorm_momentum": 0.99}},
                {"class_name": "Dense", "config": {"quantization_config": {"mode": "int8"}, "units": 3}},
                {"class_name": "GlorotUniform", "config": {"seed": None, "input_axes": None, "output_axes": [0]}},
                {"class_name": "Dense", "config": {"renorm": 0}},  # 0 is not False: kept
            ],
        },
        "build_config": {"renorm": False},  # no class_name: not a layer's arguments, kept
    }
    layers = drop_newer_defaults(config)["config"]["layers"]
    assert layers[0]["config"] == {"renorm": True}
    assert layers[1]["config"] == {"quantization_config": {"mode": "int8"}, "units": 3}
    assert layers[2]["config"] == {"seed": None, "output_axes": [0]}
    assert layers[3]["config"] == {"renorm": 0}
    assert config["build_config"] == {"renorm": False}
    assert json.loads(json.dumps(config)) == config


def test_float32_compute_changes_mixed_policies_only():
    from fashion_lib.portable import float32_compute

    def layer(dtype):
        return {"class_name": "Conv2D", "config": {"name": "c", "dtype": dtype}}

    mixed = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "mixed_bfloat16"}}
    plain = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}}
    config = {"layers": [layer(mixed), layer(plain), layer("uint8"), {"class_name": "InputLayer", "config": {}}]}
    out = float32_compute(config)
    assert [entry["config"].get("dtype") for entry in out["layers"]] == [plain, plain, "uint8", None]
