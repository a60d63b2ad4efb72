"""A Docker engine and a stand-in base image for the end-to-end image test.

* ``connect_or_start()`` finds a reachable Docker engine (``DOCKER_HOST``, the default socket, or
  the one this module started earlier), else starts ``dockerd`` with its own data root, socket and
  pid file (root only). The data root persists (``/var/lib/fashion-test-docker``), so the stand-in
  base image and the build cache survive between runs.
* ``ensure_standin_base()`` makes the image the project's Dockerfile starts ``FROM`` when it can't
  be pulled: Debian bookworm from ``debootstrap``, this host's CPython of the same minor version
  (the one running the tests), and the host's CA bundle (HTTPS is re-signed here), tagged with the
  base image's name. The legacy builder takes a local tag without pulling, so the Dockerfile builds
  unchanged.

Everything is driven through the ``docker`` command line with ``DOCKER_BUILDKIT=0`` (the legacy
builder: BuildKit needs buildx, which this machine lacks).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STANDIN_DIR = Path(__file__).resolve().parent / "standin-base"
ARTIFACTS = REPO / "test-artifacts"

DATA_ROOT = Path(os.environ.get("FASHION_TEST_DOCKER_ROOT", "/var/lib/fashion-test-docker"))
RUN_DIR = Path(os.environ.get("FASHION_TEST_DOCKER_RUN", "/run/fashion-test-docker"))
SOCKET = RUN_DIR / "docker.sock"
ROOTFS_IMAGE = "fashion-standin-rootfs:bookworm"
STANDIN_LABEL = "org.fashion-mnist.standin-key"

# Debian packages the copied CPython links against (besides the essential set debootstrap brings).
ROOTFS_PACKAGES = (
    "ca-certificates,netbase,libssl3,libffi8,libsqlite3-0,libbz2-1.0,liblzma5,zlib1g,"
    "libreadline8,libncursesw6,libexpat1,libnsl2,libtirpc3,libuuid1,libcrypt1"
)
ROOTFS_EXCLUDES = (
    "./var/cache/apt/archives/*.deb",
    "./var/cache/apt/*.bin",
    "./var/lib/apt/lists/*",
    "./usr/share/doc/*",
    "./usr/share/man/*",
    "./usr/share/locale/*",
    "./usr/share/info/*",
)
# Parts of the host's CPython the stand-in leaves out: its packages, tests, GUI, static library.
PYTHON_SKIP = {
    "site-packages",
    "test",
    "idlelib",
    "tkinter",
    "turtledemo",
    "config-{v}-x86_64-linux-gnu",
    "config-{v}-aarch64-linux-gnu",
}


class DockerUnavailable(Exception):
    """No Docker engine can run here; the message says why."""


def in_ci() -> bool:
    return bool(os.environ.get("CI", "").strip())


def log(message: str) -> None:
    print(f"[docker-test {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Engine:
    """A reachable Docker engine and how to talk to it."""

    env: dict[str, str]
    process: subprocess.Popen | None = None  # the dockerd we started, if any
    ours: bool = False  # our own data root: safe to prune its dangling images
    containers: list[str] = field(default_factory=list)

    def docker(
        self, *args: str, timeout: float = 120, check: bool = True, input: bytes | None = None, stdin=None
    ) -> subprocess.CompletedProcess:
        command = ["docker", *args]
        result = subprocess.run(command, env=self.env, capture_output=True, timeout=timeout, input=input, stdin=stdin)
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command[:4])} ... failed ({result.returncode}):\n"
                f"{result.stdout.decode(errors='replace')[-3000:]}\n"
                f"{result.stderr.decode(errors='replace')[-3000:]}"
            )
        return result

    def text(self, *args: str, timeout: float = 120) -> str:
        return self.docker(*args, timeout=timeout).stdout.decode().strip()

    def has_image(self, ref: str) -> bool:
        return self.docker("image", "inspect", ref, check=False, timeout=30).returncode == 0

    def inspect(self, ref: str) -> dict:
        return json.loads(self.text("image", "inspect", ref))[0]

    def run_detached(self, name: str, *args: str) -> str:
        """``docker run -d --name NAME ARGS``; the container is removed by ``cleanup()``."""
        self.containers.append(name)
        return self.text("run", "-d", "--name", name, *args)

    def remove(self, name: str) -> None:
        self.docker("rm", "-f", "-v", name, check=False, timeout=60)
        if name in self.containers:
            self.containers.remove(name)

    def cleanup(self) -> None:
        for name in list(self.containers):
            self.remove(name)

    def stop(self) -> None:
        """Remove our containers; stop the dockerd we started (by its process id), if any."""
        self.cleanup()
        if self.process is None:
            return
        log(f"stopping dockerd (pid {self.process.pid})")
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
        self.process = None


def _client_env(host: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["DOCKER_BUILDKIT"] = "0"
    env["DOCKER_CLI_HINTS"] = "false"
    if host:
        env["DOCKER_HOST"] = host
    return env


def _reachable(env: dict[str, str]) -> bool:
    try:
        result = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"], env=env, capture_output=True, timeout=20
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and bool(result.stdout.strip())


def connect_or_start(start_timeout: float = 60) -> Engine:
    """A Docker engine to use: one already reachable, else a ``dockerd`` started here."""
    if shutil.which("docker") is None:
        raise DockerUnavailable("no `docker` client on PATH (install Docker, or Debian's docker.io)")
    candidates = [os.environ.get("DOCKER_HOST") or None, f"unix://{SOCKET}"]
    for host in candidates:
        env = _client_env(host)
        if _reachable(env):
            log(f"using the Docker engine at {host or 'the default socket'}")
            return Engine(env=env, ours=host == f"unix://{SOCKET}")
    dockerd = shutil.which("dockerd") or ("/usr/sbin/dockerd" if Path("/usr/sbin/dockerd").exists() else None)
    if dockerd is None:
        raise DockerUnavailable("no Docker engine reachable and no `dockerd` to start one")
    if os.geteuid() != 0:
        raise DockerUnavailable("no Docker engine reachable, and starting `dockerd` needs root")
    DATA_ROOT.mkdir(parents=True, exist_ok=True)
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    log_path = RUN_DIR / "dockerd.log"
    command = [
        dockerd,
        "--data-root",
        str(DATA_ROOT),
        "--exec-root",
        str(RUN_DIR / "exec"),
        "--host",
        f"unix://{SOCKET}",
        "--pidfile",
        str(RUN_DIR / "docker.pid"),
    ]
    log(f"starting {' '.join(command)} (log: {log_path})")
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            command, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    env = _client_env(f"unix://{SOCKET}")
    deadline = time.monotonic() + start_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            if _reachable(env):  # another test run started the same dockerd first: share it
                log("dockerd was started by another run; using it")
                return Engine(env=env, ours=True)
            tail = log_path.read_text(errors="replace")[-2000:]
            raise DockerUnavailable(f"dockerd exited with {process.returncode}:\n{tail}")
        if _reachable(env):
            log(f"dockerd ready (pid {process.pid})")
            return Engine(env=env, process=process, ours=True)
        time.sleep(0.5)
    process.terminate()
    process.wait(timeout=30)
    raise DockerUnavailable(f"dockerd did not answer within {start_timeout:.0f} s (log: {log_path})")


# --- the stand-in base image ---------------------------------------------------------------------


def base_image(dockerfile: Path = REPO / "Dockerfile") -> str:
    """The image the Dockerfile's (first) FROM names."""
    for line in dockerfile.read_text().splitlines():
        match = re.match(r"\s*FROM\s+(?:--platform=\S+\s+)?(\S+)", line, re.IGNORECASE)
        if match:
            return match.group(1)
    raise ValueError(f"no FROM line in {dockerfile}")


def host_ca_bundle() -> Path:
    for candidate in (
        os.environ.get("SSL_CERT_FILE"),
        ssl.get_default_verify_paths().cafile,
        "/etc/ssl/certs/ca-certificates.crt",
    ):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise DockerUnavailable("no CA bundle found on the host to carry into the stand-in base image")


def host_index_url() -> str:
    """The host's pip index, when it is an http(s) one other than PyPI (empty: PyPI)."""
    url = os.environ.get("PIP_INDEX_URL", "")
    if not url:
        result = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=60
        )
        for line in result.stdout.splitlines():
            key, _, value = line.partition("=")
            if key.split(".")[-1] == "index-url":
                url = value.strip().strip("'\"")
    return url if url.startswith(("http://", "https://")) else ""


def debian_mirror() -> str:
    """The Debian mirror apt uses on this host."""
    sources = sorted(Path("/etc/apt").glob("sources.list.d/*.sources"))
    for path in sources:
        for match in re.finditer(r"^URIs:\s*(\S+)", path.read_text(), re.MULTILINE):
            if match.group(1).rstrip("/").endswith("/debian"):
                return match.group(1)
    for path in [Path("/etc/apt/sources.list"), *Path("/etc/apt").glob("sources.list.d/*.list")]:
        if path.is_file():
            for match in re.finditer(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)", path.read_text(), re.MULTILINE):
                if match.group(1).rstrip("/").endswith("/debian"):
                    return match.group(1)
    return "http://deb.debian.org/debian"


def _python_for(base: str) -> tuple[Path, str]:
    """A CPython install (prefix, ``sys.version``) of the minor version the base image names, laid out
    like the official image's: this interpreter's, else another on PATH or under pyenv. Debian's own
    python3 does not qualify: it ships without ensurepip's wheels (``ensurepip is disabled``)."""
    match = re.search(r"python:(\d+)\.(\d+)", base)
    if not match:
        raise DockerUnavailable(f"can't make a stand-in for {base!r}: only python:X.Y[-...] images")
    minor = f"{match.group(1)}.{match.group(2)}"
    seen = []
    for prefix, version in _pythons(minor):
        seen.append(str(prefix))
        has_pip = any((prefix / "lib" / f"python{minor}" / "ensurepip" / "_bundled").glob("pip-*.whl"))
        if (prefix / "bin" / f"python{minor}").exists() and has_pip:
            return prefix, version
    raise DockerUnavailable(
        f"the stand-in for {base} needs a CPython {minor} with ensurepip's wheels (pyenv, python.org); "
        f"found none among {', '.join(seen) or 'nothing'} (Debian's own python3 has them removed)"
    )


def _pythons(minor: str):
    """(prefix, version) of the CPython {minor} installs this host has: the running one first."""
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == minor:
        yield Path(sys.base_prefix), sys.version
    candidates = [shutil.which(f"python{minor}"), shutil.which("python3")]
    candidates += sorted(str(p) for p in Path.home().glob(f".pyenv/versions/{minor}*/bin/python{minor}"))
    for exe in dict.fromkeys(c for c in candidates if c):
        try:
            out = subprocess.run(
                [exe, "-c", "import json, sys; print(json.dumps([sys.base_prefix, sys.version]))"],
                capture_output=True, text=True, timeout=60,
            ).stdout  # fmt: skip
            prefix, version = json.loads(out)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            continue
        if version.startswith(minor + "."):
            yield Path(prefix), version


def _python_tar(prefix: Path, version: str, target: Path) -> None:
    """Tar the host's CPython (interpreter, shared library, standard library) for /usr/local."""
    skip = {name.format(v=version) for name in PYTHON_SKIP}
    stdlib = f"lib/python{version}"

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        parts = Path(info.name).parts
        if len(parts) >= 3 and "/".join(parts[:2]) == stdlib and parts[2] in skip:
            return None
        if "__pycache__" in parts:
            return None
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    with tarfile.open(target, "w") as tar:
        tar.add(prefix / "bin" / f"python{version}", arcname=f"bin/python{version}", filter=keep)
        for lib in sorted((prefix / "lib").glob(f"libpython{version}*.so*")):
            tar.add(lib, arcname=f"lib/{lib.name}", filter=keep)
        tar.add(prefix / stdlib, arcname=stdlib, filter=keep)


def _rootfs(engine: Engine) -> None:
    if engine.has_image(ROOTFS_IMAGE):
        return
    debootstrap = shutil.which("debootstrap") or "/usr/sbin/debootstrap"
    if not Path(debootstrap).exists():
        raise DockerUnavailable(
            "the base image can't be pulled and `debootstrap` is missing "
            "(apt-get install debootstrap) to make a stand-in"
        )
    if os.geteuid() != 0:
        raise DockerUnavailable("making the stand-in base image with debootstrap needs root")
    mirror = debian_mirror()
    with tempfile.TemporaryDirectory(prefix="fashion-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        log(f"debootstrap bookworm from {mirror} (about a minute)")
        started = time.monotonic()
        result = subprocess.run(
            [
                "nice",
                "-n",
                "10",
                debootstrap,
                "--variant=minbase",
                f"--include={ROOTFS_PACKAGES}",
                "bookworm",
                str(rootfs),
                mirror,
            ],
            capture_output=True,
            text=True,
            timeout=1200,
        )
        if result.returncode != 0:
            raise RuntimeError(f"debootstrap failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        log(f"debootstrap done in {time.monotonic() - started:.0f} s; importing")
        excludes = [f"--exclude={pattern}" for pattern in ROOTFS_EXCLUDES]
        tar = subprocess.Popen(["tar", "-C", str(rootfs), *excludes, "-c", "."], stdout=subprocess.PIPE)
        engine.docker(
            "import",
            "--message",
            "debootstrap --variant=minbase bookworm",
            "-",
            ROOTFS_IMAGE,
            stdin=tar.stdout,
            timeout=600,
        )
        tar.stdout.close()
        if tar.wait() != 0:
            raise RuntimeError("tar of the debootstrap root failed")


def ensure_standin_base(engine: Engine, base: str | None = None) -> str:
    """Make sure the project's base image exists locally; build the stand-in if it doesn't.

    Returns what was done: "present" (a real or cached image), or "built".
    """
    base = base or base_image()
    if "@" in base:
        raise DockerUnavailable(f"{base} is pinned by digest: a local stand-in can't carry that name")
    prefix, full_version = _python_for(base)
    version = ".".join(full_version.split()[0].split(".")[:2])
    ca_bundle = host_ca_bundle()
    index_url = host_index_url()
    key = hashlib.sha256()
    for part in (
        full_version,
        str(prefix),
        ca_bundle.read_bytes(),
        index_url,
        ROOTFS_IMAGE,
        " ".join(sorted(PYTHON_SKIP)),
        (STANDIN_DIR / "Dockerfile").read_bytes(),
    ):
        key.update(part if isinstance(part, bytes) else part.encode())
    wanted = key.hexdigest()[:16]
    if engine.has_image(base):
        labels = engine.inspect(base).get("Config", {}).get("Labels") or {}
        if STANDIN_LABEL not in labels or labels[STANDIN_LABEL] == wanted:
            return "present"  # a real base image, or our stand-in built from the same inputs
        log(f"stand-in {base} is stale; rebuilding")
    _rootfs(engine)
    with tempfile.TemporaryDirectory(prefix="fashion-standin-") as tmp:
        context = Path(tmp)
        shutil.copy(STANDIN_DIR / "Dockerfile", context / "Dockerfile")
        shutil.copy(ca_bundle, context / "host-ca-certificates.crt")
        _python_tar(prefix, version, context / "host-python.tar")
        log(f"building the stand-in {base} (Python {full_version.split()[0]} from {prefix})")
        engine.docker(
            "build",
            "--tag",
            base,
            "--build-arg",
            f"ROOTFS_IMAGE={ROOTFS_IMAGE}",
            "--build-arg",
            f"PYTHON_VERSION={version}",
            "--build-arg",
            f"PIP_INDEX_URL={index_url}",
            "--label",
            f"{STANDIN_LABEL}={wanted}",
            str(context),
            timeout=900,
        )
    return "built"


# --- the project image ---------------------------------------------------------------------------


@dataclass
class Build:
    tag: str
    seconds: float
    size_bytes: int
    base_size_bytes: int
    context_line: str
    log: str


def build_image(engine: Engine, tag: str, context: Path = REPO, timeout: float = 2400) -> Build:
    """``docker build -t TAG CONTEXT``, timed; the log goes to test-artifacts/docker-build.log."""
    started = time.monotonic()
    commit = subprocess.run(
        ["git", "-C", str(context), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    command = ["docker", "build", "--force-rm", "--build-arg", f"GIT_COMMIT={commit}", "--tag", tag, str(context)]
    log(f"{' '.join(command)} (cold: several minutes; cached: seconds)")
    result = subprocess.run(
        ["nice", "-n", "10", *command], env=engine.env, capture_output=True, text=True, timeout=timeout
    )
    seconds = time.monotonic() - started
    output = result.stdout + result.stderr
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "docker-build.log").write_text(output)
    if result.returncode != 0:
        raise AssertionError(f"docker build failed ({result.returncode}) after {seconds:.0f} s:\n{output[-6000:]}")
    context_line = next((line for line in output.splitlines() if "build context" in line), "")
    size = engine.inspect(tag)["Size"]
    base_size = engine.inspect(base_image(context / "Dockerfile"))["Size"]
    if engine.ours:  # old layers of earlier builds, and volumes of interrupted runs, on our own data root only
        engine.docker("image", "prune", "--force", check=False, timeout=300)
        stale = engine.text("volume", "ls", "--quiet", "--filter", "name=fashion-test-volume-").split()
        if stale:
            engine.docker("volume", "rm", "--force", *stale, check=False, timeout=120)
    log(f"built {tag} in {seconds:.0f} s: {size / 1e9:.2f} GB ({(size - base_size) / 1e9:.2f} GB above the base)")
    return Build(tag, seconds, size, base_size, context_line, output)


def free_port(preferred: int | None = None) -> int:
    """``preferred`` if nothing listens there, else a free port the kernel picks."""
    if preferred:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", preferred))
                return preferred
            except OSError:
                pass
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(engine: Engine, name: str, timeout: float = 180) -> float:
    """Wait for the container's HEALTHCHECK to say healthy; returns the seconds it took."""
    started = time.monotonic()
    status = ""
    while time.monotonic() - started < timeout:
        state = json.loads(engine.text("inspect", "--format", "{{json .State}}", name))
        status = (state.get("Health") or {}).get("Status", "")
        if status == "healthy":
            return time.monotonic() - started
        if not state.get("Running"):
            logs = engine.docker("logs", name, check=False).stderr.decode(errors="replace")
            raise AssertionError(f"container {name} stopped ({state.get('ExitCode')}):\n{logs[-4000:]}")
        time.sleep(1)
    logs = engine.docker("logs", name, check=False).stderr.decode(errors="replace")
    raise AssertionError(f"container {name} not healthy after {timeout:.0f} s ({status}):\n{logs[-4000:]}")


def container_logs(engine: Engine, name: str) -> str:
    result = engine.docker("logs", name, check=False)
    return result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")
