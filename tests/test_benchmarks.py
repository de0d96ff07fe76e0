"""Checks of the benchmark scripts' bookkeeping and arithmetic (never their timings)."""

from __future__ import annotations

import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import cpu_peak  # noqa: E402
import training_throughput  # noqa: E402


# ------------------------------------------------- the CPU peak's arithmetic

ZEN4_FLAGS = ("fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 avx512f avx512dq "
              "avx512cd avx512bw avx512vl avx512_bf16")
SKYLAKE_FLAGS = "fpu sse sse2 ssse3 fma sse4_2 avx avx2 avx512f avx512dq avx512cd"


def cpuinfo(vendor, family, model, name, flags, mhz, cores):
    """A /proc/cpuinfo text: one block per (processor, physical id, core id)."""
    return "\n\n".join(
        f"processor\t: {cpu}\nvendor_id\t: {vendor}\ncpu family\t: {family}\n"
        f"model\t\t: {model}\nmodel name\t: {name}\ncpu MHz\t\t: {mhz}\n"
        f"physical id\t: 0\ncore id\t\t: {core}\nflags\t\t: {flags}\n"
        for cpu, core in enumerate(cores)) + "\n"


ZEN4 = cpuinfo("AuthenticAMD", 25, 17, "AMD EPYC", ZEN4_FLAGS, "2596.138", [0, 1])
# Four logical CPUs on two cores: CPUs 0 and 2 are SMT siblings, as are 1 and 3.
XEON = cpuinfo("GenuineIntel", 6, 85, "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz",
               SKYLAKE_FLAGS, "2499.998", [0, 1, 0, 1])


def test_zen4_avx512_counts_as_two_256_bit_fma_pipes():
    peak, why = cpu_peak.estimate_peak(ZEN4, allowed={0, 1})
    assert why == ""
    assert peak.flops_per_cycle == 2 * 8 * 2
    assert peak.cores == 2 and peak.megahertz == 2596.138
    assert peak.flops == pytest.approx(2 * 2596.138e6 * 32)
    assert [level for level, _, _ in peak.rates] == [
        "AVX-512", "AVX2 + FMA", "AVX", "SSE2"]
    text = peak.justification()
    assert "Zen 4" in text and "cpu MHz" in text and "166.2 GFLOP/s" in text


def test_intel_avx512_assumes_two_fma_units_and_counts_smt_siblings_once():
    peak, _ = cpu_peak.estimate_peak(XEON, max_mhz=3500.0, allowed={0, 1, 2, 3})
    assert peak.flops_per_cycle == 2 * 16 * 2
    assert peak.cores == 2
    assert peak.flops == pytest.approx(2 * 3500e6 * 64)
    assert "two 512-bit FMA units assumed" in peak.justification()
    assert "maximum (boost) clock" in peak.justification()
    # Two siblings of one core have that core's FMA units only.
    assert cpu_peak.estimate_peak(XEON, allowed={0, 2})[0].cores == 1


def test_a_given_clock_wins_and_each_instruction_set_has_its_rate():
    peak, _ = cpu_peak.estimate_peak(ZEN4, max_mhz=3700.0, clock_mhz=3660.0,
                                     allowed={0, 1})
    assert peak.flops == pytest.approx(2 * 3660e6 * 32)
    haswell = cpu_peak.parse_cpuinfo(cpuinfo(
        "GenuineIntel", 6, 63, "Xeon E5-2680 v3", "sse2 avx avx2 fma", "2500", [0]))
    assert [(level, rate) for level, rate, _ in cpu_peak.isa_rates(haswell)] == [
        ("AVX2 + FMA", 32), ("AVX", 16), ("SSE2", 8)]
    zen1 = cpu_peak.parse_cpuinfo(cpuinfo(
        "AuthenticAMD", 23, 1, "AMD EPYC 7601", "sse2 avx avx2 fma", "2200", [0]))
    assert cpu_peak.isa_rates(zen1)[0][:2] == ("AVX2 + FMA", 16)
    zen2 = cpu_peak.parse_cpuinfo(cpuinfo(
        "AuthenticAMD", 23, 49, "AMD EPYC 7R32", "sse2 avx avx2 fma", "2800", [0]))
    assert cpu_peak.isa_rates(zen2)[0][:2] == ("AVX2 + FMA", 32)
    sandy = cpu_peak.parse_cpuinfo(cpuinfo(
        "GenuineIntel", 6, 42, "Core i7-2600", "sse2 avx", "3400", [0]))
    assert cpu_peak.isa_rates(sandy)[0][:2] == ("AVX", 16)


def test_unknown_cpus_say_why():
    arm = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd\n\n"
    assert cpu_peak.estimate_peak(arm, allowed={0}) == (
        None, "unknown (no x86 vector flags in /proc/cpuinfo)")
    no_clock = ZEN4.replace("cpu MHz\t\t: 2596.138\n", "")
    assert cpu_peak.estimate_peak(no_clock, allowed={0, 1})[0] is None
    with pytest.raises(ValueError, match="/proc/cpuinfo"):
        cpu_peak.parse_cpuinfo("  \n")


def test_max_megahertz_reads_cpufreq_khz(tmp_path):
    path = tmp_path / "cpuinfo_max_freq"
    path.write_text("3700000\n")
    assert cpu_peak.max_megahertz(path) == 3700.0
    assert cpu_peak.max_megahertz(tmp_path / "missing") is None


def test_training_flops_of_the_chapter_2_autoencoder():
    units = (784, 256, 128, 64, 20, 64, 128, 256, 784)
    shapes = list(zip(units[:-1], units[1:]))
    forward = 2 * sum(a * b for a, b in shapes)
    assert forward == 971_776
    # Backward: kernel gradients everywhere, input gradients but the first layer's.
    assert cpu_peak.dense_training_flops(shapes) == 3 * forward - 2 * 784 * 256
    assert cpu_peak.dense_training_flops(shapes) == 2_513_920
    model = training_throughput.build_autoencoder()
    assert training_throughput.training_flops_per_sample(model) == 2_513_920
    with pytest.raises(ValueError, match="dense layer"):
        cpu_peak.dense_training_flops([])
