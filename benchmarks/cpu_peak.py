"""The CPU's peak FP32 FLOP/s, estimated from /proc/cpuinfo, and the FLOPs of training.

The peak is cores x clock x FLOP per cycle and core. FLOP per cycle comes from
the instruction set and the FMA units of the core, read from the flags, the
vendor and the family in /proc/cpuinfo; the clock is the maximum clock that
cpufreq reports (what `lscpu` prints as "CPU max MHz") or, without one, the
"cpu MHz" of /proc/cpuinfo. Every estimate says which assumption it makes.
This module imports nothing heavy, so that the tests can check its arithmetic.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
MAX_FREQ = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")


@dataclass(frozen=True)
class CpuInfo:
    vendor: str
    family: int | None
    model: int | None
    model_name: str
    flags: frozenset
    megahertz: float | None
    processors: dict  # processor number -> (physical id, core id)


@dataclass(frozen=True)
class Peak:
    flops: float
    cores: int
    megahertz: float
    clock_source: str
    flops_per_cycle: int
    rates: tuple  # (instruction set, FLOP per cycle and core, why), widest first

    def justification(self) -> str:
        """Say how the peak was computed, per instruction set, with assumptions."""
        lines = [f"{self.cores} cores x {self.megahertz / 1000:.2f} GHz x "
                 f"{self.flops_per_cycle} FLOP/cycle = {self.flops / 1e9:,.1f} "
                 "GFLOP/s, with the instruction set that does most per cycle"]
        for level, per_cycle, why in self.rates:
            lines.append(f"  {level}: {per_cycle} FLOP/cycle/core ({why}): "
                         f"{self.flops / self.flops_per_cycle * per_cycle / 1e9:,.1f}"
                         " GFLOP/s")
        lines.append(f"  cores: {self.cores}, those this process may run on, "
                     "counting SMT siblings once (they share the FMA units)")
        lines.append(f"  clock: {self.megahertz:,.0f} MHz, {self.clock_source}")
        return "\n".join(lines)


def _number(text: str) -> int | None:
    try:
        return int(text.strip(), 0)
    except ValueError:
        return None


def parse_cpuinfo(text: str) -> CpuInfo:
    """Read the fields that the estimate needs from the text of /proc/cpuinfo."""
    blocks = [block for block in text.strip().split("\n\n") if block.strip()]
    if not blocks:
        raise ValueError("expected the text of /proc/cpuinfo, got an empty text")
    processors = {}
    first = {}
    megahertz = []
    for block in blocks:
        fields = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields.setdefault(key.strip(), value.strip())
        if not first:
            first = fields
        if "processor" in fields and _number(fields["processor"]) is not None:
            processors[_number(fields["processor"])] = (
                fields.get("physical id", "0"),
                fields.get("core id", fields["processor"]),
            )
        try:
            megahertz.append(float(fields["cpu MHz"]))
        except (KeyError, ValueError):
            pass
    return CpuInfo(
        vendor=first.get("vendor_id", ""),
        family=_number(first.get("cpu family", "")),
        model=_number(first.get("model", "")),
        model_name=first.get("model name", ""),
        flags=frozenset(first.get("flags", "").split()),
        megahertz=max(megahertz) if megahertz else None,
        processors=processors,
    )


# Vector instruction sets, widest first, and the flags that announce each.
LEVELS = (
    ("AVX-512", {"avx512f"}),
    ("AVX2 + FMA", {"avx2", "fma"}),
    ("AVX", {"avx"}),
    ("SSE2", {"sse2"}),
)


def rate_for(info: CpuInfo, level: str) -> tuple[int, str]:
    """FP32 FLOP per cycle and core with one instruction set (an FMA counts 2),
    and why: the width and number of the units that execute it."""
    amd = info.vendor == "AuthenticAMD"
    if level in ("AVX-512", "AVX2 + FMA") and amd and info.family == 25:
        # Zen 3 and Zen 4. Zen 4 runs AVX-512 on its two 256-bit FMA pipes, one
        # half after the other, so AVX-512 doubles nothing there.
        if level == "AVX-512":
            return 2 * 8 * 2, ("AMD Zen 4: two 256-bit FMA pipes per core, each "
                               "512-bit FMA split in two halves, 2 x 8 x 2")
        return 2 * 8 * 2, "AMD Zen 3/4: two 256-bit FMA pipes per core, 2 x 8 x 2"
    if level == "AVX2 + FMA" and amd and info.family == 23 and (
            info.model is not None and info.model < 0x30):
        return 2 * 4 * 2, "AMD Zen/Zen+: two 128-bit FMA pipes per core, 2 x 4 x 2"
    if level == "AVX-512":
        return 2 * 16 * 2, (
            "two 512-bit FMA units assumed, 2 x 16 x 2 (Xeon Gold 6000 and Platinum "
            "and AMD Zen 5 have two; Skylake and Cascade Lake Xeon Bronze, Silver "
            "and most Gold 5000, and Intel's laptop and desktop AVX-512 chips have "
            "one: half this)")
    if level == "AVX2 + FMA":
        return 2 * 8 * 2, ("two 256-bit FMA units assumed, 2 x 8 x 2 (Intel since "
                           "Haswell, AMD since Zen 2)")
    if level == "AVX":
        return 8 + 8, "one 256-bit multiply and one 256-bit add per cycle, 8 + 8"
    if level == "SSE2":
        return 4 + 4, "one 128-bit multiply and one 128-bit add per cycle, 4 + 4"
    raise ValueError(f"expected one of {[name for name, _ in LEVELS]}, got {level!r}")


def isa_rates(info: CpuInfo) -> list[tuple[str, int, str]]:
    """(instruction set, FP32 FLOP per cycle and core, why) for each set the flags
    show, widest first; empty for a CPU without x86 vector flags (e.g. ARM)."""
    return [(level, *rate_for(info, level))
            for level, needed in LEVELS if needed <= info.flags]


def physical_cores(info: CpuInfo, allowed=None) -> int:
    """Cores whose FMA units this process may use; SMT siblings share a core."""
    if allowed is None:
        allowed = os.sched_getaffinity(0)
    cores = {info.processors[cpu] for cpu in allowed if cpu in info.processors}
    return len(cores) or len(allowed)


def max_megahertz(path: Path = MAX_FREQ) -> float | None:
    """The maximum clock cpufreq reports (lscpu's 'CPU max MHz'), or None."""
    try:
        return int(path.read_text().strip()) / 1000  # The file holds kHz.
    except (OSError, ValueError):
        return None


def estimate_peak(cpuinfo_text: str, *, max_mhz=None, clock_mhz=None,
                  allowed=None) -> tuple[Peak | None, str]:
    """Estimate the FP32 peak from a /proc/cpuinfo text: (Peak, '') or (None, why).

    clock_mhz, when given, is a clock the user measured or knows; otherwise the
    maximum clock (max_mhz) is used when known, else cpuinfo's "cpu MHz".
    """
    info = parse_cpuinfo(cpuinfo_text)
    rates = isa_rates(info)
    if not rates:
        return None, "unknown (no x86 vector flags in /proc/cpuinfo)"
    per_cycle = max(rate for _, rate, _ in rates)
    if clock_mhz:
        megahertz, source = clock_mhz, "as given (--clock-mhz)"
    elif max_mhz:
        megahertz, source = max_mhz, (
            "the maximum (boost) clock from cpufreq, lscpu's 'CPU max MHz': the "
            "highest the cores may run, so the peak is an upper bound and the "
            "fraction of it a lower bound")
    elif info.megahertz:
        megahertz, source = info.megahertz, (
            "'cpu MHz' of /proc/cpuinfo, as no maximum clock is reported (usual "
            "in a virtual machine, where it is the nominal clock): cores that "
            "boost above it make the peak higher and the fraction lower")
    else:
        return None, "unknown (no clock in /proc/cpuinfo)"
    cores = physical_cores(info, allowed)
    peak = Peak(cores * megahertz * 1e6 * per_cycle, cores, megahertz, source,
                per_cycle, tuple(rates))
    return peak, ""


def machine_peak(clock_mhz=None) -> tuple[Peak | None, str]:
    """estimate_peak() for this machine."""
    try:
        text = CPUINFO.read_text()
    except OSError:
        return None, "unknown (no /proc/cpuinfo)"
    return estimate_peak(text, max_mhz=max_megahertz(), clock_mhz=clock_mhz)


def dense_training_flops(shapes) -> float:
    """FLOPs to train one sample through a chain of dense layers (in, out).

    Forward: 2*in*out per layer. Backward: 2*in*out for the kernel's gradient,
    and 2*in*out for the gradient of the layer's input, except for the first
    layer, whose input (the data) needs none. Biases, activations, the loss and
    the optimizer are left out: they cost O(units), not O(in*out).
    """
    shapes = list(shapes)
    if not shapes:
        raise ValueError("expected at least one (in, out) pair of a dense layer")
    products = [2 * fan_in * fan_out for fan_in, fan_out in shapes]
    return 3 * sum(products) - products[0]
