"""precision="auto": bfloat16 where the CPU (AVX-512 BF16, AMX) or a GPU computes in it natively, else float32;
a run records the precision it used, so a reproduction replays the same arithmetic."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fashion_lib import precision
from fashion_lib.config import TrainConfig
from fashion_lib.errors import ConfigError

INTEL = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_vnni\nmodel name\t: Xeon\n"
EPYC = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni\n"
SAPPHIRE = "flags\t\t: fpu avx512f amx_tile amx_bf16 amx_int8\n"


@pytest.mark.parametrize(
    "text, flag", [(INTEL, None), (EPYC, "avx512_bf16"), (SAPPHIRE, "amx_bf16"), ("", None), ("Features: bf16\n", None)]
)
def test_the_cpu_flag_is_read_from_the_flags_line(tmp_path: Path, text: str, flag: str | None) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(text)
    assert precision.cpu_bfloat16_flag(cpuinfo) == flag


def test_no_cpuinfo_is_no_flag(tmp_path: Path) -> None:
    assert precision.cpu_bfloat16_flag(tmp_path / "absent") is None


@pytest.mark.parametrize(
    "cpu, gpu, expected",
    [
        (EPYC, None, ("mixed_bfloat16", "auto: this CPU has AVX-512 BF16 instructions")),
        (SAPPHIRE, None, ("mixed_bfloat16", "auto: this CPU has AMX instructions")),
        (INTEL, None, ("float32", "auto: this CPU has no bfloat16 instructions (AVX-512 BF16 or AMX)")),
        (INTEL, "NVIDIA H200", ("mixed_bfloat16", "auto: NVIDIA H200 computes in bfloat16")),
    ],
)
def test_auto_picks_bfloat16_only_where_the_hardware_has_it(tmp_path, monkeypatch, cpu, gpu, expected) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(cpu)
    monkeypatch.setattr(precision, "CPUINFO", cpuinfo)
    monkeypatch.setattr(precision, "gpu_with_bfloat16", lambda: gpu)
    assert precision.resolve("auto") == expected
    assert TrainConfig().resolved().precision == expected[0]
    assert precision.resolve("float32") == ("float32", "as configured")  # set by hand: kept, whatever the machine
    assert TrainConfig(precision="mixed_bfloat16").resolved().precision == "mixed_bfloat16"


def test_a_precision_that_is_not_one_of_the_three_is_one_line() -> None:
    with pytest.raises(ConfigError, match=r"^precision='float16' is invalid; expected one of auto, float32, mixed_"):
        TrainConfig(precision="float16").validate()


def test_this_machines_gpu_check_answers_without_a_gpu_or_names_one() -> None:
    found = precision.gpu_with_bfloat16()
    assert found is None or (isinstance(found, str) and found)


def test_a_run_records_the_precision_it_computed_in_not_auto(tmp_path: Path) -> None:
    """config.json and the result say what the arithmetic was, so a reproduction replays it on any machine."""
    from fashion_lib.csvio import Dataset
    from fashion_lib.train import train

    rng = np.random.default_rng(0)
    data = Dataset(rng.integers(0, 256, (300, 28, 28), dtype=np.uint8), rng.integers(0, 10, 300).astype(np.int64))
    config = TrainConfig(stages=[[4], [8]], dense_units=16, tta_shift=0, epochs=1, validation_size=100)
    assert config.precision == "auto"
    result = train(config, data, output_dir=tmp_path / "run", verbose=0)
    computed = precision.resolve("auto")[0]
    assert result.config.precision == computed
    assert json.loads((tmp_path / "run" / "config.json").read_text())["precision"] == computed
    convs = {layer.dtype_policy.compute_dtype for layer in result.model.layers if layer.name.startswith("stage")}
    assert convs == {"bfloat16" if computed == "mixed_bfloat16" else "float32"}
    assert result.model.layers[-1].dtype_policy.compute_dtype == "float32"  # the softmax: probabilities that sum to 1


class _Stop(Exception):
    pass


@pytest.mark.parametrize(
    "requested, computed, noted",
    [("auto", "float32", True), ("auto", "mixed_bfloat16", False), ("float32", "float32", False)],
)
def test_the_default_on_a_cpu_without_bfloat16_says_why_it_is_slow(monkeypatch, requested, computed, noted) -> None:
    """Before training, one line: the README's ten minutes assume bfloat16 instructions, and v2 is the way out."""
    from types import SimpleNamespace

    from fashion_lib import run_steps

    def prepared(config, **kwargs):
        assert config.precision == requested
        data = SimpleNamespace(describe=lambda: "fashion-mnist/data@c75a9bd1419b")
        return SimpleNamespace(config=config.replace(precision=computed), data=data, output_dir=Path("run"))

    monkeypatch.setattr(run_steps, "prepare_run", prepared)
    monkeypatch.setattr(run_steps, "_strategy", lambda run, strategy: (_ for _ in ()).throw(_Stop()))
    logged: list[str] = []
    with pytest.raises(_Stop):
        run_steps.train_evaluate_publish(TrainConfig(precision=requested), push=False, log=logged.append)
    notes = [line for line in logged if line.startswith("note: ")]
    assert notes == ([f"note: {run_steps.FLOAT32_NOTE}"] if noted else [])
    assert all("\n" not in line for line in logged) and "--preset v2" in run_steps.FLOAT32_NOTE
