"""Unit tests of chapter 5's building blocks: the sparsity penalties."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
from ae_blocks import KLSparsity, L1Sparsity, kl_divergence


def numpy_kl(target, activations, epsilon=1e-7):
    """Sum over units of KL(Bernoulli(target) || Bernoulli(batch mean))."""
    mean = np.clip(np.mean(activations, axis=0), epsilon, 1 - epsilon)
    return np.sum(target * np.log(target / mean)
                  + (1 - target) * np.log((1 - target) / (1 - mean)))


def penalty_of(layer, activations):
    """Call a penalty layer; return (its output, the loss it added)."""
    outputs = layer(keras.ops.convert_to_tensor(activations))
    assert len(layer.losses) == 1
    return (keras.ops.convert_to_numpy(outputs),
            float(keras.ops.convert_to_numpy(layer.losses[0])))


def test_kl_penalty_matches_numpy():
    rng = np.random.default_rng(0)
    activations = rng.uniform(0.0, 0.6, size=(64, 8)).astype("float32")
    layer = KLSparsity(target=0.1, weight=0.2)
    outputs, loss = penalty_of(layer, activations)
    np.testing.assert_array_equal(outputs, activations)
    assert loss == pytest.approx(0.2 * numpy_kl(0.1, activations), rel=1e-5)


def test_kl_penalty_is_zero_on_target():
    activations = np.zeros((10, 5), dtype="float32")
    activations[0] = 1.0  # every unit active on one example in ten
    _, loss = penalty_of(KLSparsity(target=0.1, weight=0.2), activations)
    assert loss == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("value", [0.0, 1.0])
def test_kl_penalty_is_finite_at_activations_of_exactly_0_and_1(value):
    activations = np.full((16, 4), value, dtype="float32")
    _, loss = penalty_of(KLSparsity(target=0.1, weight=0.2), activations)
    assert math.isfinite(loss) and loss > 0
    assert loss == pytest.approx(0.2 * numpy_kl(0.1, activations), rel=1e-4)


def test_kl_divergence_function_at_the_edges():
    values = keras.ops.convert_to_numpy(kl_divergence(
        0.1, keras.ops.convert_to_tensor(np.array([0.0, 0.1, 1.0], "float32"))))
    assert np.all(np.isfinite(values))
    assert values[1] == pytest.approx(0.0, abs=1e-6)
    assert values[0] > 1 and values[2] > 1


def test_kl_gradient_is_finite_at_0_and_1():
    import tensorflow as tf

    activations = tf.Variable(np.array([[0.0, 1.0], [0.0, 1.0]], "float32"))
    layer = KLSparsity(target=0.1, weight=0.2)
    with tf.GradientTape() as tape:
        layer(activations)
        loss = layer.losses[0]
    assert np.all(np.isfinite(tape.gradient(loss, activations).numpy()))


@pytest.mark.parametrize("arguments", [dict(target=0.0), dict(target=1.0),
                                       dict(target=-0.1), dict(weight=-1.0)])
def test_kl_penalty_rejects_bad_arguments(arguments):
    with pytest.raises(ValueError, match="target|weight"):
        KLSparsity(**arguments)


def test_kl_penalty_get_config_round_trip():
    layer = KLSparsity(target=0.05, weight=0.3, name="kl")
    config = layer.get_config()
    assert config["target"] == 0.05 and config["weight"] == 0.3
    clone = KLSparsity.from_config(config)
    assert (clone.target, clone.weight, clone.name) == (0.05, 0.3, "kl")
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(layer))
    assert type(restored) is KLSparsity
    assert (restored.target, restored.weight) == (0.05, 0.3)


def test_model_with_kl_penalty_saves_and_loads(tmp_path):
    inputs = keras.Input(shape=(6,))
    codings = keras.layers.Dense(4, activation="sigmoid")(inputs)
    codings = KLSparsity(target=0.1, weight=0.2, name="kl")(codings)
    model = keras.Model(inputs, keras.layers.Dense(6, activation="sigmoid")(codings))
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x = np.random.default_rng(1).uniform(size=(32, 6)).astype("float32")
    model.fit(x, x, epochs=1, verbose=0)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert loaded.get_layer("kl").get_config()["target"] == 0.1
    assert loaded.evaluate(x, x, verbose=0) == pytest.approx(
        model.evaluate(x, x, verbose=0), rel=1e-6)


def test_l1_penalty_matches_numpy_and_round_trips():
    rng = np.random.default_rng(2)
    activations = rng.uniform(size=(20, 7)).astype("float32")
    layer = L1Sparsity(weight=0.01, name="l1")
    outputs, loss = penalty_of(layer, activations)
    np.testing.assert_array_equal(outputs, activations)
    assert loss == pytest.approx(0.01 * np.abs(activations).sum(axis=1).mean(),
                                 rel=1e-5)
    clone = L1Sparsity.from_config(layer.get_config())
    assert (clone.weight, clone.name) == (0.01, "l1")
    with pytest.raises(ValueError, match="weight"):
        L1Sparsity(weight=-0.1)
