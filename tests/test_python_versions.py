"""Standard-library behaviour that changed between the Pythons we support (3.11.2 to 3.13).

Run these with each interpreter: the suite itself runs on 3.11 only.
"""

from __future__ import annotations

import pytest

from fashion_lib import settings
from fashion_lib.errors import ConfigError


@pytest.mark.parametrize("below", ["", "registry", "a/b"])
def test_a_registry_in_a_symlink_loop_is_a_config_error(tmp_path, monkeypatch, below):
    """Path.resolve() raised RuntimeError on a loop before 3.13; 3.13 returns the path unresolved."""
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    looping = tmp_path / "loop1" / below if below else tmp_path / "loop1"
    with pytest.raises(ConfigError, match="a loop of symbolic links; expected a folder"):
        settings.registry(str(looping))
    monkeypatch.setenv("FASHION_REGISTRY", str(looping))
    with pytest.raises(ConfigError, match=f"registry {looping}: a loop of symbolic links"):
        settings.registry()


def test_a_registry_that_does_not_exist_yet_is_resolved_not_refused(tmp_path):
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert settings.registry(str(tmp_path / "link" / "reg")) == str(tmp_path / "real" / "reg")
