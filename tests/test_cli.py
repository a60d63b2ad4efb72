"""The command line itself: cheap to start, one-line errors, exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fashion_lib.cli import main


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fashion_lib", *args], capture_output=True, text=True, timeout=60)


def test_help_lists_every_command_without_heavy_imports() -> None:
    code = (
        "import sys, contextlib, io\n"
        "from fashion_lib.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    try: main(['--help'])\n"
        "    except SystemExit: pass\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'quilt3', 'boto3', 'pandas', 'matplotlib') if m in sys.modules]\n"
        "print(heavy); print(out.getvalue())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.startswith("[]"), done.stdout
    for command in ("data", "packages", "run", "train", "evaluate", "model", "predict", "lineage", "reproduce"):
        assert command in done.stdout


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["data", "validate"], "the following arguments are required: FILE"),
        (["train", "--epochs", "many"], "argument --epochs: invalid int value: 'many'"),
    ],
)
def test_usage_errors_are_one_line_exit_2(args: list[str], fragment: str) -> None:
    done = _run(*args)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and fragment in done.stderr, done.stderr


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "commands:" in capsys.readouterr().out


def test_version() -> None:
    done = _run("--version")
    assert done.returncode == 0 and done.stdout.startswith("fashion 0.")


@pytest.mark.parametrize("command", [["train", "--push"], ["run"], ["reproduce", "0"]])
def test_a_bad_model_package_is_a_usage_error_before_any_data(
    command: list[str], tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from fashion_lib import pipeline, run_steps

    monkeypatch.setenv("FASHION_HOME", str(tmp_path))
    for module, name in ((pipeline, "ensure_data_package"), (run_steps, "load_data")):
        monkeypatch.setattr(module, name, lambda **kwargs: pytest.fail("data loaded before the name was checked"))
    with pytest.raises(SystemExit) as exited:
        main([*command, "--model-package", "bad name!"])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.count("\n") == 1, err
    assert "argument --model-package: invalid package name 'bad name!'; expected 'owner/name'" in err
    assert list(tmp_path.iterdir()) == []
