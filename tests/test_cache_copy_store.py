"""A cached copy read as a registry (the source of an offline fetch) whose file goes missing while it is
read, as when another process repairs the cache: one 'damaged' line, not an internal error."""

from __future__ import annotations

from pathlib import Path

import pytest
from csv_support import fashion_csvs

from fashion_lib import data, registry
from fashion_lib.registry import cache, check


def test_a_file_gone_from_a_cached_copy_is_damage_not_an_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: NotImplementedError (exit 70) from the 'not this registry's store' wording, which asked the
    copy for its store's physical key."""
    monkeypatch.setenv("FASHION_HOME", str(tmp_path / "home"))
    reg = str(tmp_path / "reg")
    data.publish_csvs(fashion_csvs(tmp_path / "csv", seed=2), registry=reg, name="t/data", accept="random pixels")
    fetched = registry.fetch_to_cache("t/data", registry=reg)
    found = registry.open(reg).manifest("t/data", registry.resolve_top_hash("t/data", None, registry=reg))
    store = cache._CopyStore(fetched.dest, found)
    entry = next(e for e in found.entries if e.key.endswith(".csv"))
    (fetched.dest / entry.key).unlink()
    with pytest.raises(check.DamagedObject) as damaged:
        check.check_object(store, entry, "t/data")
    assert "has no object" in str(damaged.value)
