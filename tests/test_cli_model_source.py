"""``--model FILE`` or a model package, never both: a version, package or registry given with a model file
was silently ignored (the file was scored, exit 0). Now one usage line naming both options, exit 2."""

from __future__ import annotations

import pytest

from fashion_lib.cli import build_parser, main

WITH_MODEL = [
    (["evaluate"], "--top-hash", "784779"),
    (["evaluate"], "--model-package", "no/such"),
    (["predict", "good.png"], "--top-hash", "zzzz"),
    (["predict", "good.png"], "--model-package", "no/such"),
    (["predict", "good.png"], "--registry", "/nonexistent"),
]


@pytest.mark.parametrize(
    ("command", "option", "value"), WITH_MODEL, ids=lambda v: " ".join(v) if isinstance(v, list) else v
)
@pytest.mark.parametrize("model_first", [True, False])
def test_a_model_file_with_a_package_option_is_a_usage_error(command, option, value, model_first, tmp_path, capsys):
    model = ["--model", str(tmp_path / "clf.keras")]
    given = [option, value]
    with pytest.raises(SystemExit) as exited:
        main([*command, *(model + given if model_first else given + model)])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.count("\n") == 1, err
    assert err.startswith(f"fashion {command[0]}: error: argument {option}: not allowed with --model"), err
    assert list(tmp_path.iterdir()) == []


def test_everything_predict_was_given_at_once_is_refused(tmp_path, capsys):
    argv = ["predict", "--model", "clf.keras", "--top-hash", "zzzz", "--model-package", "no/such"]
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--registry", "/nonexistent", "good.png"])
    assert exited.value.code == 2 and capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["evaluate", "--model", "m.keras", "--registry", "reg"],  # the data package still comes from the registry
        ["evaluate", "--model", "m.keras", "--data-package", "a/b", "--data-top-hash", "12ab"],
        ["evaluate", "--model-package", "a/b", "--top-hash", "12ab", "--registry", "reg"],
        ["predict", "x.png", "--model-package", "a/b", "--top-hash", "12ab", "--registry", "reg"],
        ["predict", "x.png", "--model", "m.keras"],
    ],
)
def test_the_combinations_that_mean_something_still_parse(argv):
    build_parser().parse_args(argv)
