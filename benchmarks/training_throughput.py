"""Training throughput of the chapter-2 autoencoder, trained three ways.

Trains the Fashion-MNIST autoencoder of chapter 2 (encoder 784-256-128-64-20
with ReLU and linear codings, decoder 64-128-256-784 giving logits, sigmoid
cross-entropy, Adam 1e-3, batches of 512) on the same data, in one process:

  (a) eager: a tf.data pipeline of batches, a GradientTape and apply_gradients
      in a Python loop, without tf.function (the source material's loop);
  (b) fit: plain `model.fit` with Keras' defaults and verbose=0;
  (c) helpers: the course's training path, `helpers.train`.

Every variant is warmed up first (one epoch, excluded), then timed in rounds
that interleave the variants, so that other jobs on the machine slow them
alike. It prints the median samples per second of each, the median of the
per-round ratios (c)/(a) and (c)/(b), the achieved FLOP/s of (c) against the
device's peak where it is known, and whether the CPU budgets are met. Timings
never fail anything: the PASS/FAIL lines are for people to read.

    python benchmarks/training_throughput.py                 # full size
    python benchmarks/training_throughput.py --num-train 10240 --epochs 1
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "notebooks"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import helpers  # noqa: E402
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

BATCH_SIZE = 512
LEARNING_RATE = 1e-3
# Budgets of the course on 2 CPU cores (see benchmarks/README.md).
MIN_RATIO_EAGER = 6.0
MIN_RATIO_FIT = 1.3
# Dense peaks in FLOP/s from the vendors' data sheets (without sparsity). On
# Ampere and newer, TensorFlow runs float32 matmuls as TF32 on tensor cores by
# default, so the TF32 peak is the relevant one there.
GPU_PEAKS = {
    "H100": (495e12, "TF32 tensor cores, SXM; PCIe 378e12"),
    "A100": (156e12, "TF32 tensor cores"),
    "L4": (60e12, "TF32 tensor cores"),
    "T4": (8.1e12, "FP32; Turing has no TF32"),
    "V100": (15.7e12, "FP32, SXM2; Volta has no TF32"),
    "P100": (9.3e12, "FP32, PCIe"),
}


def parse_args(argv=None):
    quick = helpers.is_quick()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--num-train", type=int, default=10240 if quick else 60000,
        help="training images (default: 60000, or 10240 with AE_BOOK_QUICK=1)")
    parser.add_argument(
        "--epochs", type=int, default=1,
        help="timed epochs per variant and round (default: 1)")
    parser.add_argument(
        "--repeats", type=int, default=3 if quick else 5,
        help="rounds of the interleaved variants (default: 5, quick 3)")
    args = parser.parse_args(argv)
    for name in ("num_train", "epochs", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer")
    if args.num_train < BATCH_SIZE:
        parser.error(f"--num-train must be at least one batch ({BATCH_SIZE})")
    return args


def build_autoencoder() -> keras.Model:
    """The chapter-2 autoencoder: 784-256-128-64-20-64-128-256-784 logits."""
    inputs = keras.Input(shape=(784,))
    hidden = inputs
    for units in (256, 128, 64):
        hidden = layers.Dense(units, activation="relu")(hidden)
    codings = layers.Dense(20)(hidden)
    hidden = codings
    for units in (64, 128, 256):
        hidden = layers.Dense(units, activation="relu")(hidden)
    logits = layers.Dense(784)(hidden)
    return keras.Model(inputs, logits)


def compiled_autoencoder() -> keras.Model:
    model = build_autoencoder()
    model.compile(
        optimizer=keras.optimizers.Adam(LEARNING_RATE),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    return model


def training_flops_per_sample(model: keras.Model) -> float:
    """Dense multiply-adds: 2*in*out FLOPs forward, about 3x that to train."""
    forward = sum(
        2 * layer.kernel.shape[0] * layer.kernel.shape[1]
        for layer in model.layers if isinstance(layer, layers.Dense)
    )
    return 3.0 * forward


def eager_variant(x):
    """(a) The source material's loop: tf.data batches, tape, apply_gradients."""
    model = build_autoencoder()
    optimizer = keras.optimizers.Adam(LEARNING_RATE)
    dataset = tf.data.Dataset.from_tensor_slices(x)
    dataset = dataset.shuffle(BATCH_SIZE * 5, seed=0).batch(BATCH_SIZE)

    def run(num_epochs):
        for _ in range(num_epochs):
            for batch in dataset:
                with tf.GradientTape() as tape:
                    logits = model(batch)
                    loss = tf.reduce_mean(
                        tf.nn.sigmoid_cross_entropy_with_logits(
                            labels=batch, logits=logits))
                grads = tape.gradient(loss, model.trainable_variables)
                optimizer.apply_gradients(zip(grads, model.trainable_variables))

    return model, run


def fit_variant(x):
    """(b) Plain model.fit with Keras' defaults."""
    model = compiled_autoencoder()

    def run(num_epochs):
        model.fit(x, x, epochs=num_epochs, batch_size=BATCH_SIZE, verbose=0)

    return model, run


def helpers_variant(x):
    """(c) The course's path: helpers.train (its progress bar is hidden here)."""
    model = compiled_autoencoder()

    def run(num_epochs):
        with contextlib.redirect_stdout(io.StringIO()):
            helpers.train(model, x, x, num_epochs=num_epochs, batch_size=BATCH_SIZE)

    return model, run


def cpu_peak_flops():
    """Estimate the FP32 peak from /proc/cpuinfo; (None, why) when unknown."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None, "unknown (no /proc/cpuinfo)"
    flags = set()
    megahertz = None
    for line in info.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags" and not flags:
            flags = set(value.split())
        if key.strip() == "cpu MHz" and megahertz is None:
            megahertz = float(value)
    if not megahertz:
        return None, "unknown (no clock in /proc/cpuinfo)"
    # FP32 FLOPs per cycle and core, assuming two FMA units per core
    # (true of Intel since Haswell and AMD since Zen 2; AVX-512 parts with
    # one FMA unit reach half of the figure below).
    if "avx512f" in flags:
        per_cycle, isa = 64, "AVX-512 FMA"
    elif {"avx2", "fma"} <= flags:
        per_cycle, isa = 32, "AVX2 FMA"
    elif "avx" in flags:
        per_cycle, isa = 16, "AVX"
    else:
        return None, "unknown (no AVX)"
    cores = len(os.sched_getaffinity(0))
    peak = cores * megahertz * 1e6 * per_cycle
    return peak, (
        f"estimated: {cores} cores x {megahertz / 1000:.2f} GHz (nominal; turbo "
        f"may be higher) x {per_cycle} FLOP/cycle ({isa}, two FMA units assumed)"
    )


def device_peak_flops(device: str):
    if device.startswith("CPU"):
        return cpu_peak_flops()
    for name, (peak, note) in GPU_PEAKS.items():
        if re.search(rf"\b{name}\b", device):
            return peak, f"data sheet, {note}"
    return None, "unknown for this GPU"


def budget_line(passed: bool, text: str) -> str:
    return f"{'PASS' if passed else 'FAIL'}  {text}"


def main(argv=None) -> int:
    args = parse_args(argv)
    helpers.setup(seed=42)
    device = helpers.device_name()
    (x_train, _), _ = helpers.load_fashion_mnist(num_train=args.num_train)
    print(f"Data: {len(x_train)} Fashion-MNIST training images, batch {BATCH_SIZE}; "
          f"{args.epochs} timed epoch(s) per variant and round, {args.repeats} "
          "rounds, variants interleaved; one warm-up epoch each, excluded.")

    variants = {
        "(a) eager GradientTape loop": eager_variant(x_train),
        "(b) model.fit, Keras defaults": fit_variant(x_train),
        "(c) helpers.train": helpers_variant(x_train),
    }
    names = list(variants)
    for name in names:
        variants[name][1](1)  # Warm-up: traces and compiles, not timed.
    for name in names[1:]:
        model = variants[name][0]
        print(f"  {name}: steps_per_execution={model.steps_per_execution}, "
              f"jit_compile={model.jit_compile}")

    samples = len(x_train) * args.epochs
    rates = {name: [] for name in names}
    for round_index in range(args.repeats):
        # Rotate the order each round so that no variant always goes first.
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            variants[name][1](args.epochs)
            rates[name].append(samples / (time.perf_counter() - start))
        print(f"  round {round_index + 1}/{args.repeats}: " + ", ".join(
            f"{name[:3]} {rates[name][-1]:,.0f}/s" for name in names), flush=True)

    eager, fit, ours = (rates[name] for name in names)
    medians = {name: statistics.median(values) for name, values in rates.items()}
    ratio_eager = [c / a for c, a in zip(ours, eager)]
    ratio_fit = [c / b for c, b in zip(ours, fit)]
    print(f"\nTraining throughput on {device} (median of {args.repeats} rounds)")
    print(f"{'variant':32s} {'samples/s':>10s} {'min':>9s} {'max':>9s}")
    for name in names:
        print(f"{name:32s} {medians[name]:10,.0f} {min(rates[name]):9,.0f} "
              f"{max(rates[name]):9,.0f}")
    print(f"ratio (c)/(a): {statistics.median(ratio_eager):.2f} "
          f"(rounds: {min(ratio_eager):.2f} to {max(ratio_eager):.2f})")
    print(f"ratio (c)/(b): {statistics.median(ratio_fit):.2f} "
          f"(rounds: {min(ratio_fit):.2f} to {max(ratio_fit):.2f})")

    flops = training_flops_per_sample(variants[names[2]][0])
    achieved = medians[names[2]] * flops
    peak, source = device_peak_flops(device)
    print(f"(c) achieves {achieved / 1e9:,.1f} GFLOP/s "
          f"({flops / 1e6:.2f} MFLOP per image: dense layers, 3 x 2*in*out)")
    if peak:
        print(f"    peak {peak / 1e9:,.0f} GFLOP/s ({source}): "
              f"{100 * achieved / peak:.1f}% of it")
    else:
        print(f"    peak: {source}")

    if device.startswith("CPU"):
        cores = len(os.sched_getaffinity(0))
        note = "" if cores == 2 else f" (budget set for 2 cores; this has {cores})"
        print(budget_line(statistics.median(ratio_eager) >= MIN_RATIO_EAGER,
                          f"(c)/(a) >= {MIN_RATIO_EAGER:g} on CPU{note}"))
        print(budget_line(statistics.median(ratio_fit) >= MIN_RATIO_FIT,
                          f"(c)/(b) >= {MIN_RATIO_FIT:g} on CPU{note}"))
    else:
        print("The throughput budgets are set for 2 CPU cores; none checked here.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
