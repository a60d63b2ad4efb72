"""Real multi-worker training: two processes on 127.0.0.1 under MultiWorkerMirroredStrategy."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from cli_support import cli

from fashion_lib.errors import ConfigError
from fashion_lib.training.cluster import cluster_from_environment, parse_tf_config

RAW = Path("/usr/share/datasets/fashion-mnist")
WORKER = Path(__file__).with_name("multiworker_worker.py")
TIMEOUT_S = 300


def _tf_config(cluster: object, task: object) -> str:
    return json.dumps({"cluster": cluster, "task": task})


@pytest.mark.parametrize(
    "cluster, task, size, chief",
    [
        ({"worker": ["10.0.0.1:12345", "10.0.0.2:12345"]}, {"type": "worker", "index": 0}, 2, True),  # the README's
        ({"worker": ["10.0.0.1:12345", "10.0.0.2:12345"]}, {"type": "worker", "index": 1}, 2, False),
        ({"chief": ["10.0.0.1:1"], "worker": ["10.0.0.2:1"]}, {"type": "chief", "index": 0}, 2, True),
        ({"chief": ["10.0.0.1:1"], "worker": ["10.0.0.2:1"]}, {"type": "worker", "index": 0}, 2, False),
        ({"worker": ["localhost:2222"]}, {"type": "worker", "index": 0}, 1, True),  # one machine
    ],
)
def test_tf_config_forms_multi_worker_mirrored_strategy_runs(cluster, task, size, chief):
    found = parse_tf_config(_tf_config(cluster, task))
    assert (found.size, found.chief, found.task_type) == (size, chief, task["type"])


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("[]", 'TF_CONFIG: got []; expected a JSON object with "cluster"'),
        ("{not json", "TF_CONFIG: not valid JSON"),
        (_tf_config({"worker": "notalist"}, {"type": "worker", "index": 0}), '"worker" is "notalist"; expected a list'),
        (_tf_config({"worker": ["nohost"]}, {"type": "worker", "index": 0}), '"host:port" addresses'),
        (_tf_config({"worker": ["a:1"]}, {"type": "worker", "index": "x"}), '"index" is "x"; expected an integer'),
        (
            _tf_config({"worker": ["a:1"]}, {"type": "worker", "index": 5}),
            '"index" is 5; expected an integer from 0 to 0',
        ),
        (_tf_config({"worker": ["a:1", "b:1"]}, {"type": "worker", "index": -1}), "from 0 to 1"),
        (
            _tf_config({"worker": ["a:1", "b:99999"]}, {"type": "worker", "index": 0}),
            '"worker" address "b:99999" has port 99999; expected a port from 1 to 65535',
        ),
        (_tf_config({"chief": ["a:0"], "worker": ["b:1"]}, {"type": "chief"}), '"a:0" has port 0; expected a port'),
        (_tf_config({"worker": ["a:1"]}, {"type": "ps", "index": 0}), 'only "worker" and "chief" tasks are supported'),
        (_tf_config({"worker": ["a:1"], "evaluator": ["b:1"]}, {"type": "worker", "index": 0}), '"evaluator" entry'),
        (_tf_config({"worker": ["a:1"]}, {"type": "chief", "index": 0}), '"cluster" has no "chief" entry'),
        (_tf_config({"worker": ["a:1"]}, None), '"task" is missing'),
        (_tf_config({"worker": ["a:1"], "chief": ["b:1", "c:1"]}, {"type": "chief"}), '"chief" names 2 machines'),
    ],
)
def test_a_malformed_tf_config_is_one_line_naming_it(text, fragment):
    with pytest.raises(ConfigError) as caught:
        parse_tf_config(text)
    line = str(caught.value)
    assert line.startswith("TF_CONFIG: ") and fragment in line and "\n" not in line


def test_an_empty_tf_config_means_one_machine(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", "  ")
    assert cluster_from_environment() is None


def test_a_worker_says_whom_it_waits_for_before_tensorflow_waits(monkeypatch, capsys):
    """TensorFlow waits for the other workers in silence: one line on stderr says why."""
    import tensorflow as tf

    from fashion_lib.training.strategy import strategy_from_environment

    said = []
    monkeypatch.setattr(tf.distribute, "MultiWorkerMirroredStrategy", lambda: said.append(capsys.readouterr().err))
    cluster = {"worker": ["127.0.0.1:23456", "127.0.0.1:23457", "127.0.0.1:23458"]}
    monkeypatch.setenv("TF_CONFIG", _tf_config(cluster, {"type": "worker", "index": 1}))
    strategy_from_environment()
    assert said == [
        "waiting for the other 2 worker(s) of TF_CONFIG (127.0.0.1:23456, 127.0.0.1:23458; Ctrl-C stops) ...\n"
    ]


WAITS = {
    "library": [
        "-c",
        "from fashion_lib.training.strategy import strategy_from_environment as s; s(); print('trained')",
    ],
    # before: the command's own Ctrl-C handler (it cleans up after an interrupt) never ran in TensorFlow's wait
    "fashion train": ["-m", "fashion_lib", "train", "--preset", "quick", "--epochs", "1", "--limit", "2000"],
}


@pytest.mark.slow  # loads TensorFlow in a subprocess
@pytest.mark.parametrize("waiting", WAITS)
def test_ctrl_c_while_waiting_for_the_other_workers_ends_the_worker(tmp_path, waiting):
    """TensorFlow waits for the peers in C++, where Python never sees Ctrl-C: the worker was deaf to it."""
    import signal

    workers = [f"127.0.0.1:{p}" for p in _free_ports(2)]  # the second never comes
    env = {
        **os.environ,
        "TF_CONFIG": _tf_config({"worker": workers}, {"type": "worker", "index": 0}),
        "CUDA_VISIBLE_DEVICES": "",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        "FASHION_HOME": str(tmp_path / "home"),
    }
    args = WAITS[waiting]
    if waiting == "fashion train":  # the data it trains on in its registry: it goes straight to the wait
        _push_small_data(tmp_path, tmp_path / "registry", env["FASHION_HOME"])
        args = [*args, "--registry", str(tmp_path / "registry"), "--data-package", "t/data"]
    worker = subprocess.Popen(
        [sys.executable, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        import threading

        timer = threading.Timer(120, worker.kill)  # a worker that never says it waits is killed, and fails
        timer.daemon = True
        timer.start()
        said = []
        for line in worker.stderr:  # TensorFlow's own lines may come first
            said.append(line)
            if line.startswith("waiting for the other 1 worker(s) of TF_CONFIG"):
                break
        assert said and said[-1].startswith("waiting for"), said
        time.sleep(5)  # well inside TensorFlow's wait
        assert worker.poll() is None
        worker.send_signal(signal.SIGINT)
        out, err = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == -signal.SIGINT, err  # ended by Ctrl-C: status 130 in a shell
    assert "trained" not in out and "Traceback" not in err
    if waiting == "fashion train":  # before: the run-TIME folder claimed before the wait stayed, empty
        outputs = tmp_path / "home" / "outputs"
        said = "".join(said) + err
        assert "outputs: " + str(outputs / "run-") in said, said  # the chief: it claims a folder
        assert not list(outputs.glob("run-*")), said


def _push_small_data(folder: Path, reg: Path, home: str) -> None:
    """``t/data`` in ``reg``: 2,000 real training rows and 1,000 test rows, what these workers train on
    and score (not all 70,000 images prepared, which ``fashion train`` does first in an empty registry)."""
    from fashion_lib.csvio import write_csv
    from fashion_lib.idx import load_images, load_labels

    push = ["data", "push", "--name", "t/data", "--registry", str(reg)]
    for option, idx, n in (("--train", "train", 2000), ("--test", "t10k", 1000)):
        images = load_images(RAW / f"{idx}-images-idx3-ubyte.gz")
        labels = load_labels(RAW / f"{idx}-labels-idx1-ubyte.gz")
        push += [option, str(write_csv(images[:n], labels[:n], folder / f"{idx}.csv"))]
    done = cli(*push, FASHION_HOME=home)
    assert done.returncode == 0, done.stderr


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@pytest.mark.slow  # two real worker processes training
def test_two_workers_train_in_lockstep_and_chief_saves(tmp_path):
    if not (RAW / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"real Fashion-MNIST IDX files not found in {RAW}")
    workers = [f"127.0.0.1:{p}" for p in _free_ports(2)]
    root = Path(__file__).resolve().parents[1]
    procs, logs = [], []
    for index in range(2):
        env = {
            **os.environ,
            "TF_CONFIG": json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}),
            "CUDA_VISIBLE_DEVICES": "",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
        }
        log = open(tmp_path / f"worker-{index}.log", "w")
        logs.append(log)
        procs.append(
            subprocess.Popen(
                [sys.executable, str(WORKER), str(tmp_path), str(RAW)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=root,
            )
        )
    deadline = time.monotonic() + TIMEOUT_S
    try:
        for p in procs:
            p.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        pass
    finally:
        for p in procs:  # only our own children
            if p.poll() is None:
                p.kill()
                p.wait()
        for log in logs:
            log.close()
    output = "\n".join(
        f"--- worker {i} (exit {p.returncode})\n" + (tmp_path / f"worker-{i}.log").read_text()[-3000:]
        for i, p in enumerate(procs)
    )
    assert all(p.returncode == 0 for p in procs), output

    digests = [(tmp_path / f"weights-{i}.sha256").read_text() for i in range(2)]
    assert digests[0] == digests[1], output
    assert "replicas 2" in output

    from fashion_lib.idx import load_images
    from fashion_lib.model import load_model_file

    model_path = tmp_path / "clf.keras"
    assert model_path.is_file(), output
    model = load_model_file(model_path)
    probs = model.predict(load_images(RAW / "t10k-images-idx3-ubyte.gz")[:100], verbose=0)
    assert probs.shape == (100, 10) and np.allclose(probs.sum(axis=1), 1, atol=1e-4)
    import hashlib

    assert hashlib.sha256(b"".join(w.tobytes() for w in model.get_weights())).hexdigest() == digests[0]


@pytest.mark.slow
def test_cli_two_workers_only_the_chief_evaluates_and_publishes(tmp_path):
    """``fashion train --push`` on two workers: one model package, from the chief, scored in one process."""
    if not (RAW / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"real Fashion-MNIST IDX files not found in {RAW}")
    from fashion_lib import registry

    reg = tmp_path / "registry"
    registry_env = {**os.environ, "FASHION_HOME": str(tmp_path / "home"), "QUILT_MINIMIZE_STDOUT": "true"}
    _push_small_data(tmp_path, reg, registry_env["FASHION_HOME"])  # both workers then read the same data version
    workers = [f"127.0.0.1:{p}" for p in _free_ports(2)]
    procs = []
    for index in range(2):
        env = {
            **registry_env,
            "CUDA_VISIBLE_DEVICES": "",
            "TF_CONFIG": json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}),
        }
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "fashion_lib",
                    "train",
                    "--preset",
                    "quick",
                    "--limit",
                    "2000",
                    "--epochs",
                    "1",
                    "--push",
                    "--registry",
                    str(reg),
                    "--data-package",
                    "t/data",
                    "--output-dir",
                    str(tmp_path / f"out-{index}"),
                ],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    try:
        outputs = [p.communicate(timeout=TIMEOUT_S)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [p.returncode for p in procs] == [0, 0], "\n".join(o[-3000:] for o in outputs)
    assert "model top hash: " in outputs[0] and "the chief evaluates and publishes" in outputs[1]
    versions = registry.list_versions(registry=str(reg), name="fashion-mnist/model")
    assert len(versions) == 1
    assert (tmp_path / "out-0" / "clf.keras").is_file() and not (tmp_path / "out-1" / "clf.keras").exists()
