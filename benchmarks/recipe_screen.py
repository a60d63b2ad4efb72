"""Recipe screen: many candidate recipes x three seeds, to find what 94.3 % costs.

Each candidate is our model code (``fashion_lib.model.build_model``, the config, the fixed-seed
validation split, the optimizer and its schedule) with some ``TrainConfig`` fields changed. The
screen trains every candidate with seeds 42, 1 and 2 and scores the best validation epoch on the
validation split (to choose) and on the official test set (to report): one view, the image and
its mirror, the ten views the default ships, and eighteen.

It runs on Keras 3 with the **JAX** backend, so a lent GPU machine that has JAX but no
TensorFlow can run it (TensorFlow's 600 MB wheel can't be carried there): the training loop is
``model.fit`` over numpy batches with the same augmentations (flips, random erasing) drawn from
numpy instead of ``tf.data``. Same recipe, different random streams and kernels: figures agree
with the project's TensorFlow training to within seed-to-seed spread (see docs/accuracy-experiments.md), they are not
the shipped model's. ``--cost`` times a training step of each candidate's network with the
project's TensorFlow on this CPU, as a ratio to the base's (``v2``) step measured in the same run.

    .venv/bin/python benchmarks/recipe_screen.py --summary docs/recipe_screen.jsonl   # the table
    .venv/bin/python benchmarks/recipe_screen.py --cost        # CPU step cost vs the base (v2), ~3 min
    KERAS_BACKEND=jax python benchmarks/recipe_screen.py --run OUT.jsonl --workers 12  # needs keras + jax
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEEDS = (42, 1, 2)
SMOKE = {"limit": 3000, "validation_size": 500, "epochs": 1}  # --smoke: seconds, not a result
VGG4 = [[32, 32], [64, 64]]
BASE = "v2"  # the preset every candidate changes: the default when the screen was first run (2026-11-28)
# tag -> (what changes against the base, TrainConfig overrides, EMA momentum or 0)
CANDIDATES: dict[str, tuple[str, dict[str, Any], float]] = {
    "base": ("the v2 recipe, then the default", {}, 0.0),
    "ema99": ("+ weight EMA (0.99)", {}, 0.99),
    "ep30": ("30 epochs", {"epochs": 30}, 0.0),
    "ep30e8": ("30 epochs + random erasing 8 px", {"epochs": 30, "augment_erase": 8}, 0.0),
    "s3_128": ("+ a third stage (128)", {"stages": [[32], [64], [128]]}, 0.0),
    "s2x64": ("two convs in stage 2", {"stages": [[32], [64, 64]]}, 0.0),
    "w128": ("stage 2 at 128 channels", {"stages": [[32], [128]]}, 0.0),
    "vgg4": ("two convs per stage", {"stages": VGG4}, 0.0),
    "s3_128_e30e8": (
        "third stage, 30 epochs, erasing",
        {"stages": [[32], [64], [128]], "epochs": 30, "augment_erase": 8},
        0.0,
    ),
    "vgg4_e30e8": ("two convs per stage, 30 epochs, erasing", {"stages": VGG4, "epochs": 30, "augment_erase": 8}, 0.0),
    "d512": ("dense 512", {"dense_units": 512}, 0.0),
    "b512": ("batch 512, learning rate 6e-3", {"batch_size": 512, "learning_rate": 6e-3}, 0.0),
    "w64_128": ("stages at 64 and 128 channels", {"stages": [[64], [128]]}, 0.0),
    "ema999": ("+ weight EMA (0.999)", {}, 0.999),
    "ep18e8": ("+ random erasing 8 px", {"augment_erase": 8}, 0.0),
    "ep12": ("12 epochs", {"epochs": 12}, 0.0),
    "nvgg_e18e8": (
        "two convs per stage at half width, erasing",
        {"stages": [[16, 16], [32, 32]], "augment_erase": 8},
        0.0,
    ),
    # the default since issue 10 (its precision fixed: "auto" would ask TensorFlow, which a JAX machine lacks)
    "default": (
        "today's default: two convs per stage, 24 epochs, erasing, bfloat16",
        {"stages": VGG4, "epochs": 24, "augment_erase": 8, "precision": "mixed_bfloat16"},
        0.0,
    ),
    "default_f32": (
        "today's default in float32",
        {"stages": VGG4, "epochs": 24, "augment_erase": 8, "precision": "float32"},
        0.0,
    ),
}


def shifted(images: np.ndarray, mirror: bool, dy: int, dx: int) -> np.ndarray:
    """One test-time view, as ``fashion_lib.model.tta_views`` names them (zero fill)."""
    x = images[:, :, ::-1] if mirror else images
    out = np.zeros_like(x)
    rows = (slice(0, 28 - dy), slice(dy, 28)) if dy >= 0 else (slice(-dy, 28), slice(0, 28 + dy))
    cols = (slice(0, 28 - dx), slice(dx, 28)) if dx >= 0 else (slice(-dx, 28), slice(0, 28 + dx))
    out[:, rows[1], cols[1]] = x[:, rows[0], cols[0]]
    return out


def train_one(tag: str, seed: int, train_all, test, smoke: bool = False) -> dict:
    """Train one candidate with one seed (Keras on JAX); its scores."""
    import keras

    from fashion_lib.config import TrainConfig
    from fashion_lib.model import build_model, tta_views
    from fashion_lib.training.inputs import split_validation
    from fashion_lib.training.optimizer import make_optimizer

    _, overrides, ema = CANDIDATES[tag]
    config = TrainConfig.from_preset(BASE, **{**overrides, **(SMOKE if smoke else {})}, seed=seed)
    keras.utils.set_random_seed(seed)
    train, val = split_validation(train_all, config)

    class Batches(keras.utils.PyDataset):
        def __init__(self) -> None:
            super().__init__()
            self.rng = np.random.default_rng(seed)
            self.onehot = np.eye(10, dtype=np.float32)[train.labels]
            self.on_epoch_end()

        def __len__(self) -> int:
            return len(train.images) // config.batch_size

        def on_epoch_end(self) -> None:
            self.order = self.rng.permutation(len(train.images))

        def __getitem__(self, i: int):
            idx = self.order[i * config.batch_size : (i + 1) * config.batch_size]
            x, n = train.images[idx].copy(), len(idx)
            flip = self.rng.random(n) < 0.5
            x[flip] = x[flip][:, :, ::-1]
            if config.augment_erase:  # the same squares as fashion_lib.training.inputs.erase_batch
                start = self.rng.integers(0, 28, (n, 2)) - config.augment_erase // 2
                chosen = self.rng.random(n) < config.erase_probability
                index = np.arange(28)[None, :]
                rows = (index >= start[:, :1]) & (index < start[:, :1] + config.augment_erase)
                cols = (index >= start[:, 1:]) & (index < start[:, 1:] + config.augment_erase)
                x[rows[:, :, None] & cols[:, None, :] & chosen[:, None, None]] = 0
            return x, self.onehot[idx]

    batches = Batches()
    model = build_model(config)
    optimizer = make_optimizer(config, config.epochs * len(batches))
    if ema:
        optimizer.use_ema, optimizer.ema_momentum, optimizer.ema_overwrite_frequency = True, ema, None
    loss = keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing)
    model.compile(optimizer=optimizer, loss=loss, jit_compile=True)

    def accuracy(images: np.ndarray, labels: np.ndarray) -> float:
        return float(np.mean(model.predict(images, batch_size=2000, verbose=0).argmax(1) == labels))

    curve: list[float] = []
    best: list[Any] = [-1.0, None]

    class Validate(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            score = accuracy(val.images, val.labels)
            curve.append(round(score, 4))
            if score > best[0] and not ema:  # EMA: the averaged weights at the end, as swapped in
                best[0], best[1] = score, model.get_weights()

    started = time.time()
    model.fit(batches, epochs=config.epochs, callbacks=[Validate()], verbose=0)
    seconds = time.time() - started
    if best[1] is not None:
        model.set_weights(best[1])
    ten = tta_views(config)
    eighteen = ten + [v for v in tta_views(TrainConfig.from_preset("default", tta_shift=2)) if v not in ten]
    result: dict[str, Any] = dict(tag=tag, seed=seed, secs=round(seconds, 1), params=model.count_params(), curve=curve)
    for split, data in (("val", val), ("test", test)):
        probs = [model.predict(shifted(data.images, *v), batch_size=2000, verbose=0) for v in eighteen]
        for name, n in (("single", 1), ("flip", 2), ("tta10", 10), ("tta18", 18)):
            result[f"{split}_{name}"] = float(np.mean(sum(probs[:n]).argmax(1) == data.labels))
    return result


def run(
    out: Path,
    workers: int,
    worker: int | None,
    tags: list[str],
    raw: Path,
    deadline: float,
    smoke: bool,
    seeds: tuple[int, ...] = SEEDS,
) -> int:
    """Train every (candidate, seed); with ``workers`` > 1, in that many processes."""
    jobs = [(tag, seed) for tag in tags for seed in seeds]
    if worker is None and workers > 1:
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--run",
                    str(out),
                    "--workers",
                    str(workers),
                    "--worker",
                    str(i),
                    "--raw",
                    str(raw),
                    "--deadline",
                    str(deadline),
                    "--only",
                    ",".join(tags),
                    "--seeds",
                    ",".join(map(str, seeds)),
                    *(["--smoke"] if smoke else []),
                ]
            )
            for i in range(workers)
        ]
        return max(p.wait() for p in procs)
    import jax

    jax.config.update("jax_default_matmul_precision", "highest")  # float32 as on a CPU, no TF32
    from benchmarks.train_bench import load  # the same four IDX files, as Datasets

    train_all, test = load(raw)
    for tag, seed in jobs[worker or 0 :: workers]:
        if time.time() > deadline:
            break
        row = train_one(tag, seed, train_all, test, smoke)
        with open(out, "a") as fh:  # one short line per job: appends from several workers don't mix
            fh.write(json.dumps(row) + "\n")
        print(
            f"{tag} seed {seed}: val {row['val_tta10']:.2%} test {row['test_tta10']:.2%} ({row['secs']} s)", flush=True
        )
    return 0


def step_cost(tags: list[str], steps: int = 30) -> dict[str, float]:
    """Median milliseconds of one TensorFlow training step (batch 256) of each candidate's network."""
    from fashion_lib.backend import load_tensorflow
    from fashion_lib.config import TrainConfig
    from fashion_lib.model import build_model

    load_tensorflow()

    rng = np.random.default_rng(0)
    ms: dict[str, float] = {}
    for tag in tags:
        config = TrainConfig.from_preset(BASE, **CANDIDATES[tag][1])
        x = rng.integers(0, 256, (config.batch_size, 28, 28), dtype=np.uint8)
        y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, config.batch_size)]
        model = build_model(config)
        model.compile(optimizer="adamw", loss="categorical_crossentropy")
        for _ in range(3):
            model.train_on_batch(x, y)
        times = []
        for _ in range(steps):
            t = time.perf_counter()
            model.train_on_batch(x, y)
            times.append(time.perf_counter() - t)
        ms[tag] = 1000 * statistics.median(times) * 256 / config.batch_size  # per 256 images
    return ms


def summary(rows: list[dict]) -> str:
    """Mean over seeds per candidate, best test score last: the table docs/accuracy-experiments.md quotes."""
    by_tag: dict[str, list[dict]] = {}
    for row in rows:
        by_tag.setdefault(row["tag"], []).append(row)
    lines = [
        "| candidate | what changes | seeds | val, 10 views | test, 1 view | test, 10 views | test per seed (42 / 1 / 2) |",
        "|---|---|---|---|---|---|---|",
    ]
    for tag, group in sorted(by_tag.items(), key=lambda kv: statistics.mean(r["test_tta10"] for r in kv[1])):
        mean = lambda key: statistics.mean(r[key] for r in group)  # noqa: E731
        seeds = " / ".join(f"{r['test_tta10']:.2%}" for r in sorted(group, key=lambda r: SEEDS.index(r["seed"])))
        what = CANDIDATES[tag][0] if tag in CANDIDATES else "?"
        lines.append(
            f"| {tag} | {what} | {len(group)} | {mean('val_tta10'):.2%} | {mean('test_single'):.2%} "
            f"| **{mean('test_tta10'):.2%}** | {seeds} |"
        )
    return "\n".join(lines)


def cost_table(ms: dict[str, float]) -> str:
    """Each candidate's CPU step and whole training against the base's (v2), measured in one run."""
    from fashion_lib.config import TrainConfig

    base_ms, base_epochs = ms["base"], TrainConfig.from_preset(BASE).epochs
    lines = [
        "| candidate | ms per 256 images | x base's step | epochs | x base's training |",
        "|---|---|---|---|---|",
    ]
    for tag, value in ms.items():
        epochs = TrainConfig.from_preset(BASE, **CANDIDATES[tag][1]).epochs
        lines.append(
            f"| {tag} | {value:.0f} | {value / base_ms:.2f} | {epochs} | {value / base_ms * epochs / base_epochs:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary", type=Path, metavar="JSONL", help="print the table of a --run file; no training")
    parser.add_argument("--cost", action="store_true", help="time each candidate's training step on this CPU")
    parser.add_argument("--run", type=Path, metavar="JSONL", help="train the candidates, append results here")
    parser.add_argument("--only", help="comma-separated candidate tags (default: all)")
    parser.add_argument("--workers", type=int, default=1, help="processes sharing the machine (a GPU: 12)")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--deadline", type=float, default=float("inf"), help="start no job after this Unix time")
    parser.add_argument("--raw", type=Path, help="folder with the four IDX files (default: Debian's)")
    parser.add_argument("--smoke", action="store_true", help="one epoch on 3,000 images: checks the script runs")
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)), help="comma-separated seeds (default: 42,1,2)")
    args = parser.parse_args(argv)
    try:
        seeds = tuple(int(s) for s in args.seeds.split(","))
    except ValueError:
        parser.error(f"--seeds {args.seeds!r}: expected comma-separated integers, e.g. 42,1,2")
    tags = args.only.split(",") if args.only else list(CANDIDATES)
    unknown = [t for t in tags if t not in CANDIDATES]
    if unknown or sum(map(bool, (args.summary, args.cost, args.run))) != 1:
        parser.error(f"unknown candidates: {unknown}" if unknown else "give one of --summary, --cost, --run")
    if args.summary:
        try:
            rows = [json.loads(line) for line in args.summary.read_text().splitlines() if line.strip()]
            print(summary(rows))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            parser.error(f"{args.summary}: not a recipe-screen results file ({type(exc).__name__}: {exc})")
        return 0
    if args.cost:
        print(cost_table(step_cost(["base", *(t for t in tags if t != "base")])))
        return 0
    if os.environ.get("KERAS_BACKEND") != "jax":
        parser.error("--run needs KERAS_BACKEND=jax (and keras + jax installed)")
    import fashion_lib.backend

    fashion_lib.backend.load_tensorflow = lambda: None  # the model code is plain Keras; no TensorFlow here
    from fashion_lib.settings import DEBIAN_DATASET_DIR

    raw = args.raw or DEBIAN_DATASET_DIR
    return run(args.run, args.workers, args.worker, tags, raw, args.deadline, args.smoke, seeds)


if __name__ == "__main__":
    sys.exit(main())
