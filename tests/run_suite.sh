#!/usr/bin/env bash
# The whole test suite, as `make test` (and so CI) runs it. The Docker tests (marked `docker`: minutes
# spent mostly waiting on image builds and containers) run in a second pytest process beside the
# others, so both cores work; their report follows the others'. Each part lists its 15 slowest tests.
# Exit status: the first part's failure, else the Docker part's. Usage: tests/run_suite.sh [PYTHON]
set -uo pipefail
python=${1:-.venv/bin/python}
work=$(mktemp -d "${TMPDIR:-/tmp}/fashion-docker-tests.XXXXXX")
# its own temporary folder (pytest empties a --basetemp first) and no shared cache file
"$python" -m pytest -p no:cacheprovider --durations=15 -m docker --basetemp="$work/tmp" >"$work/log" 2>&1 &
docker_part=$!
echo "run_suite: the Docker tests run beside these (process $docker_part); their report follows at the end"
"$python" -m pytest --durations=15 -m "not docker"
rest=$?
wait "$docker_part"
docker=$?
echo
echo "======================== the Docker tests, run beside the others ========================"
cat "$work/log"
if ((docker)); then
  echo "run_suite: the Docker tests' log and failed tests' folders stay in $work"
else
  rm -rf "$work"
fi
if ((rest)); then exit "$rest"; fi
exit "$docker"
