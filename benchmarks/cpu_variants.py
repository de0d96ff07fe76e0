"""Ways to train the chapter-2 autoencoder on a CPU: speed and reproducibility.

Each variant runs in a process of its own, because TensorFlow's op determinism
must be switched on before the first op runs and cannot be switched off again.
A variant trains the chapter-2 autoencoder (see training_throughput.py) with
batches of 512: one warm-up epoch (tracing and compiling), then timed epochs,
of which the median counts. Variants:

  helpers      helpers.train as the chapters call it;
  helpers-xla  model.compile(..., jit_compile=True, steps_per_execution=32),
               then helpers.train (which keeps a model's own steps per call);
  fit-xla      model.fit on the arrays, compiled with jit_compile=True and
               steps_per_execution=32;
  fit          the same without XLA (jit_compile=False).

Each runs with and without tf.config.experimental.enable_op_determinism(); the
table shows the jit_compile that the compiled model reports, since Keras turns
XLA off when op determinism is on. Before them, a ceiling: the rate of the
training step's matrix products alone, without anything else. After them, the
reproducibility check: the XLA paths train 3 epochs twice, in two processes,
from the same seed, without op determinism, and the per-epoch losses and final
weights are compared bit for bit, also for models with Dropout and with
GaussianNoise on the input.

    python benchmarks/cpu_variants.py                 # everything, about 8 minutes
    python benchmarks/cpu_variants.py --parts products variants
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 42
VARIANTS = ("helpers", "helpers-xla", "fit-xla", "fit")
MODELS = ("plain", "dropout", "noise")
PARTS = ("products", "variants", "reproducibility")
# (variant, model) pairs whose two runs are compared, all without determinism.
REPRODUCIBILITY = (("helpers-xla", "plain"), ("helpers-xla", "dropout"),
                   ("helpers-xla", "noise"), ("fit-xla", "plain"),
                   ("fit-xla", "dropout"))


def run_variant(args) -> dict:
    """Train one variant in this process and return what it measured."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    if args.determinism:
        tf.config.experimental.enable_op_determinism()
    sys.path.insert(0, str(HERE))
    import training_throughput as bench  # Imports helpers, Keras and TensorFlow.
    import helpers
    import keras
    from keras import layers

    keras.utils.set_random_seed(SEED)
    (x_train, _), _ = helpers.load_fashion_mnist(num_train=args.num_train)
    model = bench.build_autoencoder()
    if args.model != "plain":
        # The same layers behind a random corruption of the input.
        corrupt = (layers.Dropout(0.2) if args.model == "dropout"
                   else layers.GaussianNoise(0.2))
        inputs = keras.Input(shape=(784,))
        model = keras.Model(inputs, model(corrupt(inputs)))
    xla = args.variant.endswith("-xla")
    options = {} if args.variant == "helpers" else {
        "jit_compile": xla, "steps_per_execution": 32}
    model.compile(optimizer=keras.optimizers.Adam(bench.LEARNING_RATE),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True), **options)

    epoch_seconds = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epoch_seconds.append(time.perf_counter() - self.start)

    epochs = args.epochs + (0 if args.dump else 1)  # A warm-up epoch when timing.
    if args.variant.startswith("helpers"):
        with contextlib.redirect_stdout(io.StringIO()):
            history = helpers.train(model, x_train, x_train, num_epochs=epochs,
                                    batch_size=bench.BATCH_SIZE,
                                    callbacks=[EpochTimer()])
    else:
        history = model.fit(x_train, x_train, epochs=epochs,
                            batch_size=bench.BATCH_SIZE, verbose=0,
                            callbacks=[EpochTimer()])
    weights = model.get_weights()
    result = {
        "variant": args.variant, "model": args.model,
        "determinism": args.determinism, "jit_compile": bool(model.jit_compile),
        "steps_per_execution": model.steps_per_execution,
        "rates": [len(x_train) / s for s in epoch_seconds[1:]],
        "losses": [float(v).hex() for v in history.history["loss"]],
        "weights_sha256": hashlib.sha256(
            b"".join(w.tobytes() for w in weights)).hexdigest(),
    }
    if args.dump:
        import numpy as np

        np.savez(args.dump, *weights)
    return result


def products_rate(jit_compile: bool, seconds: float = 2.0) -> float:
    """Images/s of the chapter-2 training step's matrix products alone.

    Per batch of 512: the 8 forward products, the 8 kernel gradients and the 7
    input gradients (none for the first layer), as in dense_training_flops.
    """
    import tensorflow as tf

    units = (784, 256, 128, 64, 20, 64, 128, 256, 784)
    kernels = [tf.random.normal((a, b), stddev=0.05)
               for a, b in zip(units[:-1], units[1:])]
    batch = tf.random.uniform((512, 784))

    @tf.function(jit_compile=jit_compile)
    def products(inputs):
        activations = [inputs]
        for kernel in kernels:
            activations.append(activations[-1] @ kernel)
        gradient, sums = activations[-1], []
        for index in reversed(range(len(kernels))):
            sums.append(tf.reduce_sum(
                tf.linalg.matmul(activations[index], gradient, transpose_a=True)))
            if index:
                gradient = tf.linalg.matmul(gradient, kernels[index],
                                            transpose_b=True)
        return tf.add_n(sums)

    products(batch).numpy()
    best, deadline = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        for _ in range(50):
            result = products(batch)
        result.numpy()
        best = max(best, 50 * 512 / (time.perf_counter() - start))
    return best


def child(variant, *, determinism=False, model="plain", epochs=3, num_train=60000,
          dump=None) -> dict:
    command = [sys.executable, __file__, "--run", variant, "--model", model,
               "--epochs", str(epochs), "--num-train", str(num_train)]
    if determinism:
        command.append("--determinism")
    if dump:
        command += ["--dump", str(dump)]
    done = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def compare(first_dump, second_dump) -> float:
    """The largest absolute difference between the weights of two runs."""
    import numpy as np

    with np.load(first_dump) as first, np.load(second_dump) as second:
        return max(float(np.max(np.abs(first[key] - second[key])))
                   for key in first.files)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--model", choices=MODELS, default="plain",
                        help=argparse.SUPPRESS)
    parser.add_argument("--determinism", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dump", help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, default=3,
                        help="timed epochs per variant (default: 3)")
    parser.add_argument("--num-train", type=int, default=60000,
                        help="training images (default: 60000)")
    parser.add_argument("--clock-mhz", type=float,
                        help="the cores' clock, if known, for the peak estimate")
    parser.add_argument("--parts", nargs="+", default=PARTS, choices=PARTS,
                        help="what to run (default: all)")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.num_train < 512:
        parser.error("--epochs must be positive and --num-train at least 512")
    if args.run:
        args.variant = args.run
        print("RESULT " + json.dumps(run_variant(args)), flush=True)
        return 0

    sys.path.insert(0, str(HERE))
    import training_throughput as bench

    flops = bench.training_flops_per_sample(bench.build_autoencoder())
    peak, justification = bench.peak_for_budget("CPU", args.clock_mhz)
    print(justification)
    print(f"{flops / 1e6:.3f} MFLOP per image.")
    if "products" in args.parts:
        for jit_compile in (False, True):
            rate = products_rate(jit_compile)
            share = f"{rate * flops / peak:.1%}" if peak else "?"
            print(f"The step's matrix products alone, jit_compile={jit_compile}: "
                  f"{rate:,.0f} img/s, {rate * flops / 1e9:.1f} GFLOP/s, {share} of "
                  "the peak", flush=True)
    if "variants" not in args.parts:
        return reproducibility(args) if "reproducibility" in args.parts else 0
    print(f"\n{args.num_train} images, batch 512, median of {args.epochs} epochs "
          "after a warm-up, one process each.")
    print(f"{'variant':12s} {'determinism':>11s} {'jit':>5s} {'img/s':>8s} "
          f"{'min':>8s} {'max':>8s} {'of peak':>8s}")
    for variant in VARIANTS:
        for determinism in (True, False):
            result = child(variant, determinism=determinism, epochs=args.epochs,
                           num_train=args.num_train)
            rate = statistics.median(result["rates"])
            share = f"{rate * flops / peak:.1%}" if peak else "?"
            print(f"{variant:12s} {'on' if determinism else 'off':>11s} "
                  f"{str(result['jit_compile']):>5s} {rate:8,.0f} "
                  f"{min(result['rates']):8,.0f} {max(result['rates']):8,.0f} "
                  f"{share:>8s}", flush=True)
    return reproducibility(args) if "reproducibility" in args.parts else 0


def reproducibility(args) -> int:
    print("\nTwo runs of 3 epochs from the same seed, without op determinism:")
    with tempfile.TemporaryDirectory() as folder:
        for variant, model in REPRODUCIBILITY:
            runs = [child(variant, model=model, num_train=args.num_train,
                          dump=Path(folder, f"{variant}-{model}-{i}.npz"))
                    for i in range(2)]
            same_losses = runs[0]["losses"] == runs[1]["losses"]
            same_weights = runs[0]["weights_sha256"] == runs[1]["weights_sha256"]
            difference = compare(*(Path(folder, f"{variant}-{model}-{i}.npz")
                                   for i in range(2)))
            losses = ", ".join(f"{float.fromhex(v):.6f}" for v in runs[0]["losses"])
            print(f"  {variant} {model} (jit_compile={runs[0]['jit_compile']}): "
                  f"losses {'identical' if same_losses else 'differ'} ({losses}); "
                  f"weights {'identical' if same_weights else 'differ'} "
                  f"(largest difference {difference:.3g})", flush=True)
            if not same_losses:
                print("    second run's losses: " + ", ".join(
                    f"{float.fromhex(v):.6f}" for v in runs[1]["losses"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
