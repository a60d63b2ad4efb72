"""Does a shipped ``clf.keras`` load and score the same in *this* interpreter's Keras?

Runs what the README promises anyone can run, with no code from this project: a plain
``keras.models.load_model(MODEL)`` (safe mode), ``model.predict`` on the test CSV's raw
``uint8`` images (default batch size), argmax, accuracy. Prints the Python, Keras and backend
versions, the load and predict times, and the accuracy next to the one the package recorded
(``metrics.json`` beside the model, or ``--metrics``/``--expected``). Only Keras, its backend and
numpy are needed, so it runs in any venv (Keras 3 on TensorFlow, JAX or PyTorch, or Keras 2)::

    KERAS_BACKEND=jax python benchmarks/keras_compat.py clf.keras fashion-mnist_test.csv
    python benchmarks/keras_compat.py clf.keras test.csv --save probs.npy   # in one set-up
    python benchmarks/keras_compat.py clf.keras test.csv --compare probs.npy  # image by image

Exit codes: 0 loaded and matches the recorded accuracy (and ``--compare``'s predictions), or loaded and
scored with nothing to compare with (``result: NOT COMPARED``: no metrics.json beside the model, no
``--expected``, no ``--compare``); 1 loaded but differs; 2 bad input (a file, a CSV row, an option);
3 this Keras can't load it.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

PIXELS = 28 * 28


class InputProblem(Exception):
    """Bad input: one line naming the file, row or option and what was expected (exit 2)."""


def read_test_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(images N x 28 x 28 uint8, labels N)`` from a ``label,pixel1..pixel784`` CSV."""
    try:
        with open(path, newline="") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputProblem(f"{path}: cannot read the test CSV ({exc.__class__.__name__}: {exc})") from None
    if not rows or len(rows[0]) != PIXELS + 1 or rows[0][0].strip() != "label":
        raise InputProblem(f"{path}: row 1: expected the header 'label,pixel1,...,pixel784' (785 columns)")
    if len(rows) < 2:
        raise InputProblem(f"{path}: no data rows after the header; expected test images")
    values = np.empty((len(rows) - 1, PIXELS + 1), np.int64)
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != PIXELS + 1:
            raise InputProblem(f"{path}: row {n}: {len(row)} fields; expected 785 (label and 784 pixels)")
        try:
            values[n - 2] = [int(v) for v in row]
        except ValueError:
            bad = next(i for i, v in enumerate(row) if not v.strip().lstrip("-").isdigit())
            field = "label" if bad == 0 else f"pixel{bad}"
            raise InputProblem(f"{path}: row {n}, field {field}: {row[bad]!r}; expected a whole number") from None
    for column, low, high, what in ((slice(0, 1), 0, 9, "label"), (slice(1, None), 0, 255, "pixel")):
        part = values[:, column]
        if part.min() < low or part.max() > high:
            r, c = np.argwhere((part < low) | (part > high))[0]
            field = "label" if what == "label" else f"pixel{c + 1}"
            raise InputProblem(f"{path}: row {r + 2}, field {field}: {part[r, c]}; expected {low} to {high}")
    return values[:, 1:].astype(np.uint8).reshape(-1, 28, 28), values[:, 0]


def recorded_accuracy(args: argparse.Namespace) -> tuple[float | None, str]:
    """The accuracy to compare with, and where it came from."""
    if args.expected is not None:
        return args.expected, "--expected"
    path = args.metrics or args.model.with_name("metrics.json")
    if args.metrics is None and not path.exists():
        return None, "no metrics.json beside the model"
    try:
        value = json.loads(path.read_text())["test_accuracy"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputProblem(
            f"{path}: no readable 'test_accuracy' ({exc.__class__.__name__}); expected metrics.json"
        ) from None
    if not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise InputProblem(f"{path}: test_accuracy {value!r}; expected a number from 0 to 1")
    return float(value), str(path)


def versions() -> dict[str, str]:
    """Python, Keras, backend and backend framework versions (imports Keras)."""
    import keras

    backend = keras.backend.backend() if hasattr(keras.backend, "backend") else "tensorflow"
    found = {"python": platform.python_version(), "keras": keras.__version__, "backend": backend}
    module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch", "numpy": "numpy"}.get(backend)
    if module:
        found[module] = __import__(module).__version__
    found["numpy"] = np.__version__
    return found


def one_line(exc: BaseException, limit: int = 400) -> str:
    """The exception on one line: its innermost cause (Keras nests whole configs around it), cut at ``limit``."""
    text = " ".join(str(exc).split()).rsplit("Exception encountered: ", 1)[-1]
    if text.startswith("Could not deserialize class"):  # Keras 2 reading a Keras 3 file: drop the config dump
        text = text.split(" Full object config:", 1)[0]
    return f"{type(exc).__name__}: {text if len(text) <= limit else text[:limit] + ' ...'}"


# Keras 3.11 and later write a one-input, one-output model's "input_layers" and "output_layers" as
# ["image", 0, 0] (keras-team/keras#21341); Keras 3.0 to 3.3 read only [["image", 0, 0]] and unpack the
# name letter by letter. The file can't be written their way: in Keras 3.11 and later model.input would be a list.
OLD_READER = "get_tensor() takes 3 positional arguments but"


def explain(error: str, keras_version: str) -> str:
    """``error`` (from :func:`one_line`) led by why this Keras refuses the file, where that is known."""
    if OLD_READER in error:
        return (
            f"Keras {keras_version} can't read this file: Keras 3.0 to 3.3 read a model's single input and "
            f"output only as [[name, 0, 0]], and this file has [name, 0, 0]; install Keras 3.4 or later ({error})"
        )
    return error


def score(args: argparse.Namespace) -> dict:
    """Load, predict and compare; the findings as a dict (``status``: match, differs, load_failed)."""
    images, labels = read_test_csv(args.test_csv)
    expected, source = recorded_accuracy(args)
    reference = None
    if args.compare is not None:
        try:
            reference = np.load(args.compare)
        except (OSError, ValueError) as exc:
            raise InputProblem(f"--compare {args.compare}: not a saved probabilities .npy ({one_line(exc)})") from None
        if reference.shape != (len(labels), 10):
            raise InputProblem(f"--compare {args.compare}: shape {reference.shape}; expected ({len(labels)}, 10)")
    found: dict = {"versions": versions(), "model": str(args.model), "images": len(labels)}
    import keras

    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = keras.models.load_model(args.model)  # safe mode, no custom objects: as the README says
        except Exception as exc:  # any failure to load is the finding, reported in one line
            error = explain(one_line(exc), found["versions"]["keras"])
            found.update(status="load_failed", error=error, warnings=[str(w.message) for w in caught])
            return found
        found["load_seconds"] = round(time.perf_counter() - start, 2)
        start = time.perf_counter()
        probabilities = np.asarray(model.predict(images, verbose=0))
        found["predict_seconds"] = round(time.perf_counter() - start, 2)
    found["warnings"] = sorted({" ".join(str(w.message).split()) for w in caught})
    predicted = probabilities.argmax(1)
    correct = int((predicted == labels).sum())
    found.update(correct=correct, accuracy=correct / len(labels), recorded=expected, recorded_from=source)
    same = expected is None or correct == round(expected * len(labels))  # None: nothing recorded to differ from
    if args.save is not None:
        np.save(args.save, probabilities)
    if reference is not None:
        found["compare_argmax_differs"] = int((reference.argmax(1) != predicted).sum())
        found["compare_max_abs_diff"] = float(np.abs(reference - probabilities).max())
        same = same and found["compare_argmax_differs"] == 0
    compared = expected is not None or reference is not None
    found["status"] = ("match" if same else "differs") if compared else "not_compared"
    return found


def report(found: dict) -> str:
    lines = [", ".join(f"{k} {v}" for k, v in found["versions"].items())]
    if found["status"] == "load_failed":
        lines.append(f"load: FAILED: {found['error']}")
    else:
        lines.append(f"load: {found['load_seconds']} s; predict {found['images']} images: {found['predict_seconds']} s")
        recorded = found["recorded"]
        vs = f"recorded {recorded:.4f} ({found['recorded_from']})" if recorded is not None else "nothing recorded"
        lines.append(f"accuracy: {found['accuracy']:.4f} ({found['correct']}/{found['images']}); {vs}")
        if "compare_argmax_differs" in found:
            lines.append(
                f"compared: {found['compare_argmax_differs']} predictions differ, "
                f"largest probability difference {found['compare_max_abs_diff']:.2e}"
            )
    lines += [f"warning: {w}" for w in found.get("warnings", [])]
    result = f"result: {found['status'].upper().replace('_', ' ')}"
    if found["status"] == "not_compared":  # never MATCH: there was nothing to match
        result += f" ({found['recorded_from']}: no recorded accuracy; give --metrics or --expected)"
    lines.append(result)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="the shipped .keras file")
    parser.add_argument("test_csv", type=Path, help="label,pixel1..pixel784 CSV (the package's test file)")
    parser.add_argument("--metrics", type=Path, help="metrics.json with test_accuracy (default: beside the model)")
    parser.add_argument("--expected", type=float, help="the recorded accuracy, instead of metrics.json")
    parser.add_argument("--save", type=Path, help="write the predicted probabilities to this .npy")
    parser.add_argument("--compare", type=Path, help="a --save file from another set-up: compare image by image")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout instead of the text")
    args = parser.parse_args(argv)
    try:
        if not args.model.is_file():
            raise InputProblem(f"{args.model}: model file not found; expected a .keras file")
        if args.expected is not None and not 0 <= args.expected <= 1:
            raise InputProblem(f"--expected {args.expected}: expected an accuracy from 0 to 1")
        found = score(args)
    except InputProblem as exc:
        print(f"keras_compat: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(found) if args.json else report(found))
    return {"match": 0, "not_compared": 0, "differs": 1}.get(found["status"], 3)


if __name__ == "__main__":
    sys.exit(main())
