"""Training tests on real Fashion-MNIST: split, augmentation, a quick real run, determinism."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest

from fashion_lib.config import TrainConfig
from fashion_lib.csvio import Dataset
from fashion_lib.errors import ConfigError

RAW = Path("/usr/share/datasets/fashion-mnist")


def _load(kind: str) -> Dataset:
    from fashion_lib.idx import load_images, load_labels

    prefix = "train" if kind == "train" else "t10k"
    images, labels = RAW / f"{prefix}-images-idx3-ubyte.gz", RAW / f"{prefix}-labels-idx1-ubyte.gz"
    if not images.is_file() or not labels.is_file():
        pytest.skip(f"real Fashion-MNIST IDX files not found in {RAW}")
    return Dataset(load_images(images), load_labels(labels))


@pytest.fixture(scope="module")
def train_set() -> Dataset:
    return _load("train")


@pytest.fixture(scope="module")
def test_subset() -> Dataset:
    test = _load("test")
    return Dataset(test.images[:2000], test.labels[:2000])


# --------------------------------------------------------------------------- data


def test_validation_split_is_fixed_disjoint_and_sized(train_set):
    from fashion_lib.train import split_validation

    config = TrainConfig(limit=3000, validation_size=500, seed=7)
    fit_a, val_a = split_validation(train_set, config)
    fit_b, val_b = split_validation(train_set, config)
    assert len(fit_a) == 2500 and len(val_a) == 500
    np.testing.assert_array_equal(val_a.images, val_b.images)
    np.testing.assert_array_equal(fit_a.labels, fit_b.labels)
    fit_keys = {img.tobytes() for img in fit_a.images}
    assert not any(img.tobytes() in fit_keys for img in val_a.images)
    _, val_other = split_validation(train_set, config.replace(seed=8))
    assert not np.array_equal(val_a.labels, val_other.labels)


def test_validation_larger_than_subset_is_a_config_error(train_set):
    from fashion_lib.train import split_validation

    with pytest.raises(ConfigError, match="validation_size=1000 leaves no training images"):
        split_validation(train_set, TrainConfig(limit=1000, validation_size=1000))


@pytest.mark.parametrize(
    ("config", "images", "why"),
    [
        (
            TrainConfig(limit=5, validation_size=1000),
            None,
            "validation_size=1000 leaves no training images out of 5 (limit=5)",
        ),
        (
            TrainConfig(validation_size=1000),
            800,
            "validation_size=1000 leaves no training images out of 800 (training images)",
        ),
        (
            TrainConfig(limit=900, validation_size=1000),
            800,
            "validation_size=1000 leaves no training images out of 800 (training images)",
        ),
    ],
)
def test_a_split_that_leaves_nothing_to_train_on_is_known_before_the_data(config, images, why):
    """``limit`` against ``validation_size`` needs no data; the data's size, once loaded, no training."""
    with pytest.raises(ConfigError, match=rf"^{re.escape(why)}; use a smaller validation_size or a larger limit$"):
        config.check_split(images)
    assert TrainConfig(limit=1001, validation_size=1000).check_split(5000).limit == 1001
    assert TrainConfig(limit=5, validation_size=0).check_split(5) is not None  # no split at all


def test_a_bad_split_writes_no_file(tmp_path):
    """Nothing is written before the split is known to work: no half-written run folder."""
    from fashion_lib.train import train

    tiny = Dataset(np.zeros((50, 28, 28), np.uint8), np.arange(50) % 10)
    with pytest.raises(ConfigError, match="validation_size=100 leaves no training images out of 50"):
        train(TrainConfig(validation_size=100, epochs=1), tiny, output_dir=tmp_path / "run", verbose=0)
    assert not (tmp_path / "run").exists()


def test_flip_and_translate_are_vectorised_and_seeded(train_set):
    import tensorflow as tf

    from fashion_lib.train import flip_batch, translate_batch

    batch = tf.constant(train_set.images[:64])
    seed = tf.constant([3, 4], tf.int64)
    flipped = flip_batch(batch, seed).numpy()
    mirrored = np.array(
        [np.array_equal(f, x[:, ::-1]) and not np.array_equal(f, x) for f, x in zip(flipped, train_set.images[:64])]
    )
    unchanged = np.array([np.array_equal(f, x) for f, x in zip(flipped, train_set.images[:64])])
    assert (mirrored | unchanged).all() and 10 < mirrored.sum() < 54
    np.testing.assert_array_equal(flip_batch(batch, seed).numpy(), flipped)
    moved = translate_batch(batch, seed, 2).numpy()
    assert moved.shape == (64, 28, 28) and moved.dtype == np.uint8
    assert moved.sum() <= train_set.images[:64].astype(np.int64).sum()  # shifting only drops pixels


def test_random_erasing_zeroes_one_square_in_a_share_of_the_images(train_set):
    import tensorflow as tf

    from fashion_lib.training.inputs import erase_batch

    ones = tf.ones((400, 28, 28), tf.uint8) * 255
    seed = tf.constant([5, 6], tf.int64)
    erased = erase_batch(ones, seed, 6, 0.5).numpy()
    zeros = (erased == 0).sum(axis=(1, 2))
    touched = zeros > 0
    assert 150 < touched.sum() < 250  # about half the images
    assert zeros.max() == 36 and (zeros[touched] <= 36).all()  # one 6x6 square, clipped at the border
    for image in erased[touched][:50]:  # the zeroed pixels form one rectangle
        rows, cols = np.nonzero(image == 0)
        assert len(rows) == (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
    assert (erased[~touched] == 255).all()
    np.testing.assert_array_equal(erase_batch(ones, seed, 6, 0.5).numpy(), erased)  # seeded
    assert (erase_batch(ones, seed, 6, 0.0).numpy() == 255).all()
    batch = train_set.images[:256]
    config = TrainConfig(batch_size=256, augment_flip=False, augment_erase=8, erase_probability=1.0)
    from fashion_lib.train import make_dataset

    images, _ = next(iter(make_dataset(Dataset(batch, train_set.labels[:256]), config, training=True)))
    assert (images.numpy().astype(np.int64).sum() < batch.astype(np.int64).sum()) and images.dtype.name == "uint8"


def test_pipeline_yields_uint8_batches_and_one_hot_labels(train_set):
    from fashion_lib.train import make_dataset

    data = Dataset(train_set.images[:600], train_set.labels[:600])
    images, labels = next(iter(make_dataset(data, TrainConfig(batch_size=128), training=True)))
    assert images.dtype.name == "uint8" and tuple(images.shape) == (128, 28, 28)
    assert tuple(labels.shape) == (128, 10) and np.allclose(labels.numpy().sum(axis=1), 1)


# --------------------------------------------------------------------------- training


@pytest.fixture(scope="module")
def quick_run(train_set, tmp_path_factory):
    """train() in process on the whole quick preset (15,000 images, 4 epochs): the tests read its
    TrainResult and hold the preset to > 0.80. Not shared with test_pipeline's ``trained``, which is
    another training (the CLI in a subprocess, data from the registry, 5,000 images, 3 epochs)."""
    from fashion_lib.train import train

    out = tmp_path_factory.mktemp("quick")
    return train(TrainConfig.from_preset("quick"), train_set, output_dir=out, verbose=1), out


@pytest.mark.slow
def test_quick_preset_learns_well_above_chance(quick_run, test_subset):
    from fashion_lib.evaluate import evaluate

    result, _ = quick_run
    evaluation = evaluate(result.model, test_subset, tta=True)
    assert evaluation.accuracy > 0.80, evaluation.accuracy  # chance is 0.10; quick reaches ~0.87
    assert result.validation["accuracy"] > 0.80
    assert evaluation.confusion.sum() == 2000
    assert len(evaluation.misclassified) == round((1 - evaluation.accuracy) * 2000)


@pytest.mark.slow
def test_training_records_history_per_epoch(quick_run):
    result, out = quick_run
    config = TrainConfig.from_preset("quick")
    assert result.epochs_run == config.epochs
    assert 1 <= result.best_epoch <= config.epochs
    assert result.history["val_accuracy"][result.best_epoch - 1] == max(result.history["val_accuracy"])
    rows = list(csv.DictReader(open(out / "history.csv")))
    assert [int(r["epoch"]) for r in rows] == list(range(1, config.epochs + 1))
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds"} <= set(rows[0])
    assert json.loads((out / "history.json").read_text())[-1]["epoch"] == config.epochs
    assert TrainConfig.from_dict(json.loads((out / "config.json").read_text())) == config
    lrs = result.history["lr"]
    assert lrs[-1] < max(lrs)  # warm-up then cosine decay


@pytest.mark.slow
def test_trained_model_round_trips_through_both_formats(quick_run, test_subset, tmp_path):
    from fashion_lib.model import load_model_file, save_model
    from fashion_lib.predict import predict

    model = quick_run[0].model
    expected = [p.class_id for p in predict(model, test_subset.images[:200])]
    for name in ("clf.keras", "clf.h5"):
        loaded = load_model_file(save_model(model, tmp_path / name))
        assert [p.class_id for p in predict(loaded, test_subset.images[:200])] == expected


@pytest.mark.slow
def test_early_stopping_restores_best_weights(train_set):
    import keras

    from fashion_lib.train import train

    snapshots = []

    class Sabotage(keras.callbacks.Callback):
        """Keep each epoch's weights; make the last epoch look like the worst."""

        def on_epoch_end(self, epoch, logs=None):
            snapshots.append([w.copy() for w in self.model.get_weights()])
            if epoch == 1:
                logs["val_accuracy"] = 0.0  # pretend the last epoch was the worst

    config = TrainConfig.from_preset("quick", limit=3000, validation_size=500, epochs=2, early_stopping_patience=1)
    result = train(config, train_set, callbacks=[Sabotage()], verbose=0)
    assert result.best_epoch == 1
    restored = result.model.get_weights()
    assert len(snapshots) == 2
    assert all(np.array_equal(r, b) for r, b in zip(restored, snapshots[0]))  # the first epoch's weights
    assert not all(np.array_equal(r, last) for r, last in zip(restored, snapshots[1]))  # not the last's


@pytest.mark.slow
def test_seeded_deterministic_runs_are_identical(train_set):
    from fashion_lib.train import train

    config = TrainConfig.from_preset("quick", limit=1500, validation_size=300, epochs=1, deterministic=True)
    a = train(config, train_set, verbose=0).model.get_weights()
    b = train(config, train_set, verbose=0).model.get_weights()
    assert len(a) == len(b)
    for wa, wb in zip(a, b):
        np.testing.assert_array_equal(wa, wb)
    c = train(config.replace(seed=43), train_set, verbose=0).model.get_weights()
    assert not all(np.array_equal(wa, wc) for wa, wc in zip(a, c))


# --------------------------------------------------------------------------- the run folder, through the CLI


def _finished_run(folder: Path) -> dict[str, bytes]:
    """A folder holding a finished run's files (their bytes do not matter here)."""
    folder.mkdir(parents=True)
    files = {"clf.keras": b"model", "config.json": b'{"epochs": 4}', "metrics.json": b'{"test_accuracy": 0.9}'}
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return files


def test_a_default_run_folder_taken_in_the_same_second_gets_a_new_name(tmp_path):
    from fashion_lib.runfolder import RunFolder

    _finished_run(tmp_path / "run-1")
    (tmp_path / "run-1-2").mkdir()
    assert RunFolder.new(tmp_path, "run-1").path == tmp_path / "run-1-3"
    assert RunFolder.new(tmp_path, "run-2").path == tmp_path / "run-2"


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            ["--set", "limit=5", "--set", "validation_size=1000"],
            "fashion: error: validation_size=1000 leaves no training images out of 5 (limit=5); "
            "use a smaller validation_size or a larger limit",
        ),
        (["--set", "limit=50"], "fashion: error: run folder {run}: already holds a training run"),
    ],
)
def test_train_refuses_before_writing_and_never_overwrites_a_run(tmp_path, settings, expected):
    """A bad split, or a folder that holds a run: one line, exit 2, the folder's files untouched.
    (``--data-package`` names a package the registry lacks: were the run to go on, it would stop
    there with exit 4, never preparing data.)"""
    from cli_support import cli, one_line

    run = tmp_path / "run"
    files = _finished_run(run)
    fresh = tmp_path / "fresh"
    common = ["--preset", "quick", *settings, "--registry", str(tmp_path / "reg"), "--data-package", "no/data"]
    done = cli("train", *common, "--output-dir", str(run))
    assert done.returncode == 2 and one_line(done).startswith(expected.format(run=run)), done.stderr
    assert {p.name: p.read_bytes() for p in run.iterdir()} == files
    if "limit=5" in settings:  # and a new folder is never made
        done = cli("train", *common, "--output-dir", str(fresh))
        assert done.returncode == 2 and one_line(done) == expected and not fresh.exists()


def test_the_training_line_names_copies_of_the_model_only_where_there_are_several():
    from fashion_lib.train import _replicas

    assert _replicas(1) == ""  # one device: nothing to say (it said "1 replica(s)")
    assert _replicas(2) == ", 2 copies of the model in step (one per worker or GPU)"
