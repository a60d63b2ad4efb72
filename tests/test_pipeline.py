"""The main job through the CLI: train, publish, lineage, fetch, predict, reproduce, refuse bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fashion_lib import registry, settings
from fashion_lib.csvio import write_csv
from fashion_lib.sources import find_in

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        find_in(settings.DEBIAN_DATASET_DIR) is None, reason="Debian package dataset-fashion-mnist is not installed"
    ),
]
QUICK = ["--preset", "quick", "--limit", "5000", "--epochs", "3"]


def fashion(*args: str, home: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "FASHION_HOME": str(home), "QUILT_MINIMIZE_STDOUT": "true"}
    env.pop("FASHION_REGISTRY", None)
    return subprocess.run(
        [sys.executable, "-m", "fashion_lib", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def _value(output: str, label: str) -> str:
    return next(line.split(": ", 1)[1] for line in output.splitlines() if line.startswith(label + ": "))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def trained(home: Path) -> dict[str, str]:
    """The CLI's first run on an empty home (data converted, checked and published, then a model).
    A training of its own: test_train's quick run is train() in process on the whole preset."""
    run = fashion("train", *QUICK, "--push", "--output-dir", str(home / "run"), home=home)
    assert run.returncode == 0, run.stderr
    return {
        "model": _value(run.stdout, "model top hash"),
        "data": _value(run.stdout, "data top hash"),
        "accuracy": _value(run.stdout, "test accuracy"),
        "output": run.stdout + run.stderr,
    }


def test_train_push_publishes_model_with_lineage(trained: dict[str, str], home: Path) -> None:
    assert float(trained["accuracy"]) > 0.5
    assert "epoch 3/3" in trained["output"]  # progress per epoch
    for name in ("clf.keras", "history.csv", "metrics.json", "config.json"):
        assert (home / "run" / name).is_file()
    top, meta, message = registry.read_meta("fashion-mnist/model", registry=str(home / "registry"))
    assert top == trained["model"] and "test accuracy" in message
    quality = {
        "verdict": "pass",
        "accepted": None,
        "failed": [],
        "reference": "official Fashion-MNIST (the four upstream IDX files)",
    }  # the data's stored report
    assert meta["data"] == {
        "name": "fashion-mnist/data",
        "top_hash": trained["data"],
        "registry": str(home / "registry"),
        "quality": quality,
    }
    assert len(meta["code"]["commit"]) == 40 and isinstance(meta["code"]["dirty"], bool)
    req = (Path(__file__).parents[1] / "requirements.txt").read_bytes()
    assert meta["environment"]["requirements_sha256"] == __import__("hashlib").sha256(req).hexdigest()
    assert meta["environment"]["tensorflow"].startswith("2.21")
    assert meta["training"]["config"]["epochs"] == 3 and meta["training"]["epochs_run"] == 3
    assert meta["training"]["started"] <= meta["training"]["finished"]
    assert abs(meta["metrics"]["test_accuracy"] - float(trained["accuracy"])) < 1e-4


def test_lineage_command(trained: dict[str, str], home: Path) -> None:
    run = fashion("lineage", trained["model"][:10], home=home)
    assert run.returncode == 0, run.stderr
    assert f"fashion-mnist/data@{trained['data'][:12]}" in run.stdout
    assert "requirements.txt sha256" in run.stdout and "commit " in run.stdout


def test_model_fetch_and_predict(trained: dict[str, str], home: Path, tmp_path: Path) -> None:
    run = fashion("model", "fetch", "--dest", str(tmp_path / "m"), home=home)
    assert run.returncode == 0 and "all files verified" in run.stdout
    assert (tmp_path / "m" / "clf.keras").is_file() and "Test accuracy" in (tmp_path / "m" / "README.md").read_text()
    from PIL import Image

    from fashion_lib import idx

    images = idx.load_images(find_in(settings.DEBIAN_DATASET_DIR)["t10k-images-idx3-ubyte"])[:3]
    labels = idx.load_labels(find_in(settings.DEBIAN_DATASET_DIR)["t10k-labels-idx1-ubyte"])[:3]
    Image.fromarray(images[0]).save(tmp_path / "shoe.png")
    write_csv(images, labels, tmp_path / "three.csv")
    run = fashion("predict", str(tmp_path / "shoe.png"), str(tmp_path / "three.csv"), home=home)
    assert run.returncode == 0, run.stderr
    rows = [line.split("\t") for line in run.stdout.strip().splitlines()]
    assert len(rows) == 4 and rows[0][0].endswith("shoe.png") and rows[1][0].endswith("three.csv:2")
    assert rows[0][1:3] == rows[1][1:3]  # same image, same answer
    bad = fashion("predict", str(tmp_path / "nope.png"), home=home)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "no such file" in bad.stderr


def test_corrupted_model_in_registry_is_refused(trained: dict[str, str], home: Path, tmp_path: Path) -> None:
    reg = tmp_path / "reg"
    model = home / "run" / "clf.keras"
    top = registry.push("t/model", {"clf.keras": model}, registry=str(reg))
    victim = next(p for p in (reg / "objects").iterdir() if p.stat().st_size == model.stat().st_size)
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    run = fashion(
        "model",
        "fetch",
        "--registry",
        str(reg),
        "--model-package",
        "t/model",
        "--dest",
        str(tmp_path / "out"),
        home=home,
    )
    assert run.returncode == 3, run.stderr
    assert run.stderr.startswith("fashion: error: ") and "clf.keras" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "out" / "clf.keras").exists()
    assert top


def test_reproduce_retrains_from_recorded_data_and_config(trained: dict[str, str], home: Path) -> None:
    run = fashion("reproduce", trained["model"], "--output-dir", str(home / "again"), home=home)
    assert run.returncode == 0, run.stderr
    assert f"fashion-mnist/data@{trained['data'][:12]}" in run.stderr
    line = next(ln for ln in run.stdout.splitlines() if ln.startswith("test_accuracy "))
    recorded, reproduced = (float(x) for x in line.split()[1:3])
    assert recorded == pytest.approx(float(trained["accuracy"]), abs=1e-4)
    # same machine, same environment, same seed: bit for bit (the committed tree may differ: noted)
    assert reproduced == recorded and "reproduced: identical test accuracy" in run.stdout
    assert "note: " in run.stdout


def test_recorded_accuracy_is_plain_keras_on_the_shipped_file(
    trained: dict[str, str], home: Path, tmp_path: Path
) -> None:
    """Outside the project (fresh interpreter, stock Keras, safe mode, default predict): the file
    scores exactly the recorded accuracy, with exactly the recorded confusion matrix."""
    import json

    metrics = json.loads((home / "run" / "metrics.json").read_text())
    source = find_in(settings.DEBIAN_DATASET_DIR)
    script = f"""
import gzip, json, sys
import keras, numpy as np
assert "fashion_lib" not in sys.modules
def idx(path, offset):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as fh:
        return np.frombuffer(fh.read(), np.uint8, offset=offset)
images = idx({str(source["t10k-images-idx3-ubyte"])!r}, 16).reshape(-1, 28, 28)
labels = idx({str(source["t10k-labels-idx1-ubyte"])!r}, 8)
model = keras.models.load_model({str(home / "run" / "clf.keras")!r})
predicted = model.predict(images, verbose=0).argmax(1)
confusion = np.zeros((10, 10), int)
np.add.at(confusion, (labels, predicted), 1)
print(json.dumps({{"accuracy": float(np.mean(predicted == labels)), "confusion": confusion.tolist()}}))
"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    plain = json.loads(done.stdout.strip().splitlines()[-1])
    assert plain["accuracy"] == metrics["test_accuracy"]
    assert plain["confusion"] == metrics["confusion_matrix"]
    assert 0 < metrics["test_accuracy_single_view"] < 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["--epochs", "0"], "epochs=0 is invalid; expected an integer from 1 to 1000"),
        (["--batch-size", "-1"], "batch_size=-1 is invalid"),
        (["--set", "optimizer=nesterov"], "optimizer='nesterov' is invalid; expected one of"),
        (["--preset", "huge"], "unknown preset 'huge'"),
        (["--set", "dropout"], "expected KEY=VALUE"),
    ],
)
def test_bad_config_is_one_line(home: Path, args: list[str], message: str) -> None:
    run = fashion("train", *args, home=home, timeout=60)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and message in run.stderr, run.stderr


def test_invalid_data_package_refused_before_training(home: Path, tmp_path: Path) -> None:
    source = find_in(settings.DEBIAN_DATASET_DIR)
    from fashion_lib import idx

    images = idx.load_images(source["t10k-images-idx3-ubyte"])
    labels = idx.load_labels(source["t10k-labels-idx1-ubyte"]).copy()
    labels[labels == 3] = 4  # no dresses left: a broken package, pushed around the circuit breaker
    test_csv = write_csv(images, labels, tmp_path / "fashion-mnist_test.csv")
    train_csv = home / "data" / "fashion-mnist_train.csv"
    reg = tmp_path / "reg"
    registry.push("fashion-mnist/data", {test_csv.name: test_csv, train_csv.name: train_csv}, registry=str(reg))
    run = fashion("train", *QUICK, "--registry", str(reg), "--output-dir", str(tmp_path / "run"), home=home)
    assert run.returncode == 1, run.stderr
    assert "fashion-mnist_test.csv: no rows of class 3 (Dress)" in run.stderr
    assert "epoch" not in run.stdout and not (tmp_path / "run" / "clf.keras").exists()


def test_interrupted_training_publishes_nothing(trained: dict[str, str], home: Path, tmp_path: Path) -> None:
    """Ctrl-C after the first epoch: exit 130, no version of any package added, no model file left.
    The registry is the module's, which already holds the data (published by ``trained``): the run
    goes straight to training rather than preparing and checking 70,000 images again, and on 5,000
    images its first epoch comes sooner; 30 epochs make sure it is still training when stopped."""
    env = {**os.environ, "FASHION_HOME": str(home), "QUILT_MINIMIZE_STDOUT": "true"}
    reg = home / "registry"
    before = [(v.name, v.top_hash) for v in registry.list_versions(registry=str(reg))]
    assert ("fashion-mnist/data", trained["data"]) in before
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fashion_lib",
            "train",
            "--preset",
            "quick",
            "--limit",
            "5000",
            "--epochs",
            "30",
            "--push",
            "--registry",
            str(reg),
            "--model-package",
            "t/interrupted",
            "--output-dir",
            str(tmp_path / "run"),
        ],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        # Ctrl-C as a terminal delivers it: a test run started in the background (`cmd &` in a
        # script) inherits SIGINT ignored, and Python then rightly keeps ignoring it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.time() + 300
    for line in proc.stdout:
        if line.startswith("epoch 1/") or time.time() > deadline:
            break
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert [(v.name, v.top_hash) for v in registry.list_versions(registry=str(reg))] == before
    assert not list((tmp_path / "run").glob("*.keras")) and not list((tmp_path / "run").glob("*.part*"))


def test_evaluate_command(trained: dict[str, str], home: Path) -> None:
    run = fashion("evaluate", "--top-hash", trained["model"][:12], home=home)
    assert run.returncode == 0, run.stderr
    first = run.stdout.splitlines()[0]
    assert first.startswith(f"test accuracy {trained['accuracy']}")  # the file's own views, nothing added
    assert "Ankle boot" in run.stdout


def test_model_push_of_a_finished_run(trained: dict[str, str], home: Path, tmp_path: Path) -> None:
    reg = tmp_path / "reg"
    run = fashion("model", "push", str(home / "run"), "--registry", str(reg), home=home)
    assert run.returncode == 0, run.stderr
    top = _value(run.stdout, "model top hash")
    assert top == trained["model"]  # pushed elsewhere, the version `fashion train --push` published
    _, meta, _ = registry.read_meta("fashion-mnist/model", registry=str(reg), top_hash=top)
    assert meta["data"]["top_hash"] == trained["data"] and meta["training"]["epochs_run"] == 3
    assert meta["data"]["quality"]["verdict"] == "pass"  # the real data's verdict, as recorded at training
    empty = fashion("model", "push", str(tmp_path), "--registry", str(reg), home=home)
    assert (
        empty.returncode == 2 and f"{tmp_path / 'metrics.json'}: is missing; expected the metrics.json" in empty.stderr
    )


def test_a_small_limit_shrinks_the_validation_split() -> None:
    """`-p limit 2000` works with the default 5,000-image split (a fifth of a small subset is held out)."""
    from fashion_lib.pipeline import config_from_parameters

    assert config_from_parameters("default", limit=2000).validation_size == 400
    assert config_from_parameters("quick", limit=1500).validation_size == 300
    assert config_from_parameters("default", limit=40000).validation_size == 5000  # large: unchanged
    assert config_from_parameters("default", limit=2000, validation_size=100).validation_size == 100
    assert config_from_parameters("default", limit=0).limit is None
