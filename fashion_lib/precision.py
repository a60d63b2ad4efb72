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


def gpu_with_bfloat16() -> str | None:
    """The name of a visible GPU of compute capability 8.0 or later (Ampere on), or None."""
    from .backend import load_tensorflow

    load_tensorflow()
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        if tuple(details.get("compute_capability") or (0, 0)) >= (8, 0):
            return str(details.get("device_name") or gpu.name)
    return None


def resolve(precision: str) -> tuple[str, str]:
    """The precision to compute in for ``precision`` ("auto" chosen for this machine) and why, in a few words."""
    if precision != AUTO:
        return precision, "as configured"
    gpu = gpu_with_bfloat16()
    if gpu:
        return BFLOAT16, f"auto: {gpu} computes in bfloat16"
    flag = cpu_bfloat16_flag()
    if flag:
        return BFLOAT16, f"auto: this CPU has {CPU_FLAGS[flag]} instructions"
    return FLOAT32, "auto: this CPU has no bfloat16 instructions (AVX-512 BF16 or AMX)"


def policy(precision: str) -> str:
    """The Keras dtype policy that ``precision`` builds layers with (``"auto"`` resolved for this machine)."""
    return resolve(precision)[0]
