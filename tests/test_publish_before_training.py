"""A run that will publish to a local registry it can't write is refused before training, with the line and
exit 6 ``data prepare`` gives (``fashion train --push``, ``fashion run``: before, a full training, then that
line); one whose publishing fails after training anyway says where the trained run is kept and the
``fashion model push`` command that publishes it. Real registry folders made read-only for real
(``chmod``, or a read-only bind mount as root), the real ``fashion`` command on real Fashion-MNIST rows,
and a tiny real run through the library's steps as train.ipynb calls them."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from cli_support import cli, one_line
from readonly_support import read_only
from test_publish_unwritable import RAW, denied
from test_run_reuse import MODEL, tiny_setup

from fashion_lib import pipeline, registry
from fashion_lib.csvio import write_csv
from fashion_lib.errors import RegistryAccessDenied
from fashion_lib.idx import load_images, load_labels

pytestmark = pytest.mark.skipif(RAW is None, reason="Debian package dataset-fashion-mnist is not installed")
DATA = "t/data"
QUICK = ("--preset", "quick", "--epochs", "1", "--limit", "2000")


@pytest.fixture(scope="module")
def with_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry holding ``t/data``: 2,000 training and 1,000 test rows of the official test file."""
    folder = tmp_path_factory.mktemp("with-data")
    images, labels = load_images(RAW["t10k-images-idx3-ubyte"]), load_labels(RAW["t10k-labels-idx1-ubyte"])
    train = write_csv(images[:2000], labels[:2000], folder / "train.csv")
    test = write_csv(images[5000:6000], labels[5000:6000], folder / "test.csv")
    reg = folder / "registry"
    pushed = cli(
        *("data", "push", "--name", DATA, "--registry", str(reg), "--train", str(train), "--test", str(test)),
        FASHION_HOME=str(folder / "home"),
    )
    assert pushed.returncode == 0, pushed.stderr
    return reg


@pytest.mark.parametrize("command", [("train", "--push"), ("run",)], ids=["train-push", "run"])
def test_a_run_that_would_publish_to_a_read_only_registry_is_refused_before_training(
    with_data: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    before = sorted(p.relative_to(with_data) for p in with_data.rglob("*"))
    outputs = tmp_path / "outputs"
    with read_only(with_data):
        done = cli(
            *command,
            *QUICK,
            *("--registry", str(with_data), "--data-package", DATA),
            FASHION_HOME=str(tmp_path / "home"),
            FASHION_OUTPUT_DIR=str(outputs),
        )
    assert done.returncode == 6, done.stderr
    assert one_line(done).startswith(denied(with_data, "fashion-mnist/model")), done.stderr
    assert "epoch" not in done.stderr.lower() and done.stdout == ""  # nothing trained ('training on ...'), no scores
    assert not outputs.exists() or list(outputs.iterdir()) == []  # no run folder left
    assert sorted(p.relative_to(with_data) for p in with_data.rglob("*")) == before


def test_a_publish_that_fails_after_training_says_where_the_run_is_kept_and_how_to_publish_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """train.ipynb's steps; the registry becomes read-only between training and publishing."""
    config, reg = tiny_setup(tmp_path, monkeypatch), tmp_path / "models"
    reg.mkdir()
    run = pipeline.assess(pipeline.fit(pipeline.prepare_run(config, output_dir=tmp_path / "run"), verbose=0))
    with read_only(reg), pytest.raises(RegistryAccessDenied) as raised:
        pipeline.publish(run, registry=str(reg), name=MODEL)
    line = str(raised.value)
    command = f"fashion model push {run.output_dir} --registry {reg} --model-package {MODEL}"
    assert line.startswith(denied(reg, MODEL).removeprefix("fashion: error: ")), line
    assert line.endswith(f"; the trained run is kept in {run.output_dir} (publish it with: {command})"), line
    assert "\n" not in line and registry.list_versions(registry=str(reg)) == []
    pushed = cli(*shlex.split(command)[1:], FASHION_HOME=str(tmp_path / "home"))  # the command, as said
    assert pushed.returncode == 0, pushed.stderr
    top_hash = pushed.stdout.splitlines()[-1].removeprefix("model top hash: ")
    assert [v.top_hash for v in registry.list_versions(registry=str(reg), name=MODEL)] == [top_hash]


def test_the_kept_run_line_keeps_any_registry_errors_class_and_names_the_package_it_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 87: NotS3Answer (a proxy's page answering the publish) takes two arguments, so rebuilding it from
    the line raised TypeError (exit 70) in place of the registry's line; and a package left to
    FASHION_MODEL_PACKAGE was not named, so the command said later, in a shell without it, published elsewhere."""
    from fashion_lib.registry.s3_errors import NotS3Answer
    from fashion_lib.run_publish import kept_for_later

    monkeypatch.setenv("FASHION_MODEL_PACKAGE", "team/cnn")
    error = NotS3Answer("publishing team/cnn: s3://b", "HTTP 404 with a web page")
    kept = kept_for_later(error, tmp_path / "run 1", "s3://b", None)
    assert type(kept) is NotS3Answer and kept.answer == error.answer
    hint = f"; the trained run is kept in {tmp_path / 'run 1'} (publish it with: fashion model push "
    assert str(kept) == f"{error}{hint}'{tmp_path / 'run 1'}' --registry s3://b --model-package team/cnn)"


def test_a_settings_problem_met_only_when_publishing_also_says_where_the_run_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """quilt3's settings file broken between the up-front check and the publish (a ConfigError, exit 2): before,
    its line came without the kept run and the command that publishes it."""
    from fashion_lib import run_steps
    from fashion_lib.errors import ConfigError

    config = tiny_setup(tmp_path, monkeypatch)
    run = pipeline.assess(pipeline.fit(pipeline.prepare_run(config, output_dir=tmp_path / "run"), verbose=0))
    problem = (
        "quilt3's settings file /h/.local/share/Quilt/config.yml (from HOME=/h) cannot be read (Permission denied)"
    )

    def broken(*args, **kwargs):
        raise ConfigError(problem)

    monkeypatch.setattr(run_steps, "publish_folder", broken)
    with pytest.raises(ConfigError) as raised:
        pipeline.publish(run, registry=str(tmp_path / "models"), name=MODEL)
    assert str(raised.value).startswith(f"{problem}; the trained run is kept in {run.output_dir} (publish it with: ")
