"""Unit tests of chapter 3's DenseTranspose layer, as ae_blocks collects it."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from ae_blocks import DenseTranspose
from keras import layers


def tied_pair(num_inputs=7, units=5, activation=None):
    """A model x -> Dense -> DenseTranspose(tied to that Dense) -> x_hat."""
    inputs = keras.Input(shape=(num_inputs,))
    dense = layers.Dense(units, activation="tanh", name="encoder")
    tied = DenseTranspose(dense, activation=activation, name="decoder")
    model = keras.Model(inputs, tied(dense(inputs)))
    return model, dense, tied


def test_outputs_match_numpy():
    keras.utils.set_random_seed(0)
    model, dense, tied = tied_pair(activation="sigmoid")
    tied.bias.assign(np.linspace(-1, 1, 7).astype("float32"))
    x = np.random.default_rng(0).normal(size=(4, 7)).astype("float32")
    kernel, bias = dense.kernel.numpy(), dense.bias.numpy()
    codings = np.tanh(x @ kernel + bias)
    expected = 1 / (1 + np.exp(-(codings @ kernel.T + tied.bias.numpy())))
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert tied.compute_output_shape((None, 5)) == (None, 7)


def test_the_layer_owns_only_its_bias():
    model, dense, tied = tied_pair()
    assert tied.trainable_weights == [tied.bias]
    assert tied.weights == [tied.bias] and tied.count_params() == 7
    # The model holds the shared kernel once: 7*5 + 5 (encoder) + 7 (decoder).
    assert model.count_params() == 7 * 5 + 5 + 7
    assert len(model.trainable_variables) == 3


def test_a_training_step_moves_the_kernel_and_its_transpose_together():
    keras.utils.set_random_seed(1)
    model, dense, tied = tied_pair()
    x = np.random.default_rng(1).uniform(size=(16, 7)).astype("float32")
    before = dense.kernel.numpy().copy()
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    model.train_on_batch(x, x)
    after = dense.kernel.numpy()
    assert not np.allclose(before, after), "the kernel did not change"
    # The decoder reads the updated kernel: its output is the NumPy computation
    # with the new kernel, and its view of the kernel is the same variable.
    assert tied.tied_to.kernel is dense.kernel
    codings = np.tanh(x @ after + dense.bias.numpy())
    np.testing.assert_allclose(tied(codings).numpy(),
                               codings @ after.T + tied.bias.numpy(),
                               rtol=1e-5, atol=1e-6)


def test_the_kernel_gets_the_gradient_of_both_of_its_uses():
    keras.utils.set_random_seed(2)
    model, dense, tied = tied_pair()
    # The same network with an untied decoder whose kernel equals W^T.
    inputs = keras.Input(shape=(7,))
    untied_encoder = layers.Dense(5, activation="tanh")
    untied_decoder = layers.Dense(7)
    untied = keras.Model(inputs, untied_decoder(untied_encoder(inputs)))
    untied_encoder.set_weights(dense.get_weights())
    untied_decoder.set_weights([dense.kernel.numpy().T, tied.bias.numpy()])
    x = np.random.default_rng(2).uniform(size=(8, 7)).astype("float32")

    def gradient(net, variables):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(net(x) - x))
        return [g.numpy() for g in tape.gradient(loss, variables)]

    (tied_gradient,) = gradient(model, [dense.kernel])
    encoder_part, decoder_part = gradient(
        untied, [untied_encoder.kernel, untied_decoder.kernel])
    np.testing.assert_allclose(tied_gradient, encoder_part + decoder_part.T,
                               rtol=1e-4, atol=1e-7)


def test_rejects_a_layer_that_is_not_dense():
    with pytest.raises(ValueError, match="must be tied to a keras.layers.Dense"):
        DenseTranspose(layers.Conv1D(4, 3))
    with pytest.raises(ValueError, match="got ndarray"):
        DenseTranspose(np.zeros((3, 4)))


def test_rejects_a_dense_layer_that_is_not_built():
    tied = DenseTranspose(layers.Dense(3, name="not_built"))
    with pytest.raises(ValueError, match="'not_built' must be built"):
        tied(np.zeros((2, 3), dtype="float32"))


def test_rejects_inputs_of_the_wrong_width():
    dense = layers.Dense(5)
    dense.build((None, 7))
    with pytest.raises(ValueError, match="expects inputs with 5 features"):
        DenseTranspose(dense)(np.zeros((2, 4), dtype="float32"))


def test_save_and_load_keep_the_tie(tmp_path):
    keras.utils.set_random_seed(3)
    model, _, _ = tied_pair(activation="relu")
    x = np.random.default_rng(3).uniform(size=(5, 7)).astype("float32")
    path = tmp_path / "tied.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    assert loaded.get_layer("decoder").tied_to is loaded.get_layer("encoder")
    assert len(loaded.trainable_variables) == 3
    # Training the loaded model still moves the decoder's view of the kernel.
    loaded.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    loaded.train_on_batch(x, x)
    assert loaded.get_layer("decoder").tied_to.kernel is (
        loaded.get_layer("encoder").kernel)
    assert not np.allclose(loaded(x).numpy(), model(x).numpy())
