"""Training benchmark: the keras.io "simple MNIST convnet", our first and previous default recipes
(presets ``v1`` and ``v2``) and the current default, back to back in one run, on this machine.

All train on the same 55,000 images (the default fixed-seed split; 5,000 held out for
validation). After every epoch the benchmark (and only the benchmark) scores the model *as it
would be shipped* (test-time views inside, plain ``predict``) on the official 10,000 test
images, to draw test accuracy against training seconds; that scoring time is not counted.
Nothing here feeds back into the recipes, which were chosen on the validation split.
Writes the table to stdout and the curve to ``docs/accuracy_vs_time.png``.

    .venv/bin/python benchmarks/train_bench.py            # 30 to 45 min on 2 idle CPU cores
    .venv/bin/python benchmarks/train_bench.py --quick    # smoke test: tiny subset, 2 epochs
    .venv/bin/python benchmarks/train_bench.py --replot docs/accuracy_vs_time.json  # redraw, no training
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fashion_lib.config import TrainConfig  # noqa: E402
from fashion_lib.csvio import Dataset  # noqa: E402
from fashion_lib.idx import load_images, load_labels  # noqa: E402
from fashion_lib.settings import DEBIAN_DATASET_DIR  # noqa: E402

TARGETS = (0.90, 0.93)
PLOT = Path(__file__).resolve().parents[1] / "docs" / "accuracy_vs_time.png"


def load(raw: Path) -> tuple[Dataset, Dataset]:
    def one(prefix: str) -> Dataset:
        return Dataset(
            load_images(raw / f"{prefix}-images-idx3-ubyte.gz"), load_labels(raw / f"{prefix}-labels-idx1-ubyte.gz")
        )

    return one("train"), one("t10k")


def test_tracker(test: Dataset, config: TrainConfig | None = None):
    """A callback scoring the test set after each epoch; its own time is kept off the clock.

    With a ``config`` it scores the model as shipped (its test-time views averaged inside).
    """
    import keras

    from fashion_lib.evaluate import predict_proba
    from fashion_lib.model import export_model

    class Tracker(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.points: list[tuple[float, float]] = []  # (clock s, test accuracy)
            self.excluded = 0.0

        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            t = time.perf_counter()
            clock = t - self.start - self.excluded
            model = export_model(self.model, config) if config is not None else self.model
            acc = float(np.mean(predict_proba(model, test.images, batch_size=1024).argmax(1) == test.labels))
            self.points.append((clock, acc))
            print(f"  [bench] epoch {epoch + 1}: {clock:.0f}s on the clock, test {acc:.4f}", flush=True)
            self.excluded += time.perf_counter() - t

    return Tracker()


def run_baseline(fit: Dataset, val: Dataset, test: Dataset, epochs: int) -> dict:
    """keras.io/examples/vision/mnist_convnet, unchanged but for the data."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(42)
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    scale = lambda d: (d.images.astype("float32")[..., None] / 255, keras.utils.to_categorical(d.labels, 10))  # noqa: E731
    x, y = scale(fit)

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.t)

    seconds: list[float] = []
    tracker = test_tracker(Dataset(scale(test)[0], test.labels))  # the baseline wants floats 0..1
    start = time.perf_counter()
    model.fit(x, y, batch_size=128, epochs=epochs, validation_data=scale(val), verbose=0, callbacks=[Timer(), tracker])
    total = time.perf_counter() - start - tracker.excluded
    return summarise(
        "keras.io convnet (Adam, batch 128)", model.count_params(), len(fit), seconds, total, tracker.points
    )


def run_ours(name: str, train_set: Dataset, test: Dataset, config: TrainConfig) -> dict:
    from fashion_lib.evaluate import predict_proba
    from fashion_lib.model import export_model, tta_views
    from fashion_lib.train import train

    tracker = test_tracker(test, config)
    result = train(config, train_set, callbacks=[tracker], verbose=1)
    total = result.train_seconds - tracker.excluded
    fit_images = (config.limit or len(train_set)) - config.validation_size
    computed = ", bfloat16" if result.config.precision == "mixed_bfloat16" else ""  # "auto" as this machine chose
    summary = summarise(
        f"{name} ({len(tta_views(config))} views{computed})",
        result.model.count_params(),
        fit_images,
        result.history["seconds"],
        total,
        tracker.points,
    )
    # the delivered model holds the best validation epoch's weights: score that one, as shipped
    # (plain predict at Keras' default batch size) and as the bare network on the unaltered images
    shipped = export_model(result.model, config)
    summary["final_test"] = float(np.mean(predict_proba(shipped, test.images).argmax(1) == test.labels))
    summary["single_view"] = float(np.mean(predict_proba(result.model, test.images).argmax(1) == test.labels))
    summary["best_epoch"] = result.best_epoch
    summary["validation"] = result.validation
    summary["config"] = result.config.to_dict()  # as trained: precision "auto" resolved
    return summary


def summarise(name, params, images, seconds, total, points) -> dict:
    def reach(target):
        return next((round(p[0], 1) for p in points if p[1] >= target), None)

    per_epoch = statistics.median(seconds)
    return {
        "recipe": name,
        "params": params,
        "epochs": len(seconds),
        "train_images": images,
        "s_per_epoch": round(per_epoch, 2),
        "images_per_s": round(images / per_epoch),
        "train_s": round(total, 1),
        **{f"t_{int(t * 100)}": reach(t) for t in TARGETS},
        "final_test": points[-1][1],
        "single_view": None,
        "best_test_seen": max(p[1] for p in points),
        "points": points,
    }


def table(rows: list[dict]) -> str:
    head = [
        "recipe",
        "params",
        "epochs",
        "s/epoch",
        "img/s",
        "train s",
        "to 90%",
        "to 93%",
        "test (file)",
        "single view",
    ]
    fmt = lambda v, pct=False: "-" if v is None else (f"{v * 100:.2f}%" if pct else str(v))  # noqa: E731
    lines = [head] + [
        [
            r["recipe"],
            f"{r['params']:,}",
            str(r["epochs"]),
            f"{r['s_per_epoch']:.1f}",
            str(r["images_per_s"]),
            f"{r['train_s']:.0f}",
            fmt(r["t_90"]),
            fmt(r["t_93"]),
            fmt(r["final_test"], True),
            fmt(r["single_view"], True),
        ]
        for r in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = ["  ".join(c.ljust(w) for c, w in zip(line, widths)) for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def draw(rows: list[dict], plot: Path) -> None:
    from fashion_lib.plots import accuracy_vs_time

    plot.parent.mkdir(parents=True, exist_ok=True)
    accuracy_vs_time(rows).savefig(plot, dpi=110)
    print(f"plot: {plot}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, default=DEBIAN_DATASET_DIR, help="folder with the four IDX files")
    parser.add_argument("--baseline-epochs", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="smoke test on a small subset")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--plot", type=Path, help=f"where to draw the curve (default: {PLOT}; --quick draws none)")
    parser.add_argument("--replot", type=Path, metavar="JSON", help="redraw the curve from a --json file; no training")
    args = parser.parse_args(argv)
    if args.replot:
        try:
            rows = json.loads(args.replot.read_text())
            print(table(rows))
            for row in rows:  # the plot reads each run's (seconds, accuracy) pairs
                if not all(isinstance(p, list) and len(p) == 2 for p in row["points"]):
                    raise ValueError(f"{row['recipe']}: 'points' must be [seconds, accuracy] pairs")
        except (OSError, ValueError, KeyError, TypeError) as error:
            parser.error(f"--replot {args.replot}: not a --json file of this benchmark ({error})")
        draw(rows, args.plot or PLOT)
        return 0

    train_set, test = load(args.raw)
    recipes = {
        "first default (v1)": TrainConfig.from_preset("v1"),
        "previous default (v2)": TrainConfig.from_preset("v2"),
        "default": TrainConfig.from_preset("default"),
    }
    epochs = args.baseline_epochs
    if args.quick:
        recipes = {k: c.replace(limit=3000, validation_size=500, epochs=2) for k, c in recipes.items()}
        test = Dataset(test.images[:2000], test.labels[:2000])
        epochs = 2
    from fashion_lib.train import split_validation

    fit, val = split_validation(train_set, recipes["default"])
    print(f"baseline: keras.io convnet, {epochs} epochs", flush=True)
    rows = [run_baseline(fit, val, test, epochs)]
    for name, config in recipes.items():
        print(f"{name}: {json.dumps(config.to_dict(), sort_keys=True)}", flush=True)
        rows.append(run_ours(name, train_set, test, config))

    baseline, (v1, v2, default) = rows[0], rows[1:4]
    print()
    print(table(rows))
    print()
    for row in rows[1:]:
        print(
            f"{row['recipe']} / keras.io: time per epoch x{row['s_per_epoch'] / baseline['s_per_epoch']:.2f}, "
            f"training time x{row['train_s'] / baseline['train_s']:.2f}, test accuracy "
            f"{(row['final_test'] - baseline['final_test']) * 100:+.2f} points"
        )
    for row, other in ((v2, v1), (default, v2)):
        print(
            f"{row['recipe']} / {other['recipe']}: training time x{row['train_s'] / other['train_s']:.2f}, "
            f"test accuracy {(row['final_test'] - other['final_test']) * 100:+.2f} points"
        )
    print(f"machine load (1, 5, 15 min) at the end: {' '.join(open('/proc/loadavg').read().split()[:3])}")
    if not args.quick or args.plot:
        draw(rows, args.plot or PLOT)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
