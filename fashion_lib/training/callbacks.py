"""The callbacks ``train`` always adds: the per-epoch record (history files, console progress)
and early stopping on validation accuracy with the best weights restored.

A new callback (one of Keras' or a ``keras.callbacks.Callback`` of our own) goes in
:func:`standard_callbacks`; the multi-worker loop drives the same list.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from ..backend import load_tensorflow
from ..config import TrainConfig
from ..runfolder import HISTORY_CSV, HISTORY_JSON
from .optimizer import current_learning_rate

PROGRESS_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")


def write_history(rows: list[dict[str, float]], output_dir: Path) -> None:
    """``history.csv`` and ``history.json`` in ``output_dir``, each written whole then renamed."""
    keys = list(dict.fromkeys(k for r in rows for k in r))
    tmp = output_dir / f".{HISTORY_CSV}.part"
    with open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, output_dir / HISTORY_CSV)
    tmp = output_dir / f".{HISTORY_JSON}.part"
    tmp.write_text(json.dumps(rows, indent=1))
    os.replace(tmp, output_dir / HISTORY_JSON)


def progress_line(row: dict[str, float], epochs: int, total_seconds: float) -> str:
    """One console line for a finished epoch."""
    shown = "  ".join(f"{k} {row[k]:.4f}" for k in PROGRESS_KEYS if k in row)
    return (
        f"epoch {row['epoch']}/{epochs}  {shown}  lr {row['lr']:.2e}  {row['seconds']:.1f}s "
        f"(total {total_seconds:.0f}s)"
    )


def history_recorder(output_dir: Path | None, write: bool, epochs: int, verbose: int, t0: list[float]):
    """A callback that times each epoch, keeps its row (logs, ``lr``, ``seconds``) in ``.rows``,
    writes the history files after every epoch (when ``write``) and prints progress (``verbose``).

    ``t0[0]`` is when training started, for the running total."""
    load_tensorflow()
    import keras

    class Record(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.rows: list[dict[str, float]] = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            row = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
            row["lr"] = current_learning_rate(self.model.optimizer)
            row["seconds"] = time.perf_counter() - self._start
            self.rows.append(row)
            if write and output_dir is not None:
                write_history(self.rows, output_dir)
            if verbose:
                print(progress_line(row, epochs, time.perf_counter() - t0[0]), file=sys.stdout, flush=True)

    return Record()


def early_stopping(config: TrainConfig):
    """Stop when validation accuracy stops improving; always restore the best epoch's weights."""
    load_tensorflow()
    import keras

    return keras.callbacks.EarlyStopping(
        monitor="val_accuracy",
        mode="max",
        patience=config.early_stopping_patience or config.epochs,  # 0: never stop, still restore best
        restore_best_weights=True,
    )


def standard_callbacks(
    config: TrainConfig,
    output_dir: Path | None,
    write: bool,
    verbose: int,
    t0: list[float],
    *,
    validation: bool,
    extra=(),
) -> tuple[list[Any], Any, Any]:
    """``(callbacks, recorder, early_stopping or None)``: the recorder first, then the caller's
    callbacks (they may add to the logs early stopping reads), early stopping last."""
    record = history_recorder(output_dir, write, config.epochs, verbose, t0)
    early = early_stopping(config) if validation else None
    return [record, *extra, *([early] if early is not None else [])], record, early
