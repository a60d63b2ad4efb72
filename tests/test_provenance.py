"""A model's lineage says how it was made: the code, environment and data-quality verdict a run
recorded when it trained (``provenance.json``), whichever checkout, commit or machine publishes it.

A tiny real run (as in test_run_reuse: random images, one epoch) through the library's steps; real
git repositories and real registries on disk; ``fashion model push`` run from another git checkout.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_run_reuse import MODEL, tiny_setup

from fashion_lib import pipeline, provenance, registry
from fashion_lib.config import TrainConfig
from fashion_lib.quality.reference import META_KEY
from fashion_lib.runfolder import PROVENANCE_FILE

ROOT = Path(__file__).resolve().parents[1]
REPORT = {"verdict": "pass", "accepted": None, "reference": "official", "checks": [{"name": "a", "verdict": "pass"}]}
VERDICT = {"verdict": "pass", "accepted": None, "reference": "official", "failed": []}


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TrainConfig:
    return tiny_setup(tmp_path, monkeypatch)


def _trained(config: TrainConfig, tmp_path: Path) -> pipeline.TrainingRun:
    """A fitted, assessed run of data whose version holds a stored quality verdict; the data's
    registry (``tmp_path/registry``) does not hold that version: pushed, it cannot be read."""
    run = pipeline.prepare_run(config, output_dir=tmp_path / "run")
    run.data.meta[META_KEY] = REPORT
    return pipeline.assess(pipeline.fit(run, verbose=0))


@pytest.fixture(scope="module")
def trained_once(tmp_path_factory: pytest.TempPathFactory) -> pipeline.TrainingRun:
    """One ``_trained`` run for the tests that only read, publish or damage it (each gets a copy)."""
    folder = tmp_path_factory.mktemp("provenance")
    with pytest.MonkeyPatch.context() as monkeypatch:
        return _trained(tiny_setup(folder, monkeypatch), folder)


@pytest.fixture
def trained(trained_once: pipeline.TrainingRun, tiny: TrainConfig, tmp_path: Path) -> pipeline.TrainingRun:
    """A copy of ``trained_once`` in this test's folder, as if trained there (nothing published yet)."""
    shutil.copytree(trained_once.output_dir, tmp_path / "run")
    return dataclasses.replace(trained_once, output_dir=tmp_path / "run")


def _lineage(reg: Path, top_hash: str) -> dict:
    return registry.read_meta(MODEL, registry=str(reg), top_hash=top_hash)[1]


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
        + list(args),
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _commit(repo: Path, name: str) -> str:
    """A new commit in ``repo`` (a file ``name`` added); its hash."""
    (repo / name).write_text(f"{name}\n")
    _git(repo, "add", name)
    _git(repo, "commit", "-q", "-m", name)
    return _git(repo, "rev-parse", "HEAD")


def test_fit_records_the_code_environment_and_data_verdict(trained: pipeline.TrainingRun, tmp_path: Path) -> None:
    run = trained
    recorded = json.loads((run.output_dir / PROVENANCE_FILE).read_text())
    assert (
        recorded
        == run.provenance
        == {
            "code": provenance.code_state(),
            "environment": provenance.environment_state(),
            "data_quality": VERDICT,
        }
    )
    assert run.lineage()["code"] == recorded["code"] and run.lineage()["data"]["quality"] == VERDICT
    assert provenance.differences(recorded) == []  # nothing differs here: publishing notes nothing


def test_publish_after_a_new_commit_records_the_training_commit(
    tiny: TrainConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """train.ipynb's cells: fit, then a commit, then publish: the lineage holds the commit that trained."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    monkeypatch.setattr(provenance.settings, "project_root", lambda: repo)  # the checkout code_state reads
    trained_at = _commit(repo, "code")
    run = _trained(tiny, tmp_path)
    later = _commit(repo, "more-code")
    lines: list[str] = []
    top_hash = pipeline.publish(run, name=MODEL, log=lines.append)
    assert _lineage(tmp_path / "registry", top_hash)["code"]["commit"] == trained_at
    assert provenance.code_state()["commit"] == later
    assert lines == [
        f"note: this machine's code or environment differs from the one {run.output_dir} was trained with "
        f"(code.commit: trained {trained_at[:12]}, here {later[:12]}); the lineage records the training's"
    ]
    # model push of the same folder, still after the commit: the same version
    assert pipeline.push_run_folder(run.output_dir, registry=str(tmp_path / "b"), name=MODEL, log=lines.append) == (
        top_hash
    )


def test_publish_and_push_give_one_top_hash_when_the_data_registry_is_unreachable(
    trained: pipeline.TrainingRun, tmp_path: Path
) -> None:
    """The data version's verdict comes from the run's record, not from reading the data's registry
    at push time (another machine cannot): publish and push record it alike, one top hash."""
    run = trained
    published = pipeline.publish(run, registry=str(tmp_path / "a"), name=MODEL)
    pushed = pipeline.push_run_folder(run.output_dir, registry=str(tmp_path / "b"), name=MODEL)
    assert pushed == published
    assert _lineage(tmp_path / "b", pushed)["data"]["quality"] == VERDICT


def test_model_push_from_another_checkout_records_the_trainers_code_and_environment(
    trained: pipeline.TrainingRun, tmp_path: Path
) -> None:
    """``fashion model push`` run from another git checkout of the code, one commit ahead of the one the
    run trained with, and pinning another requirements.txt: the lineage records the training's commit
    and environment (the top hash the training process published), and one note says what differs."""
    run = trained
    published = pipeline.publish(run, registry=str(tmp_path / "a"), name=MODEL)
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT / "fashion_lib", checkout / "fashion_lib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", checkout)
    (checkout / "requirements.txt").write_text((ROOT / "requirements.txt").read_text() + "# pinned elsewhere\n")
    _git(checkout, "init", "-q")
    _git(checkout, "add", ".")
    _git(checkout, "commit", "-q", "-m", "the code")
    ahead = _commit(checkout, "NEWS")
    env = {**os.environ, "PYTHONPATH": str(checkout), "FASHION_HOME": str(tmp_path / "home")}
    env.pop("FASHION_REGISTRY", None)
    done = subprocess.run(
        [sys.executable, "-m", "fashion_lib", "model", "push", str(run.output_dir), "--registry", str(tmp_path / "b")]
        + ["--model-package", MODEL],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"model top hash: {published}"
    notes = [line for line in done.stderr.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1, done.stderr
    trained_at = (run.provenance["code"]["commit"] or "unknown")[:12]  # unknown: tests run outside a checkout
    assert f"code.commit: trained {trained_at}, here {ahead[:12]}" in notes[0]
    assert "environment.requirements_sha256: trained " in notes[0]
    lineage = _lineage(tmp_path / "b", published)
    assert (lineage["code"], lineage["environment"]) == (run.provenance["code"], run.provenance["environment"])
    assert lineage["code"]["commit"] != ahead and lineage["data"]["quality"] == VERDICT


def test_a_run_trained_before_provenance_was_recorded_publishes_with_a_note(
    trained: pipeline.TrainingRun, tmp_path: Path
) -> None:
    run = trained
    (run.output_dir / PROVENANCE_FILE).unlink()  # as a run folder from before this record
    lines: list[str] = []
    top_hash = pipeline.push_run_folder(run.output_dir, registry=str(tmp_path / "b"), name=MODEL, log=lines.append)
    assert lines[0] == (
        f"note: {run.output_dir} has no recorded provenance (trained before runs wrote {PROVENANCE_FILE}); "
        "recording this machine's code and environment"
    )
    assert all(line.startswith("warning: test accuracy") for line in lines[1:])  # random images: chance level
    lineage = _lineage(tmp_path / "b", top_hash)
    assert lineage["code"] == provenance.code_state() and "quality" not in lineage["data"]  # its registry: unread


def test_a_damaged_provenance_record_is_one_line_naming_it(trained: pipeline.TrainingRun, tmp_path: Path) -> None:
    from fashion_lib.errors import ConfigError

    run = trained
    (run.output_dir / PROVENANCE_FILE).write_text(json.dumps({"code": "abc"}))
    with pytest.raises(ConfigError, match=f"{PROVENANCE_FILE}: no 'code' record"):
        pipeline.push_run_folder(run.output_dir, registry=str(tmp_path / "b"), name=MODEL)
    assert not (tmp_path / "b").exists()


def test_data_checked_before_training_records_the_verdict_it_got(
    tiny: TrainConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A data version with no stored quality report is checked by prepare_run (quality.gate.ensure_quality,
    for real here, against the data's own profile); provenance.json records that verdict (before: None)."""
    from fashion_lib import run_steps
    from fashion_lib.quality import gate
    from fashion_lib.quality.measure import measure

    data = run_steps.load_data()  # tiny_setup's data version: no quality.json, no stored verdict
    own = measure(*((d.images, d.labels) for d in (data.train, data.test))).profile("tiny/data itself")
    monkeypatch.setattr(gate, "reference_profile", lambda *args, **kwargs: own)
    monkeypatch.setattr(run_steps, "ensure_quality", gate.ensure_quality)  # tiny_setup skips the check
    run = pipeline.fit(pipeline.prepare_run(tiny, output_dir=tmp_path / "run"), verbose=0)
    assert "has no quality report (published before the data-quality check, or around it); checking now" in (
        capsys.readouterr().err
    )
    checked = {"verdict": "pass", "accepted": None, "reference": "tiny/data itself", "failed": []}
    assert json.loads((run.output_dir / PROVENANCE_FILE).read_text())["data_quality"] == checked
    assert run.lineage()["data"]["quality"] == checked
