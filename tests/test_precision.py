"""precision="auto": bfloat16 where the CPU (AVX-512 BF16, AMX) or a GPU computes in it natively, else float32;
a run records the precision it used, so a reproduction replays the same arithmetic. Each test fixes what the
machine is said to have, so the suite checks both branches on any CI machine."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from fashion_lib import precision
from fashion_lib.config import TrainConfig
from fashion_lib.errors import ConfigError

INTEL = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_vnni\nmodel name\t: Xeon\n"
EPYC = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni\n"
SAPPHIRE = "flags\t\t: fpu avx512f amx_tile amx_bf16 amx_int8\n"
NO_BF16 = "this CPU has no bfloat16 instructions (AVX-512 BF16 or AMX)"


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Say which CPU flags and GPU this machine has: ``machine(cpuinfo_text, gpu=None)``."""

    def have(cpu: str, gpu: tuple[str, bool] | None = None) -> None:
        cpuinfo = tmp_path / "cpuinfo"
        cpuinfo.write_text(cpu)
        monkeypatch.setattr(precision, "CPUINFO", cpuinfo)
        monkeypatch.setattr(precision, "visible_gpu", lambda: gpu)

    return have


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
        (INTEL, None, ("float32", f"auto: {NO_BF16}")),
        (INTEL, ("NVIDIA H200", True), ("mixed_bfloat16", "auto: NVIDIA H200 computes in bfloat16")),
        # training runs on the GPU: an older one decides, whatever the CPU has
        (EPYC, ("Tesla T4", False), ("float32", "auto: Tesla T4 has no fast bfloat16 (compute capability below 8.0)")),
    ],
)
def test_auto_picks_bfloat16_only_where_the_hardware_has_it(machine, cpu, gpu, expected) -> None:
    machine(cpu, gpu)
    assert precision.resolve("auto") == expected
    assert TrainConfig().resolved().precision == expected[0]
    assert precision.resolve("float32") == ("float32", "as configured")  # set by hand: kept, whatever the machine
    assert TrainConfig(precision="mixed_bfloat16").resolved().precision == "mixed_bfloat16"


def test_a_precision_that_is_not_one_of_the_three_is_one_line() -> None:
    with pytest.raises(ConfigError, match=r"^precision='float16' is invalid; expected one of auto, float32, mixed_"):
        TrainConfig(precision="float16").validate()


def test_this_machines_gpus_are_what_tensorflow_lists() -> None:
    import tensorflow as tf

    found = precision.visible_gpu()
    assert (found is None) == (not tf.config.list_physical_devices("GPU"))


@pytest.mark.parametrize("cpu, computed", [(EPYC, "mixed_bfloat16"), (INTEL, "float32")])
def test_a_run_records_the_precision_it_computed_in_not_auto(machine, tmp_path: Path, cpu, computed) -> None:
    """config.json and the result say what the arithmetic was, so a reproduction replays it on any machine."""
    from fashion_lib.csvio import Dataset
    from fashion_lib.train import train

    machine(cpu)
    rng = np.random.default_rng(0)
    data = Dataset(rng.integers(0, 256, (300, 28, 28), dtype=np.uint8), rng.integers(0, 10, 300).astype(np.int64))
    config = TrainConfig(stages=[[4], [8]], dense_units=16, tta_shift=0, epochs=1, validation_size=100)
    assert config.precision == "auto"
    result = train(config, data, output_dir=tmp_path / "run", verbose=0)
    assert result.config.precision == computed
    assert json.loads((tmp_path / "run" / "config.json").read_text())["precision"] == computed
    convs = {layer.dtype_policy.compute_dtype for layer in result.model.layers if layer.name.startswith("stage")}
    assert convs == {"bfloat16" if computed == "mixed_bfloat16" else "float32"}
    assert result.model.layers[-1].dtype_policy.compute_dtype == "float32"  # the softmax: probabilities that sum to 1


@pytest.mark.parametrize(
    "requested, cpu, computed, noted",
    [
        ("auto", INTEL, "float32", True),
        ("auto", EPYC, "mixed_bfloat16", False),
        ("float32", INTEL, "float32", False),  # asked for: nothing to explain
    ],
)
def test_a_prepared_run_holds_the_resolved_config_and_says_when_the_default_is_slow_here(
    machine, monkeypatch, tmp_path: Path, requested, cpu, computed, noted
) -> None:
    """The run (its lineage, metrics and config.json) records what it computes in; where "auto" means float32, one
    line before training says the README's times assume bfloat16 instructions, and names --preset v2. The CLI and the
    notebook both prepare runs so."""
    from fashion_lib import run_steps

    machine(cpu)
    data = SimpleNamespace(train=range(60000), meta={}, name="fashion-mnist/data", top_hash="d" * 64, registry="r")
    monkeypatch.setattr(run_steps, "load_data", lambda **kwargs: data)
    monkeypatch.setattr(run_steps, "ensure_quality", lambda data: None)
    logged: list[str] = []
    run = run_steps.prepare_run(TrainConfig(precision=requested), output_dir=tmp_path / "run", log=logged.append)
    assert run.config.precision == computed and run.config == TrainConfig(precision=computed)
    assert run.lineage()["training"]["config"]["precision"] == computed
    expected = f"note: {NO_BF16}, so training computes in float32 and takes several times the README's figures; "
    assert logged == (
        [expected + "--preset v2 (the previous default, 93.8 %) trains in about a fifth of the time"] if noted else []
    )


@pytest.mark.parametrize("cpu, noted", [(INTEL, True), (EPYC, False)])
def test_reproducing_a_bfloat16_model_where_bfloat16_is_slow_says_so(machine, cpu, noted) -> None:
    from fashion_lib.reproduce import bfloat16_elsewhere

    machine(cpu)
    note = bfloat16_elsewhere("mixed_bfloat16")
    assert note == (
        f"the model was computed in bfloat16 and is reproduced so, but {NO_BF16}: expect several times its "
        "training time"
        if noted
        else None
    )
    assert bfloat16_elsewhere("float32") is None


@pytest.mark.parametrize("cpu, same", [(EPYC, True), (INTEL, False)])
def test_up_to_date_compares_the_recorded_precision_with_this_machines(machine, monkeypatch, tmp_path, cpu, same):
    """A default model trained in bfloat16 is up to date here where "auto" means bfloat16 (else `fashion run`
    would retrain it every time); where it means float32, training again would compute differently."""
    from fashion_lib import pipeline, provenance, registry

    clean = {"commit": "a" * 40, "dirty": False, "version": "0.1.0"}
    monkeypatch.setattr(provenance, "code_state", lambda: clean)
    (tmp_path / "clf.keras").write_bytes(b"model")
    recorded = TrainConfig(precision="mixed_bfloat16").to_dict()
    meta = {
        "code": clean,
        "data": {"top_hash": "d" * 64},
        "environment": {"requirements_sha256": provenance.environment_state()["requirements_sha256"]},
        "training": {"config": recorded},
        "metrics": {"test_accuracy": 0.9438},
    }
    reg = str(tmp_path / "registry")
    top = registry.push("fashion-mnist/model", {"clf.keras": tmp_path / "clf.keras"}, registry=reg, meta=meta)
    machine(cpu)
    found = pipeline.up_to_date_model(TrainConfig(), "d" * 64, registry=reg)
    assert (found is not None and found[0] == top) == same
