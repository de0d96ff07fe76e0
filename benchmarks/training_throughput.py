"""Training throughput of the chapter-2 autoencoder, trained three ways.

Trains the Fashion-MNIST autoencoder of chapter 2 (ae_blocks.Autoencoder:
encoder 784-256-128-64-20 with ReLU and linear codings, decoder 64-128-256-784
giving logits, sigmoid cross-entropy, Adam 1e-3, batches of 512) on the same
data, in one process:

  (a) eager: a tf.data pipeline of batches, a GradientTape and apply_gradients
      in a Python loop, without tf.function (the source material's loop);
  (b) fit on arrays: `model.fit(x, x, batch_size=512)` with Keras' defaults;
  (c) fit on a pipeline: `model.fit` on the tf.data pipeline that chapter 2
      writes out (from_tensor_slices, shuffle, batch; no prefetch), with the
      model compiled with `steps_per_execution=32`, as the chapters train.

Every variant is warmed up first (one epoch, excluded), then timed in rounds
that interleave the variants, so that other jobs on the machine slow them
alike. It prints the median samples per second of each, the median of the
per-round ratios (c)/(a) and (c)/(b) (figures, not budgets), and the budget:
the fraction of the device's peak FP32 FLOP/s that (c) reaches, at least 50 %.
On a CPU the peak is estimated from /proc/cpuinfo (cpu_peak.py), justified in
the output, and checked against the rate of a large matrix product. Timings
never fail anything: the budget is printed as met or not met, for people to
read.

    python benchmarks/training_throughput.py                 # full size
    python benchmarks/training_throughput.py --num-train 10240 --epochs 1
    python benchmarks/training_throughput.py --clock-mhz 3600  # a known clock
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "notebooks"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cpu_peak  # noqa: E402
import helpers  # noqa: E402
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from ae_blocks import Autoencoder  # noqa: E402

BATCH_SIZE = 512
LEARNING_RATE = 1e-3
# The budget (see benchmarks/README.md): the chapters' way of training, (c),
# reaches at least this fraction of the device's peak FP32 FLOP/s.
MIN_FRACTION_OF_PEAK = 0.5
# The side of the square matrices whose product measures what TensorFlow's
# matmul reaches here: a floor for the peak.
MATMUL_SIZE = 2048
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
    quick = helpers.is_quick()  # AE_BOOK_QUICK=1 make bench: a smaller run
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
    parser.add_argument(
        "--clock-mhz", type=float,
        help="the CPU cores' clock under load, if known (default: from lscpu's "
             "max MHz, else /proc/cpuinfo)")
    args = parser.parse_args(argv)
    for name in ("num_train", "epochs", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer")
    if args.clock_mhz is not None and args.clock_mhz <= 0:
        parser.error("--clock-mhz must be a positive number of MHz")
    if args.num_train < BATCH_SIZE:
        parser.error(f"--num-train must be at least one batch ({BATCH_SIZE})")
    return args


def build_autoencoder() -> keras.Model:
    """Chapter 2's autoencoder, built (its weights created) on one batch."""
    model = Autoencoder(latent_dim=20)
    model(tf.zeros((1, 784)))
    return model


def compiled_autoencoder(steps_per_execution: int = 1) -> keras.Model:
    model = build_autoencoder()
    model.compile(
        optimizer=keras.optimizers.Adam(LEARNING_RATE),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        steps_per_execution=steps_per_execution,
    )
    return model


def training_flops_per_sample(model: keras.Model) -> float:
    """Dense FLOPs to train on one image (cpu_peak.dense_training_flops)."""
    # The dense layers' kernels are the model's 2-D weights, in order.
    return cpu_peak.dense_training_flops(
        tuple(weight.shape) for weight in model.trainable_weights
        if len(weight.shape) == 2)


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
    """(b) model.fit on the NumPy arrays, with Keras' defaults."""
    model = compiled_autoencoder()

    def run(num_epochs):
        model.fit(x, x, epochs=num_epochs, batch_size=BATCH_SIZE, verbose=0)

    return model, run


def pipeline_variant(x):
    """(c) model.fit on chapter 2's tf.data pipeline, as the chapters train."""
    model = compiled_autoencoder(steps_per_execution=32)
    dataset = (
        tf.data.Dataset.from_tensor_slices((x, x))
        .shuffle(len(x))
        .batch(BATCH_SIZE)
    )

    def run(num_epochs):
        model.fit(dataset, epochs=num_epochs, verbose=0)

    return model, run


def matmul_rate(size: int = MATMUL_SIZE, seconds: float = 1.0) -> float:
    """FLOP/s of TensorFlow's float32 product of two size x size matrices."""
    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))
    product = tf.function(tf.linalg.matmul)
    product(a, b).numpy()  # Traces, and warms the caches and threads up.
    best, calls = 0.0, 1
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        for _ in range(calls):
            result = product(a, b)
        result.numpy()
        elapsed = time.perf_counter() - start
        best = max(best, calls * 2 * size**3 / elapsed)
        calls = max(1, int(calls * 0.2 / elapsed + 0.5))
    return best


def device_peak_flops(device: str, clock_mhz=None):
    """(peak FLOP/s or None, lines that justify it)."""
    if device.startswith("CPU"):
        peak, why = cpu_peak.machine_peak(clock_mhz)
        return (peak.flops, peak.justification()) if peak else (None, why)
    for name, (peak, note) in GPU_PEAKS.items():
        if re.search(rf"\b{name}\b", device):
            return peak, f"data sheet, {note}"
    return None, "unknown for this GPU"


def peak_for_budget(device: str, clock_mhz=None):
    """(the peak FLOP/s that the budget uses, or None; the lines that justify it).

    On a CPU the estimate from /proc/cpuinfo is checked against the rate of a
    large matmul: a peak cannot be below what a matmul reaches.
    """
    peak, source = device_peak_flops(device, clock_mhz)
    if peak is None:
        return None, f"Peak: {source}; the budget cannot be judged here."
    lines = [f"Peak estimate: {source}"]
    if device.startswith("CPU"):
        measured = matmul_rate()
        lines.append(f"A {MATMUL_SIZE}x{MATMUL_SIZE} float32 matmul reaches "
                     f"{measured / 1e9:,.1f} GFLOP/s, {measured / peak:.0%} of the "
                     "estimate")
        if measured > peak:
            # The cores run faster than the clock above (or do more per cycle).
            lines.append(
                "  the estimate is too low: the budget uses the matmul's rate as the "
                "peak, a floor of the true peak, so the fraction below is an upper "
                "bound; --clock-mhz with the cores' clock under load gives a firmer "
                "one")
            peak = measured
    return peak, "\n".join(lines)


def budget_line(met: bool, text: str) -> str:
    return f"{'MET    ' if met else 'NOT MET'}  {text}"


def main(argv=None) -> int:
    args = parse_args(argv)
    helpers.setup(seed=42)
    device = helpers.device_name()
    (x_train, _), _ = helpers.load_fashion_mnist(num_train=args.num_train,
                                                 num_test=1)
    print(f"Data: {len(x_train)} Fashion-MNIST training images, batch {BATCH_SIZE}; "
          f"{args.epochs} timed epoch(s) per variant and round, {args.repeats} "
          "rounds, variants interleaved; one warm-up epoch each, excluded.")

    variants = {
        "(a) eager GradientTape loop": eager_variant(x_train),
        "(b) model.fit on arrays": fit_variant(x_train),
        "(c) model.fit on the pipeline": pipeline_variant(x_train),
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
    print("Ratios (figures, not budgets: they differ from one CPU to another):")
    print(f"ratio (c)/(a): {statistics.median(ratio_eager):.2f} "
          f"(rounds: {min(ratio_eager):.2f} to {max(ratio_eager):.2f})")
    print(f"ratio (c)/(b): {statistics.median(ratio_fit):.2f} "
          f"(rounds: {min(ratio_fit):.2f} to {max(ratio_fit):.2f})")

    flops = training_flops_per_sample(variants[names[2]][0])
    achieved = medians[names[2]] * flops
    print(f"(c) achieves {achieved / 1e9:,.1f} GFLOP/s ({flops / 1e6:.3f} MFLOP per "
          "image: dense layers, forward 2*in*out, backward twice that except the "
          "first layer's input gradient)")
    budget_peak, justification = peak_for_budget(device, args.clock_mhz)
    print(justification)
    if budget_peak is None:
        return 0
    fraction = achieved / budget_peak
    print(budget_line(fraction >= MIN_FRACTION_OF_PEAK,
                      f"(c) fit on the pipeline reaches {fraction:.1%} of the peak "
                      f"(budget: at least {MIN_FRACTION_OF_PEAK:.0%})"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
