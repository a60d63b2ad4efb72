"""The ``precision`` setting's ``"auto"``: bfloat16 compute where the hardware does it natively, else float32.

Keras' ``mixed_bfloat16`` policy (bfloat16 compute, float32 weights) makes a training step of the default
network about 1.3x faster on a CPU with AVX-512 BF16 or AMX instructions, and on a GPU of compute capability
8.0 or later; on other CPUs bfloat16 gains nothing and can be slower (docs/accuracy-experiments.md). A run
resolves ``"auto"`` once, before training, and records the precision it used, so ``fashion reproduce``
replays the same arithmetic on any machine.
"""

from __future__ import annotations

from pathlib import Path

AUTO = "auto"
BFLOAT16 = "mixed_bfloat16"
FLOAT32 = "float32"
CPU_FLAGS = {"avx512_bf16": "AVX-512 BF16", "amx_bf16": "AMX"}  # x86 instructions computing in bfloat16 natively
CPUINFO = Path("/proc/cpuinfo")


def cpu_bfloat16_flag(cpuinfo: Path | None = None) -> str | None:
    """The first of :data:`CPU_FLAGS` that this CPU lists (Linux ``/proc/cpuinfo``), or None (none, or no such file)."""
    try:
        text = (cpuinfo or CPUINFO).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "flags":
            flags = set(value.split())
            return next((flag for flag in CPU_FLAGS if flag in flags), None)
    return None


def visible_gpu() -> tuple[str, bool] | None:
    """The GPU training would run on: its name, and whether it computes in bfloat16 natively (compute capability 8.0
    or later, Ampere on; the first such GPU where there are several); None without one."""
    from .backend import load_tensorflow

    load_tensorflow()
    import tensorflow as tf

    found: list[tuple[str, bool]] = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        capable = tuple(details.get("compute_capability") or (0, 0)) >= (8, 0)
        found.append((str(details.get("device_name") or gpu.name), capable))
    return next((g for g in found if g[1]), found[0] if found else None)


def resolve(precision: str) -> tuple[str, str]:
    """The precision to compute in for ``precision`` ("auto" chosen for this machine) and why, in a few words.
    A visible GPU decides (training runs there), else the CPU's instructions."""
    if precision != AUTO:
        return precision, "as configured"
    gpu = visible_gpu()
    if gpu:
        name, capable = gpu
        if capable:
            return BFLOAT16, f"auto: {name} computes in bfloat16"
        return FLOAT32, f"auto: {name} has no fast bfloat16 (compute capability below 8.0)"
    flag = cpu_bfloat16_flag()
    if flag:
        return BFLOAT16, f"auto: this CPU has {CPU_FLAGS[flag]} instructions"
    return FLOAT32, "auto: this CPU has no bfloat16 instructions (AVX-512 BF16 or AMX)"


def float32_note(why: str) -> str:
    """The line a run of the default recipe gives where "auto" chose float32 (``why``: :func:`resolve`'s reason)."""
    return (
        f"{why.removeprefix('auto: ')}, so training computes in float32 and takes several times the README's figures; "
        "--preset v2 (the previous default, 93.8 %) trains in about a fifth of the time"
    )


def policy(precision: str) -> str:
    """The Keras dtype policy that ``precision`` builds layers with (``"auto"`` resolved for this machine)."""
    return resolve(precision)[0]
