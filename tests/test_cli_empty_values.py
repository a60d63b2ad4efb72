"""Empty, blank, non-UTF-8 and control-character option values, and the notebooks' parameters:
a mistake named in one line (exit 2), never a silent default."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import cli, one_line  # tests/ is on sys.path

from fashion_lib import parameters
from fashion_lib.errors import ConfigError

PUSH = ["data", "push", "--train", "train.csv", "--test", "test.csv"]
EMPTY = [
    (["train", "--data-package", ""], "--data-package: is empty; expected a package name such as fashion-mnist/data"),
    (["run", "--model-package", " "], "--model-package: is only spaces; expected a package name"),
    (["train", "--data-top-hash", ""], "--data-top-hash: is empty; expected a top hash"),
    (["train", "--preset", ""], "--preset: is empty; expected a preset"),
    (["evaluate", "--model-package", ""], "--model-package: is empty; expected a package name"),
    (["evaluate", "--model", ""], "--model: is empty; expected a .keras or .h5 model file"),
    (["evaluate", "--data-package", ""], "--data-package: is empty"),
    (["lineage", "--model-package", ""], "--model-package: is empty"),
    (["lineage", ""], "TOPHASH: is empty; expected a top hash"),
    (["reproduce", ""], "TOPHASH: is empty"),
    (["predict", "--model", "", "x.png"], "--model: is empty"),
    (["predict", ""], "IMAGE.png|FILE.csv: is empty; expected a PNG image or a CSV file"),
    (["model", "push", ""], "RUN_DIR: is empty; expected the folder of a finished training run"),
    (["model", "fetch", "--dest", "d", "--top-hash", ""], "--top-hash: is empty"),
    (["data", "prepare", "--source", ""], "--source: is empty; expected a folder with the four IDX files"),
    (["data", "check", "--reference", ""], "--reference: is empty; expected a top hash"),
    (["data", "check", "--train", ""], "--train: is empty; expected a CSV file"),
    (["data", "fetch", "--dest", "d", "--name", ""], "--name: is empty; expected a package name"),
    (["data", "validate", ""], "FILE: is empty; expected a CSV file"),
    (["packages", "verify", "--name", ""], "--name: is empty; expected a package name"),
    (["packages", "list", "--name", " "], "--name: is only spaces"),
    ([*PUSH, "--accept", ""], "--accept: is empty; expected a reason in words"),
    ([*PUSH, "--accept", "  "], "--accept: is only spaces; expected a reason in words"),
    ([*PUSH, "-m", ""], "--message/-m: is empty; expected a version message"),
    ([*PUSH, "--accept", "bad\udcff\udcfe"], "--accept: is not valid UTF-8 text"),  # the bytes ff fe in argv
    ([*PUSH, "--accept", "a\x1b[31m"], "--accept: holds control characters"),
    ([*PUSH, "-m", "two\nlines"], "--message/-m: holds control characters"),
]


@pytest.mark.parametrize(("args", "said"), EMPTY, ids=[" ".join(a) for a, _ in EMPTY])
def test_an_empty_or_unprintable_option_is_a_usage_error(tmp_path: Path, args: list[str], said: str) -> None:
    done = cli(*args, FASHION_HOME=str(tmp_path))
    line = one_line(done)
    assert done.returncode == 2 and done.stdout == ""
    assert f"argument {said}" in line and line.isprintable(), line
    assert not any(tmp_path.iterdir())  # nothing made, nothing published


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("false", False), ("No", False), ("0", False), (0, False), ("TRUE", True)]
    + [("yes", True), (" 1 ", True), (1, True), (None, True)],
)
def test_notebook_yes_no_parameters_read_words(value, expected: bool) -> None:
    assert parameters.notebook_parameters(publish=value) == (expected,)


@pytest.mark.parametrize("value", ["maybe", "", 2, 1.0, [True]])
def test_a_notebook_yes_no_parameter_that_is_neither_is_named(value) -> None:
    with pytest.raises(ConfigError, match=r"^publish=.* is not yes or no; expected True or False"):
        parameters.notebook_parameters(publish=value)


@pytest.mark.parametrize("name", ["registry", "data_package", "model_package", "output_dir", "top_hash"])
def test_notebook_names_refuse_empty_and_blank_but_keep_none(name: str) -> None:
    assert parameters.notebook_parameters(**{name: None}) == (None,)
    given = "o/x" if name.endswith("_package") else "x"  # a package name is owner/name
    assert parameters.notebook_parameters(**{name: given}, publish="no") == (given, False)
    for value, said in (("", "empty"), (" ", "only spaces")):
        with pytest.raises(ConfigError, match=rf"^{name}={value!r} is {said}; .*leave it None for the default"):
            parameters.notebook_parameters(**{name: value})
    with pytest.raises(ConfigError, match=rf"^{name}=5 is not a string; expected") as raised:
        parameters.notebook_parameters(**{name: 5})
    # papermill's -p reads a top hash prefix of digits (3741) as a number: the line says how to pass it (helper 101)
    assert str(raised.value).endswith(
        f" (papermill reads a -p value that looks like a number as one: pass it with -r {name})"
    )
    with pytest.raises(ConfigError) as raised:
        parameters.notebook_parameters(**{name: ["x"]})
    assert "papermill" not in str(raised.value)


def test_a_file_name_that_is_not_utf8_still_works(tmp_path):
    """Only stored text (reasons, messages) must be UTF-8: a path may be any bytes."""
    import os

    name = os.fsdecode(b"odd-\xff.csv")
    (tmp_path / name).write_text("label,pixel1\n1,0\n")
    done = cli("data", "validate", str(tmp_path / name))
    assert "not valid UTF-8" not in done.stderr
    assert (
        done.returncode == 1 and "odd-" in done.stderr
    )  # validated (and refused as too narrow), not refused as a name
