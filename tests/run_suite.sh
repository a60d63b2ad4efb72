#!/usr/bin/env bash
# The whole test suite, as `make test` (and so CI) runs it, in two pytest processes side by side so
# both cores work: the Docker tests (minutes spent mostly waiting on image builds and containers)
# with the notebook, README-command and browser tests in the second, everything else in the first.
# The second part's report follows the first's; each lists its 15 slowest tests.
# Exit status: the first part's failure, else the second's. Usage: tests/run_suite.sh [PYTHON]
set -uo pipefail
python=${1:-.venv/bin/python}
second=(tests/test_docker_image.py tests/test_notebooks.py tests/test_readme_commands.py tests/test_lab_browser.py)
work=$(mktemp -d "${TMPDIR:-/tmp}/fashion-tests-beside.XXXXXX")
# its own temporary folder (pytest empties a --basetemp first) and no shared cache file
"$python" -m pytest -p no:cacheprovider --durations=15 --basetemp="$work/tmp" "${second[@]}" >"$work/log" 2>&1 &
beside=$!
echo "run_suite: ${second[*]} run beside these (process $beside); their report follows at the end"
"$python" -m pytest --durations=15 "${second[@]/#/--ignore=}"
first=$?
wait "$beside"
other=$?
echo
echo "================ run beside the others: ${second[*]} ================"
cat "$work/log"
if ((other)); then
  echo "run_suite: that part's log and its failed tests' folders stay in $work"
else
  rm -rf "$work"
fi
if ((first)); then exit "$first"; fi
exit "$other"
