"""The order ``make test`` hands files to its workers in (tests/conftest.py) names real test files."""

from pathlib import Path

from conftest import LONGEST_FIRST


def test_longest_first_names_test_files_once() -> None:
    here = Path(__file__).parent
    missing = [name for name in LONGEST_FIRST if not (here / name).is_file()]
    assert not missing, f"LONGEST_FIRST names files that are not in tests/: {missing}"
    assert len(set(LONGEST_FIRST)) == len(LONGEST_FIRST)
