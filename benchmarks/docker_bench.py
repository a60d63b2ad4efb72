"""`docker stop` and orphan reaping: the image as shipped (tini as PID 1) next to the same image with
JupyterLab as PID 1 (the baseline: `--entrypoint fashion-entrypoint`, as the image was before).

    python benchmarks/docker_bench.py [--image fashion-mnist] [--repeat 3]

Needs a Docker engine and a built image (`make docker-build`; the tests' engine and image work too:
`DOCKER_HOST=unix:///run/fashion-test-docker/docker.sock ... --image fashion-mnist:test`).
Prints, per variant, the median seconds from start to healthy and of `docker stop`, the exit code,
and how many zombies an orphaned process leaves behind.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import docker_support as dock  # noqa: E402

ZOMBIES = 'n=0; for s in /proc/[0-9]*/stat; do read -r l < "$s" 2>/dev/null; case "$l" in *\') Z \'*) n=$((n+1));; esac; done; echo $n'


def one_run(
    engine: dock.Engine, image: str, name: str, entrypoint: list[str], command: list[str]
) -> tuple[float, float, int, int]:
    engine.run_detached(name, *entrypoint, image, *command)
    try:
        healthy = dock.wait_healthy(engine, name, timeout=300)
        engine.docker("exec", name, "sh", "-c", "sh -c 'sleep 1 &' ; exit 0")
        time.sleep(3)
        zombies = int(engine.text("exec", name, "sh", "-c", ZOMBIES))
        started = time.monotonic()
        engine.docker("stop", "--time", "10", name, timeout=60)
        stop = time.monotonic() - started
        code = int(engine.text("inspect", "--format", "{{.State.ExitCode}}", name))
        return healthy, stop, code, zombies
    finally:
        engine.remove(name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default="fashion-mnist")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    engine = dock.connect_or_start()
    if not engine.has_image(args.image):
        print(f"no image {args.image}: build it first (make docker-build)", file=sys.stderr)
        return 2
    cmd = engine.inspect(args.image)["Config"]["Cmd"]  # --entrypoint clears the image's CMD: pass it again
    variants = {
        "ours: tini as PID 1": ([], []),
        "baseline: jupyter as PID 1": (["--entrypoint", "fashion-entrypoint"], cmd),
    }
    results = {}
    for label, (entrypoint, command) in variants.items():
        runs = [
            one_run(engine, args.image, f"fashion-bench-{i}-{int(time.time())}", entrypoint, command)
            for i in range(args.repeat)
        ]
        results[label] = runs
    base_stop = statistics.median(r[1] for r in results["baseline: jupyter as PID 1"])
    print(f"{'variant':<28} {'healthy s':>9} {'stop s':>7} {'vs baseline':>11} {'exit':>5} {'zombies':>7}")
    for label, runs in results.items():
        stop = statistics.median(r[1] for r in runs)
        print(
            f"{label:<28} {statistics.median(r[0] for r in runs):>9.1f} {stop:>7.2f} {stop / base_stop:>10.2f}x "
            f"{','.join(sorted({str(r[2]) for r in runs})):>5} {max(r[3] for r in runs):>7}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
