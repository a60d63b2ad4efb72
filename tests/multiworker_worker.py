"""One worker of the two-process MultiWorkerMirroredStrategy test (run by test_multiworker.py).

Reads ``TF_CONFIG`` from the environment like any real worker, trains a few steps of a small
model on a Fashion-MNIST subset, writes a checksum of its final weights to
``<out>/weights-<task index>.sha256`` and, on the chief, saves the model to ``<out>/clf.keras``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path


def main() -> int:
    out = Path(sys.argv[1])
    raw = Path(sys.argv[2])
    task = json.loads(os.environ["TF_CONFIG"])["task"]

    from fashion_lib.train import is_chief, strategy_from_environment

    strategy = strategy_from_environment()  # first: collectives must start before other TF work

    from fashion_lib.config import TrainConfig
    from fashion_lib.csvio import Dataset
    from fashion_lib.idx import load_images, load_labels
    from fashion_lib.model import save_model
    from fashion_lib.train import train

    data = Dataset(
        load_images(raw / "train-images-idx3-ubyte.gz")[:4000], load_labels(raw / "train-labels-idx1-ubyte.gz")[:4000]
    )
    config = TrainConfig.from_preset(
        "quick", limit=1200, validation_size=200, epochs=2, batch_size=64, stages=[[8], [16]], dense_units=32
    )
    result = train(config, data, output_dir=out / f"run-{task['index']}", strategy=strategy, verbose=1)
    weights = result.model.get_weights()
    digest = hashlib.sha256(b"".join(w.tobytes() for w in weights)).hexdigest()
    (out / f"weights-{task['index']}.sha256").write_text(digest)
    if is_chief(strategy):
        save_model(result.model, out / "clf.keras")
    print(
        f"worker {task['index']}: replicas {strategy.num_replicas_in_sync}, "
        f"val accuracy {result.validation.get('accuracy')}, weights {digest[:16]}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
