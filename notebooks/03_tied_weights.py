# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,mystnb,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,mystnb
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Tied weights
#
# When an autoencoder is symmetric, its decoder can reuse the encoder's weight
# matrices, transposed, instead of learning its own. This *ties* the weights:
# the model has about half as many parameters and less room to overfit. This
# chapter writes a Keras layer that does it, checks that it survives saving and
# loading, and measures what tying does to the quality of the reconstructions.

# %% [markdown]
# ## Setup
#
# The first cell fetches the course's modules `helpers.py` and `ae_blocks.py`
# when the notebook runs on its own (in Colab, for example). The second imports
# everything the chapter uses, seeds every random number generator and prints
# the mode (full, or the short *quick* mode used for testing) and the device.

# %% tags=["hide-input"]
import os
import urllib.request

# The version of the course that this notebook belongs to.
COURSE_URL = (
    "https://raw.githubusercontent.com/ae-course/autoencoders-hands-on/"
    "main/notebooks/"
)
for module in ("helpers.py", "ae_blocks.py"):
    if not os.path.exists(module):
        try:
            urllib.request.urlretrieve(COURSE_URL + module, module)
        except OSError as error:
            raise RuntimeError(
                f"Could not download {module} ({error}). Connect to the internet, "
                "or copy helpers.py and ae_blocks.py from the course's notebooks/ "
                "folder next to this notebook."
            ) from None
# TensorFlow's C++ log lines would otherwise fill the cells' outputs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# %%
import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

import helpers
from ae_blocks import ShortProgress

helpers.setup(chapter=3)

# %% [markdown]
# ## The data
#
# Fashion-MNIST again, as in chapter 2: 28 x 28 grey-scale images of clothes,
# flattened into 784 pixel values in $[0, 1]$. The mean training image is the
# trivial reconstruction every model must beat.

# %%
(x_train, y_train), (x_test, y_test) = helpers.load_fashion_mnist(
    num_train=helpers.per_mode(full=60_000, quick=6_000),
    num_test=helpers.per_mode(full=10_000, quick=2_000),
)
mean_image_mse = float(np.mean((x_train.mean(axis=0) - x_test) ** 2))
print(f"test MSE of the mean image: {mean_image_mse:.4f}")

# %% [markdown]
# ## The stacked autoencoder and its tied version
#
# The model comes from chapter 15 of Aurélien Géron's *Hands-On Machine Learning
# with Scikit-Learn and TensorFlow* (see the references). It has two hidden
# layers on each side of the codings: 784 inputs, 300 units, 150 codings, 300
# units and 784 outputs, with ELU activations (none on the outputs) and the mean
# squared error as loss. As everywhere in this course, $x$ is a row vector (one
# image per row of a batch) and a layer multiplies it from the right by its
# kernel, of shape (inputs, units). Writing $W_i$ and $b_i$ for the kernel and
# the bias of layer
# $i$,
#
# $$
# \begin{aligned}
# h_1 &= \mathrm{elu}(x W_1 + b_1), & h_2 &= \mathrm{elu}(h_1 W_2 + b_2), \\
# h_3 &= \mathrm{elu}(h_2 W_3 + b_3), & \hat{x} &= h_3 W_4 + b_4 .
# \end{aligned}
# $$
#
# $W_1$ is $784 \times 300$ and $W_4$ is $300 \times 784$; $W_2$ is
# $300 \times 150$ and $W_3$ is $150 \times 300$. Tying the weights means setting
#
# $$
# W_3 = W_2^\top, \qquad W_4 = W_1^\top ,
# $$
#
# so that the decoder undoes the encoder with the same matrices, read backwards.
# Three things follow, which Géron points out:
#
# 1. $W_3$ and $W_4$ are not variables any more: they are computed from $W_2$
#    and $W_1$ whenever they are needed. Training changes $W_1$ and $W_2$ only,
#    and each of them receives gradient from both of the places it is used.
# 2. Regularising $W_3$ and $W_4$ would therefore be pointless (or would
#    penalise $W_1$ and $W_2$ twice). Only $W_1$ and $W_2$ carry the L2 penalty.
# 3. The biases are never tied, and never regularised. They could not be tied
#    anyway: $b_1$ has 300 entries, $b_4$ has 784.
#
# ## A layer whose kernel belongs to another layer
#
# Keras has no tied layer, so we write one. `DenseTranspose` takes the `Dense`
# layer it is tied to. It creates one weight of its own, the bias, and in `call`
# it multiplies by the transpose of the other layer's kernel. Two details make
# it behave well:
#
# - Keras tracks every layer stored as an attribute of a layer as a part of it.
#   The `Dense` layer belongs to the encoder, not to this layer, so we store the
#   reference without that tracking (`object.__setattr__`). Then this layer
#   owns exactly one weight, the bias, and a model summary counts the shared
#   kernel once, where it lives.
# - `get_config` stores the `Dense` layer with `keras.saving.serialize_keras_object`
#   and `from_config` restores it with `deserialize_keras_object`. When a whole
#   model is saved, Keras notices that this `Dense` layer appears twice, once in
#   the model and once here, and saves it once with a shared identifier; loading
#   the model then gives both places the *same* new layer, so the weights stay
#   tied.

# %% tags=["definition"]
@keras.saving.register_keras_serializable(package="ae_course")
class DenseTranspose(layers.Layer):
    """A dense layer whose kernel is the transpose of another Dense layer's."""

    def __init__(self, dense, activation=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(dense, layers.Dense):
            raise ValueError(
                "DenseTranspose must be tied to a keras.layers.Dense layer, "
                f"got {type(dense).__name__}"
            )
        # Keep the tied layer out of Keras' tracking: its kernel is not ours.
        object.__setattr__(self, "tied_to", dense)
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        if not self.tied_to.built:
            raise ValueError(
                f"the Dense layer '{self.tied_to.name}' must be built (called on "
                f"its inputs) before DenseTranspose '{self.name}' is used"
            )
        if input_shape[-1] != self.tied_to.units:
            raise ValueError(
                f"DenseTranspose '{self.name}' expects inputs with "
                f"{self.tied_to.units} features, the units of "
                f"'{self.tied_to.name}', got shape {tuple(input_shape)}"
            )
        # The output has as many features as the tied layer has inputs.
        self.bias = self.add_weight(
            name="bias", shape=(self.tied_to.kernel.shape[0],), initializer="zeros"
        )

    def call(self, inputs):
        outputs = ops.matmul(inputs, ops.transpose(self.tied_to.kernel))
        return self.activation(outputs + self.bias)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.tied_to.kernel.shape[0])

    def get_config(self):
        return {
            **super().get_config(),
            "dense": keras.saving.serialize_keras_object(self.tied_to),
            "activation": keras.activations.serialize(self.activation),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["dense"] = keras.saving.deserialize_keras_object(config["dense"])
        return cls(**config)


# %% [markdown]
# One function builds both models, so that everything but the tying is the same.
# The kernels start from He initialisation, which suits ELU, and carry an L2
# penalty. Géron's TensorFlow 1 regulariser computed
# $0.001 \cdot \frac{1}{2} \sum w^2$; Keras' `L2(c)` computes $c \sum w^2$, so
# the same penalty is `L2(0.0005)`. In the untied model every kernel is
# regularised, as in Géron's untied version; in the tied model that means $W_1$
# and $W_2$, the only kernels there are. Penalising only $W_1$ and $W_2$ in the
# untied model as well would not be a fair match: it could dodge the penalty by
# shrinking its encoder's weights and letting its free decoder scale the signal
# back up.

# %%
l2_penalty = keras.regularizers.L2(0.0005)


def build_stacked_autoencoder(tied, name):
    inputs = keras.Input(shape=(784,), name="pixels")
    hidden1 = layers.Dense(300, activation="elu", kernel_initializer="he_normal",
                           kernel_regularizer=l2_penalty, name="hidden1")
    hidden2 = layers.Dense(150, activation="elu", kernel_initializer="he_normal",
                           kernel_regularizer=l2_penalty, name="hidden2")
    codings = hidden2(hidden1(inputs))
    if tied:
        hidden3 = DenseTranspose(hidden2, activation="elu", name="hidden3")
        outputs_layer = DenseTranspose(hidden1, name="outputs")
    else:
        hidden3 = layers.Dense(300, activation="elu", kernel_initializer="he_normal",
                               kernel_regularizer=l2_penalty, name="hidden3")
        outputs_layer = layers.Dense(784, kernel_initializer="he_normal",
                                     kernel_regularizer=l2_penalty, name="outputs")
    outputs = outputs_layer(hidden3(codings))
    return keras.Model(inputs, outputs, name=name)


# %%
untied_model = build_stacked_autoencoder(tied=False, name="untied")
untied_model.summary()

# %%
tied_model = build_stacked_autoencoder(tied=True, name="tied")
tied_model.summary()

# %% [markdown]
# The tied model has 281,734<!-- tied/params:, --> parameters against
# 561,934<!-- tied/untied_params:, -->: the two tied layers
# own only their biases, 300 and 784 numbers. Its trainable variables are
# exactly the ones the three consequences above predict: two kernels and four
# biases. It also carries two L2 penalties, where the untied model carries four.

# %%
for variable in tied_model.trainable_variables:
    print(f"{variable.path:<16} {str(tuple(variable.shape)):>12}")
print("L2 penalties: tied", len(tied_model.losses), "| untied",
      len(untied_model.losses))
print(f"parameters: tied {tied_model.count_params():,} | untied "
      f"{untied_model.count_params():,} | ratio "
      f"{tied_model.count_params() / untied_model.count_params():.3f}")

# %% [markdown]
# ## Training both the same way
#
# Géron trains this model on MNIST with Adam, a learning rate of $10^{-2}$,
# batches of 150 and 5 epochs. We keep the batch size and the 5 epochs, on
# Fashion-MNIST, for both models, and lower the learning rate to Adam's default,
# $10^{-3}$, for every model of the chapter, exercise 4's included.
#
# Both models train with `fit` on chapter 2's `tf.data` pipeline: every image
# paired with itself as its target, reshuffled every epoch, in batches of 150.
# As in chapter 2, `steps_per_execution=32` lets `fit` run 32 of these small
# batches per call into TensorFlow, and chapter 1's `ShortProgress` prints a few
# lines per run and adds up the training time.

# %%
num_epochs = helpers.per_mode(full=5, quick=3)
batch_size = 150
train_dataset = (
    tf.data.Dataset.from_tensor_slices((x_train, x_train))
    .shuffle(len(x_train))
    .batch(batch_size)
)
for model in (untied_model, tied_model):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="mse",
                  steps_per_execution=32)
progress = ShortProgress()

# %%
untied_history = untied_model.fit(
    train_dataset, epochs=num_epochs, validation_data=(x_test, x_test),
    verbose=0, callbacks=[progress],
)

# %%
tied_history = tied_model.fit(
    train_dataset, epochs=num_epochs, validation_data=(x_test, x_test),
    verbose=0, callbacks=[progress],
)

# %% [markdown]
# The loss that `fit` reports includes the L2 penalties. To compare the
# reconstructions we measure the plain test MSE of each model, and print the
# penalty beside it.

# %%
untied_reconstructions = untied_model.predict(x_test, batch_size=2048, verbose=0)
tied_reconstructions = tied_model.predict(x_test, batch_size=2048, verbose=0)
untied_mse = float(np.mean((untied_reconstructions - x_test) ** 2))
tied_mse = float(np.mean((tied_reconstructions - x_test) ** 2))
for name, model, mse in (("untied", untied_model, untied_mse),
                         ("tied", tied_model, tied_mse)):
    penalty = float(sum(ops.convert_to_numpy(loss) for loss in model.losses))
    print(f"{name:>6}: test MSE {mse:.4f}, L2 penalty {penalty:.4f}")
mse_ratio = tied_mse / untied_mse
print(f"ratio tied / untied: {mse_ratio:.3f} (the mean image: {mean_image_mse:.4f})")

# %% mystnb={"image": {"alt": "Three rows of ten images: test images (top), the untied model's reconstructions (middle) and the tied model's (bottom). Both rows of reconstructions are blurred by the weight penalty; the tied model's, with half the parameters, are a little closer to the originals."}}
helpers.show_images(
    np.clip(np.concatenate([x_test[:10], untied_reconstructions[:10],
                            tied_reconstructions[:10]]), 0, 1),
    title="Test images (top), untied model (middle), tied model (bottom)",
)

# %% [markdown]
# With half the parameters, the tied model reconstructs the test images better
# than the untied one: a test MSE of 0.0237<!-- tied/test_mse:.4f --> against
# 0.0279<!-- tied/untied_test_mse:.4f -->, a ratio of
# 0.850<!-- tied/mse_ratio:.3f -->. The likely reason is the penalty. At this
# strength it is a large part of the loss (compare it with the MSE above), and
# it pulls every penalised weight towards zero, which blurs the
# reconstructions: the untied model pays it on four matrices, the tied model on
# two. The same penalty is why both models reconstruct less sharply than
# chapter 2's model, although they have 150 codings instead of 20. Exercise 4
# weakens it.

# %% [markdown]
# The claims, checked: the tied model has about half the parameters, and its
# test MSE is below the untied model's. The course asserts both in full mode.
# In quick mode we also check that both models learned something: they must
# beat the mean image.

# %% tags=["hide-input"]
assert tied_mse < mean_image_mse and untied_mse < mean_image_mse
helpers.claim(
    "Tying the decoder's weights to the encoder's halves the number of "
    "parameters.",
    measured=("parameters of the tied autoencoder", tied_model.count_params()),
    reference=("the untied autoencoder", untied_model.count_params()),
    holds=tied_model.count_params() < 0.51 * untied_model.count_params(), fmt=",",
)
helpers.claim(
    "Trained the same way, the tied autoencoder reconstructs the test images "
    "better than the untied one.",
    measured=("tied test MSE", tied_mse),
    reference=("the untied autoencoder", untied_mse),
    holds=tied_mse < untied_mse, fmt=".4f",
)

# %% [markdown]
# ## Saving and loading keeps the tie
#
# A tied model is only useful if it can be saved. We save the whole model in
# Keras' format, load it back, and check three things: the loaded model gives
# exactly the same outputs, its output layer is tied to its *own* first layer,
# and it has the same six trainable variables, so the kernel exists once.

# %%
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "tied_autoencoder.keras"
    tied_model.save(path)
    loaded_model = keras.models.load_model(path)

largest_difference = float(np.max(np.abs(
    loaded_model.predict(x_test, batch_size=2048, verbose=0) - tied_reconstructions
)))
loaded_output = loaded_model.get_layer("outputs")
print("largest difference between the outputs:", largest_difference)
print("output layer tied to the loaded hidden1:",
      loaded_output.tied_to is loaded_model.get_layer("hidden1"))
print("trainable variables after loading:", len(loaded_model.trainable_variables))

# %% tags=["hide-input"]
assert largest_difference == 0.0
assert loaded_output.tied_to is loaded_model.get_layer("hidden1")
assert loaded_model.get_layer("hidden3").tied_to is loaded_model.get_layer("hidden2")
assert len(loaded_model.trainable_variables) == 6

# %% [markdown]
# One caveat: the tie lives in the model. A model that contains a
# `DenseTranspose` layer but not the `Dense` layer it is tied to still computes
# the right outputs, but the kernel is not among its variables, so training that
# model alone would not update it and saving it alone would not save it.
# Exercise 3 shows this.

# %% tags=["remove-cell"]
helpers.record("tied/test_mse", tied_mse)
helpers.record("tied/untied_test_mse", untied_mse)
helpers.record("tied/mse_ratio", mse_ratio)
helpers.record("tied/params", tied_model.count_params())
helpers.record("tied/untied_params", untied_model.count_params())
helpers.record("tied/train_seconds", progress.seconds)

# %% [markdown]
# ## Summary
#
# - Tying a symmetric autoencoder's decoder to its encoder ($W_3 = W_2^\top$,
#   $W_4 = W_1^\top$) halves its parameters
#   (281,734<!-- tied/params:, --> against 561,934<!-- tied/untied_params:, -->
#   here) without costing reconstruction quality: with Géron's L2 penalty, the
#   tied model even reconstructs better, probably because it carries the
#   penalty on two matrices instead of four.
# - The tied kernels are not variables: gradients from both uses flow into
#   $W_1$ and $W_2$, only those two are regularised, and the biases stay free.
# - In Keras 3 a tied layer is a short custom layer that reads the other layer's
#   kernel in `call` and owns only its bias; with a `get_config` that serialises
#   the tied `Dense` layer, a saved model loads back still tied.
#
# ## Exercises
#
# Each exercise has a solution below it, hidden on the website (click to show
# it), and a cell that checks your answer.
#
# 1. Build the deeper tied stack of the TensorFlow blog post of the *Pony
#    深度学习每日摘要* digest (see the references): an encoder of 256, 256, 64
#    and 32 tanh units, and a decoder of tied layers back to 784
#    outputs (tanh too), trained with the MSE on images from which the mean
#    training image has been subtracted. Store the model in `deep_tied_model`
#    and its test MSE, measured after adding the mean image back, in
#    `deep_tied_mse`.
# 2. Compute the L2 penalty of `tied_model` yourself from the kernels of
#    `hidden1` and `hidden2`, store it in `penalty_by_hand` and compare it with
#    the penalties Keras adds to the loss (`tied_model.losses`).
# 3. Build `decoder_model`, a model from 150 codings to 784 outputs that reuses
#    the tied layers `hidden3` and `outputs` of `tied_model`. Check that it
#    decodes the encoder's codings into the same reconstructions as
#    `tied_model`, and count its trainable variables. What is missing?
# 4. Build `weak_model`, a tied model like `tied_model` but with a 50 times
#    weaker penalty, `L2(1e-5)`, train it on the same schedule and store its
#    test MSE in `weak_penalty_mse`. How much lower is its error, and how much
#    sharper are its reconstructions?

# %% [markdown]
# **Exercise 1.** A solution:

# %% mystnb={"image": {"alt": "Ten test images (top row) above the deep tied stack's reconstructions (bottom row), to compare how much of each garment's shape and detail its 32 codings keep."}} tags=["solution", "hide-cell"]
mean_image = x_train.mean(axis=0)
deep_inputs = keras.Input(shape=(784,))
x = deep_inputs
encoder_layers = []
for units in (256, 256, 64, 32):
    encoder_layers.append(layers.Dense(units, activation="tanh"))
    x = encoder_layers[-1](x)
for dense in reversed(encoder_layers):
    x = DenseTranspose(dense, activation="tanh")(x)
deep_tied_model = keras.Model(deep_inputs, x, name="deep_tied")
deep_tied_model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse",
                        steps_per_execution=32)
# The blog post trains 30 epochs in batches of 20; larger batches and fewer
# epochs keep this exercise short.
x_train_centered = x_train - mean_image
centered_dataset = (
    tf.data.Dataset.from_tensor_slices((x_train_centered, x_train_centered))
    .shuffle(len(x_train))
    .batch(128)
)
deep_tied_model.fit(centered_dataset, epochs=helpers.per_mode(full=5, quick=2),
                    verbose=0)
deep_reconstructions = deep_tied_model.predict(x_test - mean_image, verbose=0)
deep_tied_mse = float(np.mean((deep_reconstructions + mean_image - x_test) ** 2))
print(f"{deep_tied_model.count_params():,} parameters, test MSE {deep_tied_mse:.4f}")
helpers.show_reconstructions(
    x_test[:10], np.clip(deep_reconstructions[:10] + mean_image, 0, 1),
    title="Test images (top) and the deep tied stack's reconstructions (bottom)",
)

# %% tags=["self-check"]
helpers.self_check(
    "Exercise 1",
    lambda: [layer.units for layer in deep_tied_model.layers
             if isinstance(layer, layers.Dense)] == [256, 256, 64, 32]
    and [layer.tied_to for layer in deep_tied_model.layers
         if isinstance(layer, DenseTranspose)]
    == [layer for layer in deep_tied_model.layers
        if isinstance(layer, layers.Dense)][::-1]
    and all(layer.activation is keras.activations.tanh
            for layer in deep_tied_model.layers[1:])
    and np.isclose(deep_tied_mse, np.mean(
        (deep_tied_model.predict(x_test - x_train.mean(axis=0), verbose=0)
         + x_train.mean(axis=0) - x_test) ** 2), rtol=1e-3)
    and deep_tied_mse < mean_image_mse,
    "deep_tied_model should have four tanh Dense layers (256, 256, 64, 32 "
    "units) and four tanh DenseTranspose layers tied to them in reverse order, "
    "trained on centred images; deep_tied_mse should be its test MSE after "
    "adding the mean training image back.",
)

# %% [markdown]
# **Exercise 2.** A solution:

# %% tags=["solution", "hide-cell"]
penalty_by_hand = 0.0005 * sum(
    float(np.sum(ops.convert_to_numpy(tied_model.get_layer(name).kernel) ** 2))
    for name in ("hidden1", "hidden2")
)
keras_penalty = float(sum(ops.convert_to_numpy(loss) for loss in tied_model.losses))
print(f"by hand {penalty_by_hand:.5f}, Keras {keras_penalty:.5f}")

# %% tags=["self-check"]
helpers.self_check(
    "Exercise 2",
    lambda: np.isclose(penalty_by_hand,
                       float(sum(ops.convert_to_numpy(v) for v in tied_model.losses)),
                       rtol=1e-4),
    "penalty_by_hand should be the L2 penalty of tied_model, computed with "
    "NumPy from the kernels of hidden1 and hidden2 as L2(0.0005) defines it.",
)

# %% [markdown]
# **Exercise 3.** A solution:

# %% tags=["solution", "hide-cell"]
codings_input = keras.Input(shape=(150,))
decoder_outputs = tied_model.get_layer("outputs")(
    tied_model.get_layer("hidden3")(codings_input)
)
decoder_model = keras.Model(codings_input, decoder_outputs, name="tied_decoder")
encoder_model = keras.Model(tied_model.input, tied_model.get_layer("hidden2").output)
decoded = decoder_model.predict(encoder_model.predict(x_test[:100], verbose=0),
                                verbose=0)
print("same reconstructions:", np.allclose(decoded, tied_reconstructions[:100],
                                           atol=1e-5))
print("trainable variables of the decoder:",
      [variable.path for variable in decoder_model.trainable_variables])
# Only the two biases: the kernels belong to the encoder's layers, which are not
# part of this model. Train or save the decoder together with its encoder.

# %% tags=["self-check"]
helpers.self_check(
    "Exercise 3",
    lambda: decoder_model.input_shape == (None, 150)
    and decoder_model.output_shape == (None, 784)
    and all(decoder_model.get_layer(name) is tied_model.get_layer(name)
            for name in ("hidden3", "outputs"))
    and np.allclose(
        decoder_model.predict(tied_model.get_layer("hidden2")(
            tied_model.get_layer("hidden1")(x_test[:50])), verbose=0),
        tied_reconstructions[:50], atol=1e-5),
    "decoder_model should take 150 codings and apply tied_model's own layers "
    "hidden3 and outputs (not new ones), returning 784 values.",
)


# %% [markdown]
# **Exercise 4.** A solution:

# %% mystnb={"image": {"alt": "Three rows of ten images: test images (top), the tied model's reconstructions with the strong L2 penalty of 0.0005 (middle) and with the weak penalty of 1e-5 (bottom). In full mode the bottom row keeps details that the strong penalty blurs away, such as the print on the sweatshirt and the checks of the shirt."}} tags=["solution", "hide-cell"]
weak_penalty = keras.regularizers.L2(1e-5)
weak_inputs = keras.Input(shape=(784,))
weak_hidden1 = layers.Dense(300, activation="elu", kernel_initializer="he_normal",
                            kernel_regularizer=weak_penalty)
weak_hidden2 = layers.Dense(150, activation="elu", kernel_initializer="he_normal",
                            kernel_regularizer=weak_penalty)
weak_codings = weak_hidden2(weak_hidden1(weak_inputs))
weak_outputs = DenseTranspose(weak_hidden1)(
    DenseTranspose(weak_hidden2, activation="elu")(weak_codings)
)
weak_model = keras.Model(weak_inputs, weak_outputs, name="tied_weak_penalty")
weak_model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="mse",
                   steps_per_execution=32)
weak_model.fit(train_dataset, epochs=num_epochs, verbose=0)
weak_reconstructions = weak_model.predict(x_test, batch_size=2048, verbose=0)
weak_penalty_mse = float(np.mean((weak_reconstructions - x_test) ** 2))
print(f"test MSE: L2(0.0005) {tied_mse:.4f}, L2(1e-5) {weak_penalty_mse:.4f}, "
      f"ratio {weak_penalty_mse / tied_mse:.2f}")
helpers.show_images(
    np.clip(np.concatenate([x_test[:10], tied_reconstructions[:10],
                            weak_reconstructions[:10]]), 0, 1),
    title="Test images (top), tied model with L2(0.0005) (middle) and L2(1e-5) "
          "(bottom)",
)
# The printed ratio says how much of the error the strong penalty caused. In
# full mode the reconstructions also keep details that the strong penalty blurs
# away: the print on the sweatshirt, the checks of the shirt. In quick mode,
# after a few steps, neither model has settled.

# %% tags=["self-check"]
helpers.self_check(
    "Exercise 4",
    lambda: weak_model is not tied_model
    and [layer.kernel_regularizer.get_config()["l2"]
         for layer in weak_model.layers if isinstance(layer, layers.Dense)]
    == [1e-5, 1e-5]
    and len([layer for layer in weak_model.layers
             if isinstance(layer, DenseTranspose)]) == 2
    and np.isclose(weak_penalty_mse, np.mean(
        (weak_model.predict(x_test, batch_size=2048, verbose=0) - x_test) ** 2),
        rtol=1e-3)
    and weak_penalty_mse < mean_image_mse,
    "weak_model should be a new tied model whose two Dense kernels carry "
    "L2(1e-5), trained for num_epochs epochs; weak_penalty_mse its test MSE.",
)
