"""``fashion packages verify`` beside a *first* push still storing its objects: not a registry that lost its manifests.

A push stores its objects, then writes its manifest. Into an empty registry, a verify in between sees
objects and no manifest at all, which is also what a copy that left ``.quilt`` behind looks like (exit 3).
On a local registry it tells a live push (it holds the writers' lock) from a killed one (nobody does); on
S3, where no lock reaches, by age, as gc does. The pushes here are real, in another process, held just
after storing their first object, then killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cli_support import cli, one_line, wait_for_file

from fashion_lib import registry
from fashion_lib.errors import IntegrityError
from fashion_lib.registry import lost

IN_FLIGHT = "1 object(s) stored and no manifest yet: a push may be in flight"
LOST = "holds 1 object(s) but no manifest at all"

# A push that stops for good once it has stored its first object, and says so in a file.
HELD_PUSH = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from fashion_lib import registry
    from fashion_lib.registry import publish

    where, said, source = sys.argv[1:4]
    real_store = publish._store

    def store_then_hold(*args, **kwargs):
        stored = real_store(*args, **kwargs)
        Path(said).write_text("stored")
        time.sleep(300)
        return stored

    publish._store = store_then_hold
    registry.push("fashion-mnist/data", {"train.csv": Path(source)}, registry=where)
    """
)


@contextmanager
def first_push_held(where: str, sources: dict[str, Path], tmp_path: Path) -> Iterator[subprocess.Popen]:
    """A real first push to ``where`` in another process, held after its first object; killed (SIGKILL)
    when the block ends, if the block did not kill it."""
    said = tmp_path / "stored"
    push = subprocess.Popen(
        [sys.executable, "-c", HELD_PUSH, where, str(said), str(sources["train.csv"])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        wait_for_file(push, said, "the push never stored its first object")
        yield push
    finally:
        if push.poll() is None:
            push.send_signal(signal.SIGKILL)
        push.communicate(timeout=60)


def test_a_local_first_push_storing_its_objects_is_in_flight_until_it_is_killed(tmp_path, sources):
    """Before: exit 3, 'holds 1 object(s) but no manifest at all' while the push was alive."""
    where = str(tmp_path / "registry")
    with first_push_held(where, sources, tmp_path) as push:
        done = cli("packages", "verify", "--registry", where)
        assert done.returncode == 0, done.stderr
        assert f"note: {IN_FLIGHT}" in done.stdout and "no problems" in done.stdout, done.stdout
        assert "named by no manifest" not in done.stdout  # the push's objects are not gc's to list
        as_json = cli("packages", "verify", "--registry", where, "--json")
        report = json.loads(as_json.stdout)
        assert (as_json.returncode, report["problems"], report["in_flight_objects"]) == (0, [], 1)

        push.send_signal(signal.SIGKILL)  # the kernel releases its lock
        push.wait(60)
    done = cli("packages", "verify", "--registry", where)
    assert done.returncode == IntegrityError.exit_code, done.stdout
    assert LOST in one_line(done) and "a first push killed while storing its files" in one_line(done)
    assert "in flight" not in done.stdout
    repaired = cli("packages", "verify", "--registry", where, "--repair")
    assert repaired.returncode == IntegrityError.exit_code and LOST in one_line(repaired)
    assert len(registry.open(where).list_objects()) == 1  # --repair removes no object


@pytest.mark.slow
def test_an_s3_first_push_storing_its_objects_is_in_flight_until_older_than_the_grace(
    seaweed, sources, tmp_path, monkeypatch
):
    import seaweedfs  # tests/ is on sys.path

    with seaweedfs.use_identity(seaweed, "writer"):
        bucket = seaweedfs.new_bucket(seaweed, versioned=False)
        with first_push_held(bucket, sources, tmp_path):
            report = registry.verify(registry=bucket, repair=True)
            assert (report.problems, report.in_flight_objects, report.unnamed_objects) == ([], 1, 0)
            assert f"note: {IN_FLIGHT}" in report.summary()
            assert len(registry.open(bucket).list_objects()) == 1  # --repair left it alone
        # killed now: on S3 only age tells, and the object is a few seconds old
        assert registry.verify(registry=bucket).in_flight_objects == 1
        monkeypatch.setattr(lost, "DEFAULT_GRACE_HOURS", 0.0)  # as if stored more than a grace ago
        report = registry.verify(registry=bucket)
        assert report.in_flight_objects == 0 and len(report.problems) == 1 and LOST in report.problems[0]
