"""Model tests: config validation, building, saving/loading, prediction and metrics."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from fashion_lib.config import PRESETS, TrainConfig
from fashion_lib.errors import ConfigError, ModelError

TINY = TrainConfig(
    stages=[[4], [8]], dense_units=16, tta_shift=0, precision="float32"
)  # small and fast: image + mirror only


# --------------------------------------------------------------------------- config


@pytest.mark.parametrize(
    "field, value, expected",
    [
        ("epochs", 0, "epochs=0 is invalid; expected an integer from 1 to 1000"),
        ("epochs", -1, "epochs=-1 is invalid; expected an integer from 1 to 1000"),
        ("batch_size", -1, "batch_size=-1 is invalid; expected an integer from 1 to 65536"),
        ("batch_size", 2.5, "batch_size=2.5 is invalid"),
        ("optimizer", "adamx", "optimizer='adamx' is invalid; expected one of adamw, adam, sgd, rmsprop"),
        ("learning_rate", 0, "learning_rate=0 is invalid; expected a number in (0, 10]"),
        ("dropout", 1.0, "dropout=1.0 is invalid"),
        ("label_smoothing", -0.1, "label_smoothing=-0.1 is invalid"),
        ("stages", [], "stages=[] is invalid"),
        ("head", "mlp", "head='mlp' is invalid; expected one of flatten, gap"),
        ("tta", "yes", "tta='yes' is invalid; expected true or false"),
        ("limit", -5, "limit=-5 is invalid"),
        ("precision", "float16", "precision='float16' is invalid; expected one of auto, float32, mixed_bfloat16"),
    ],
)
def test_invalid_settings_name_field_and_range_in_one_line(field, value, expected):
    with pytest.raises(ConfigError) as info:
        TrainConfig.from_preset("default", **{field: value})
    message = str(info.value)
    assert expected in message
    assert "\n" not in message


def test_unknown_preset_and_unknown_setting_are_named():
    with pytest.raises(ConfigError, match=r"unknown preset 'fast'; choose one of: default, quick, v1, v2, accurate"):
        TrainConfig.from_preset("fast")
    with pytest.raises(ConfigError, match=r"unknown setting 'epoch'"):
        TrainConfig.from_preset("quick", epoch=3)


def test_no_config_is_the_default_recipe_and_the_presets_keep_their_views():
    """TrainConfig() is what `fashion train` trains; quick and v1 still average image + mirror only, and only the
    default chooses its precision by the machine (every other preset computes the same everywhere)."""
    assert TrainConfig() == TrainConfig.from_preset("default")
    default = TrainConfig()
    assert default.stages == [[32, 32], [64, 64]] and default.epochs == 24 and default.augment_erase == 8
    shifts = {name: TrainConfig.from_preset(name).tta_shift for name in PRESETS}
    assert shifts == {"default": 1, "quick": 0, "v1": 0, "v2": 1, "accurate": 1}
    precisions = {name: TrainConfig.from_preset(name).precision for name in PRESETS}
    assert precisions == {name: "auto" if name == "default" else "float32" for name in PRESETS}
    v2 = TrainConfig.from_preset("v2")  # the previous default, as it was
    assert (v2.stages, v2.epochs, v2.augment_erase, v2.tta_shift) == ([[32], [64]], 18, 0, 1)


def test_a_recorded_config_without_later_fields_keeps_what_it_meant():
    """A config recorded before tta_shift (or precision, or erasing by default) existed averaged image and mirror
    only, in float32, without erasing: reproduce trains that again."""
    later = ("tta_shift", "precision", "augment_erase")
    recorded = {k: v for k, v in TrainConfig.from_preset("v1").to_dict().items() if k not in later}
    again = TrainConfig.from_dict(recorded)
    assert (again.tta_shift, again.precision, again.augment_erase) == (0, "float32", 0)
    assert again == TrainConfig.from_preset("v1")
    assert TrainConfig.from_dict(TrainConfig().to_dict()) == TrainConfig()


def test_build_model_without_config_builds_the_default_recipes_network():
    from fashion_lib.model import build_model

    bare, recipe = build_model(), build_model(TrainConfig.from_preset("default"))
    assert [layer.name for layer in bare.layers] == [layer.name for layer in recipe.layers]
    assert bare.count_params() == recipe.count_params()


def test_presets_are_valid_and_round_trip_through_json():
    for name in PRESETS:
        config = TrainConfig.from_preset(name)
        again = TrainConfig.from_dict(json.loads(json.dumps(config.to_dict())))
        assert again == config
    assert TrainConfig.from_preset("quick", epochs=2).epochs == 2
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        TrainConfig.from_dict({**TrainConfig().to_dict(), "colour": "red"})


def test_importing_the_library_does_not_import_tensorflow():
    code = (
        "import sys, fashion_lib.config, fashion_lib.model, fashion_lib.train, fashion_lib.evaluate, "
        "fashion_lib.predict; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


# --------------------------------------------------------------------------- model


@pytest.fixture(scope="module")
def tiny_model():
    from fashion_lib.model import build_model

    return build_model(TINY)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).integers(0, 256, size=(16, 28, 28), dtype=np.uint8)


def test_model_takes_raw_uint8_and_outputs_ten_probabilities(tiny_model, images):
    assert tiny_model.inputs[0].dtype == "uint8"
    assert tuple(tiny_model.inputs[0].shape) == (None, 28, 28)
    assert tuple(tiny_model.outputs[0].shape) == (None, 10)
    assert tiny_model.layers[-1].activation.__name__ == "softmax"
    probs = np.asarray(tiny_model.predict(images, verbose=0))
    assert probs.shape == (16, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert (probs >= 0).all()


def test_default_architecture_matches_config():
    from fashion_lib.model import build_model

    config = TrainConfig.from_preset("default")
    model = build_model(config)
    convs = [layer for layer in model.layers if layer.__class__.__name__ == "Conv2D"]
    assert [c.filters for c in convs] == [w for stage in config.stages for w in stage]
    assert any(layer.__class__.__name__ == "Rescaling" for layer in model.layers)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_save_and_load_round_trip_predictions(tiny_model, images, tmp_path, suffix):
    from fashion_lib.model import load_model_file, save_model

    path = save_model(tiny_model, tmp_path / f"clf{suffix}")
    assert path.is_file()
    assert [p.name for p in tmp_path.iterdir()] == [f"clf{suffix}"]  # no temporary leftovers
    loaded = load_model_file(path)
    np.testing.assert_allclose(
        loaded.predict(images, verbose=0), tiny_model.predict(images, verbose=0), rtol=1e-6, atol=1e-6
    )


def _view(images: np.ndarray, mirror: bool, dy: int, dx: int) -> np.ndarray:
    """A test-time view computed in numpy: mirror, then shift (zero fill)."""
    x = images[:, :, ::-1] if mirror else images
    out = np.zeros_like(x)
    rows, cols = slice(max(dy, 0), 28 + min(dy, 0)), slice(max(dx, 0), 28 + min(dx, 0))
    src_rows, src_cols = slice(max(-dy, 0), 28 + min(-dy, 0)), slice(max(-dx, 0), 28 + min(-dx, 0))
    out[:, rows, cols] = x[:, src_rows, src_cols]
    return np.ascontiguousarray(out)


@pytest.mark.parametrize("shift", [0, 1, 2])
def test_shipped_model_averages_its_views_inside(tiny_model, images, shift):
    from fashion_lib.model import export_model, tta_views

    config = TINY.replace(tta_shift=shift)
    views = tta_views(config)
    assert len(views) == 2 + 8 * bool(shift) and views[0] == (False, 0, 0)
    shipped = export_model(tiny_model, config)
    assert shipped.inputs[0].dtype == "uint8" and tuple(shipped.outputs[0].shape) == (None, 10)
    expected = np.mean([tiny_model.predict(_view(images, *v), verbose=0) for v in views], axis=0)
    np.testing.assert_allclose(shipped.predict(images, verbose=0), expected, rtol=1e-5, atol=1e-6)
    if not shift:  # image and mirror averaged: the shipped model cannot tell them apart, to the bit
        mirrored = np.ascontiguousarray(images[:, :, ::-1])
        assert np.array_equal(shipped.predict(mirrored, verbose=0), shipped.predict(images, verbose=0))


def test_single_view_config_ships_the_trained_network_itself(tiny_model, images):
    from fashion_lib.model import export_model

    shipped = export_model(tiny_model, TINY.replace(tta=False))
    assert shipped.name == tiny_model.name and [w.name for w in shipped.weights] == [w.name for w in tiny_model.weights]
    np.testing.assert_array_equal(shipped.predict(images, verbose=0), tiny_model.predict(images, verbose=0))


def test_shipped_file_carries_no_optimizer_state(images, tmp_path):
    """A trained (compiled) network is shipped without AdamW's moments: the file holds the model
    only, with its views (ten) or alone (one view)."""
    import io
    import zipfile

    import h5py
    import keras

    from fashion_lib.model import build_model, export_model, network_of, save_model

    trained = build_model(TINY)
    trained.compile(optimizer=keras.optimizers.AdamW(1e-3), loss="categorical_crossentropy")
    trained.fit(images, np.eye(10)[np.arange(len(images)) % 10], epochs=1, verbose=0)
    assert trained.optimizer.variables  # the moments exist in training
    for name, config in (("views", TINY.replace(tta_shift=1)), ("alone", TINY.replace(tta=False))):
        path = save_model(export_model(trained, config), tmp_path / f"{name}.keras")
        groups: list[str] = []
        with zipfile.ZipFile(path) as archive:
            h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r").visit(groups.append)
        assert not [g for g in groups if "optimizer" in g], name
        loaded = keras.models.load_model(path, safe_mode=True)
        assert getattr(network_of(loaded), "optimizer", None) is None
        expected = export_model(trained, config).predict(images, verbose=0)
        np.testing.assert_allclose(loaded.predict(images, verbose=0), expected, rtol=1e-6, atol=1e-7)


def test_shipped_model_loads_with_plain_keras_in_safe_mode(tiny_model, images, tmp_path):
    """Outside the project, with stock Keras in safe mode, the file predicts what we predict."""
    from fashion_lib.model import export_model, save_model

    shipped = export_model(tiny_model, TINY.replace(tta_shift=1))
    save_model(shipped, tmp_path / "clf.keras")
    np.save(tmp_path / "images.npy", images)
    script = (
        "import json, sys, keras, numpy as np\n"
        "assert 'fashion_lib' not in sys.modules\n"
        "m = keras.models.load_model('clf.keras', safe_mode=True)\n"
        "p = m.predict(np.load('images.npy'), verbose=0)\n"
        "print(json.dumps(p.tolist()))\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    probs = np.array(json.loads(done.stdout.strip().splitlines()[-1]), np.float32)
    ours = shipped.predict(images, verbose=0)
    np.testing.assert_allclose(probs, ours, rtol=1e-6, atol=1e-7)
    assert np.array_equal(probs.argmax(1), ours.argmax(1))


def test_a_bfloat16_network_ships_float32_probabilities_that_plain_keras_loads(images, tmp_path):
    """``precision="mixed_bfloat16"``: the layers train in bfloat16 (weights float32), the softmax in float32, so
    each row sums to 1 as the evaluation requires (a bfloat16 softmax's rows summed to 0.997 to 1.003); the global
    dtype policy is left as it was. The file ships the same weights computing in float32 (bfloat16 rounds
    differently on each backend and CPU), loads in safe mode and predicts what the float32 network does."""
    import keras

    from fashion_lib.evaluate import predict_proba
    from fashion_lib.model import build_model, export_model, load_model_file, network_of, save_model

    config = TINY.replace(precision="mixed_bfloat16", tta_shift=1)
    trunk = build_model(config)
    assert keras.config.dtype_policy().name == "float32"  # build_model's policy does not leak
    assert trunk.get_layer("stage1_conv1").compute_dtype == "bfloat16"
    assert trunk.get_layer("stage1_conv1").variable_dtype == "float32"
    assert trunk.get_layer("probabilities").compute_dtype == "float32"
    shipped = export_model(trunk, config)
    probs = predict_proba(shipped, images)
    assert probs.dtype == np.float32 and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    save_model(shipped, tmp_path / "clf.keras")
    loaded = load_model_file(tmp_path / "clf.keras")
    assert {layer.compute_dtype for layer in network_of(loaded).layers} == {"float32"}
    assert trunk.get_layer("stage2_conv1").compute_dtype == "bfloat16"  # the trained network is left as it was
    np.testing.assert_allclose(loaded.predict(images, verbose=0), shipped.predict(images, verbose=0), atol=1e-6)
    as_float32 = build_model(config.replace(precision="float32"))
    as_float32.set_weights(trunk.get_weights())
    np.testing.assert_allclose(
        network_of(loaded).predict(images, verbose=0), as_float32.predict(images, verbose=0), rtol=1e-5, atol=1e-6
    )


def test_save_refuses_unknown_suffix(tiny_model, tmp_path):
    from fashion_lib.model import save_model

    with pytest.raises(ModelError, match=r"unknown model file type '.pt'"):
        save_model(tiny_model, tmp_path / "clf.pt")


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_corrupted_model_file_is_a_clear_model_error(tiny_model, tmp_path, damage, suffix):
    from fashion_lib.model import load_model_file, save_model

    path = tmp_path / f"clf{suffix}"
    if damage == "garbage":
        path.write_bytes(b"this is not a model\n" * 50)
    else:
        save_model(tiny_model, path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError) as info:
        load_model_file(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    assert "corrupted" in message or "cannot load" in message


def test_missing_model_file_is_a_clear_model_error(tmp_path):
    from fashion_lib.model import load_model_file

    with pytest.raises(ModelError, match="model file not found"):
        load_model_file(tmp_path / "nope.keras")


# --------------------------------------------------------------------------- predict / metrics


def test_predict_accepts_batches_and_single_images(tiny_model, images):
    from fashion_lib.classes import CLASS_NAMES
    from fashion_lib.predict import predict

    many = predict(tiny_model, images)
    assert len(many) == 16
    one = predict(tiny_model, images[3])
    assert len(one) == 1 and one[0].class_id == many[3].class_id
    p = many[0]
    assert p.class_name == CLASS_NAMES[p.class_id]
    assert len(p.probabilities) == 10 and abs(sum(p.probabilities) - 1) < 1e-4
    assert p.confidence == max(p.probabilities)


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.zeros((2, 28, 28), np.float32), "must be uint8"),
        (np.zeros((2, 784), np.uint8), r"got shape \(2, 784\)"),
        (np.zeros((32, 32), np.uint8), r"got shape \(32, 32\)"),
    ],
)
def test_predict_rejects_wrong_dtype_or_shape(tiny_model, bad, match):
    from fashion_lib.predict import predict

    with pytest.raises(ModelError, match=match):
        predict(tiny_model, bad)


def test_metrics_from_probabilities_by_hand():
    from fashion_lib.evaluate import metrics_from_probabilities

    labels = np.array([0, 0, 1, 1, 2])
    predicted = np.array([0, 1, 1, 1, 0])
    probs = np.full((5, 10), 0.01)
    probs[np.arange(5), predicted] = 0.91
    ev = metrics_from_probabilities(probs, labels)
    assert ev.accuracy == pytest.approx(3 / 5)
    assert ev.confusion[0, 0] == 1 and ev.confusion[0, 1] == 1 and ev.confusion[2, 0] == 1
    assert ev.confusion.sum() == 5 and ev.confusion.dtype.kind == "i"
    assert ev.precision[0] == pytest.approx(0.5) and ev.recall[0] == pytest.approx(0.5)
    assert ev.precision[1] == pytest.approx(2 / 3) and ev.recall[1] == pytest.approx(1.0)
    assert ev.f1[1] == pytest.approx(0.8) and ev.f1[2] == 0.0
    assert list(ev.misclassified) == [1, 4]
    assert list(ev.true) == [0, 2] and list(ev.predicted) == [1, 0]
    d = json.loads(json.dumps(ev.to_dict()))
    assert d["confusion_matrix"][0][:2] == [1, 1]
    assert d["per_class"]["Trouser"]["recall"] == 1.0
    assert {m["index"] for m in d["misclassified"]} == {1, 4}


@pytest.mark.parametrize("config, views", [(TINY.replace(tta_shift=1), 10), (TINY, 2), (TINY.replace(tta=False), 1)])
def test_describe_shipped_counts_the_views_the_loaded_file_averages(tiny_model, tmp_path, config, views):
    """The notebook's summary sentence is read from the file as saved, not from the config."""
    from fashion_lib.model import describe_shipped, export_model, load_model_file, save_model

    path = save_model(export_model(tiny_model, config), tmp_path / "clf.keras")
    text = describe_shipped(load_model_file(path))
    assert f"{tiny_model.count_params():,} parameters" in text
    if views == 1:
        assert "the trained network itself, one view" in text
    else:
        assert f"applied to {views} views of each image" in text and "averaged inside the file" in text
