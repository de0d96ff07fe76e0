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
# # Convolutional autoencoders
#
# Every autoencoder so far flattened an image into 784 numbers and forgot that
# neighbouring pixels belong together: a dense layer would learn just as well
# if the pixels were shuffled. A convolutional layer looks at small patches and
# applies the same filter everywhere in the image, so it needs far fewer
# weights and knows from the start that an edge is an edge wherever it is.
# This chapter builds a convolutional autoencoder with the same 20 codings as
# chapter 2, explains the transposed convolution that its decoder uses, and
# compares it with chapter 2's dense architecture and with PCA on the same test
# images. It ends with a convolutional denoiser.

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
import time

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from keras import layers, ops

import helpers
from ae_blocks import Decoder, Encoder, ShortProgress

helpers.setup(chapter=7)

# %% [markdown]
# ## The data
#
# Fashion-MNIST again, this time as images: `flatten=False` keeps each one as a
# 28 x 28 array, and we add a last axis of size 1, the image's single (grey)
# channel, since Keras' convolutional layers expect images of shape
# (height, width, channels).

# %%
(x_train, y_train), (x_test, y_test) = helpers.load_fashion_mnist(
    num_train=helpers.per_mode(full=60_000, quick=6_000),
    num_test=helpers.per_mode(full=10_000, quick=1_000),
    flatten=False,
)
x_train, x_test = x_train[..., np.newaxis], x_test[..., np.newaxis]
print("train:", x_train.shape, "test:", x_test.shape)

# %% [markdown]
# ## How big is the output of a convolution?
#
# A `Conv2D` layer slides a small kernel, here 3 x 3, over its input and
# computes one weighted sum per position and per filter. With `strides=2` it
# moves two pixels at a time, so it computes a value at every other position
# and halves the height and the width. The padding decides what happens at
# the border: `"valid"` only places the kernel where it fits entirely, and
# `"same"` pads the input with zeros so that the output has
# $\lceil n / s \rceil$ positions for an input of size $n$ and a stride $s$.
# With `"valid"` padding and a kernel of size $k$ the output has
# $\lfloor (n - k) / s \rfloor + 1$ positions.
#
# A **transposed convolution** (`Conv2DTranspose`) goes the other way. Each
# input value scatters a copy of the kernel, scaled by that value, into the
# output, and the copies of neighbouring input values land $s$ pixels apart;
# where they overlap they are added. It is the operation that carries the
# gradient of a strided convolution back to its input, which is where its name
# comes from; it is not the inverse of a convolution. By default Keras gives
# its output $n s + \max(k - s, 0)$ positions with `"valid"` padding, and
# $n s$ with `"same"`, which crops the borders.
#
# Going back is ambiguous, though. Rounding up, a strided convolution maps two
# input sizes to the same output size: 13 and 14 pixels both give 7. A
# transposed convolution of 7 pixels cannot know which of the two it should
# give back, so it takes an extra argument, `output_padding` $a$, with
# $0 \le a < s$: the output then has $(n - 1) s + k - 2p + a$ positions, where
# $p$ is the padding on each side ($\lfloor k / 2 \rfloor$ for `"same"`, 0 for
# `"valid"`). This is relationship 14 of Dumoulin and Visin's *guide to
# convolution arithmetic* (2016, in the references). With a 3 x 3 kernel,
# stride 2 and `"same"` padding that is $2n - 1 + a$: $a = 1$ goes back to an
# even size, $a = 0$ to an odd one. The function below writes these cases
# down; the unit tests of the course check it against the shapes Keras builds.

# %% tags=["definition"]
def conv_output_size(size, kernel_size, strides, padding, transposed=False,
                     output_padding=None):
    """Output size of a (transposed) convolution along one axis, as Keras builds it."""
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    for name, value in (("size", size), ("kernel_size", kernel_size),
                        ("strides", strides)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if output_padding is not None and not (
            transposed and isinstance(output_padding, int)
            and 0 <= output_padding < strides):
        raise ValueError("output_padding must be an integer from 0 to strides - 1, "
                         f"of a transposed convolution; got {output_padding!r}")
    if transposed:
        if output_padding is not None:
            # Keras pads "same" by kernel_size // 2 on each side, "valid" not at all.
            border = 2 * (kernel_size // 2) if padding == "same" else 0
            return (size - 1) * strides + kernel_size - border + output_padding
        if padding == "same":
            return size * strides
        return size * strides + max(kernel_size - strides, 0)
    if padding == "same":
        return math.ceil(size / strides)
    if kernel_size > size:
        raise ValueError(f"a kernel of {kernel_size} does not fit in {size} pixels")
    return (size - kernel_size) // strides + 1


# %% [markdown]
# Three strided 3 x 3 convolutions take 28 pixels down to 14, 7 and 4, and
# 13 would have given 7 as well. On the way back, each transposed convolution
# needs the `output_padding` that returns the size its convolution started
# from: 0 for 4 to 7, then 1 for 7 to 14 and 1 for 14 to 28. Without it, Keras
# gives 8, 16 and 32. The formula agrees with the shapes Keras builds:

# %%
sizes = [28]
for _ in range(3):
    sizes.append(conv_output_size(sizes[-1], 3, 2, "same"))
print("Conv2D, 3 x 3, stride 2, 'same':", " -> ".join(map(str, sizes)),
      "| 13 ->", conv_output_size(13, 3, 2, "same"))
for size, target in zip(sizes[:0:-1], sizes[-2::-1]):
    output_padding = target - conv_output_size(size, 3, 2, "same", transposed=True,
                                               output_padding=0)
    layer = layers.Conv2DTranspose(1, 3, strides=2, padding="same",
                                   output_padding=output_padding)
    print(f"Conv2DTranspose: {size:>2} -> {target:>2} with output_padding "
          f"{output_padding} (Keras builds "
          f"{layer.compute_output_shape((None, size, size, 1))[1]}; without "
          f"output_padding {conv_output_size(size, 3, 2, 'same', True)})")

# %% [markdown]
# ## Where checkerboard artefacts come from
#
# When the kernel size is not a multiple of the stride, the scattered copies of
# the kernel overlap unevenly: with a 3 x 3 kernel and a stride of 2, some
# output pixels receive contributions from one input value, others from two
# or four. A transposed convolution whose weights are all 1, applied to an
# input that is all 1, shows the pattern: each output pixel counts the copies
# that cover it. With a 4 x 4 kernel and the same stride, the overlap is the
# same everywhere away from the border. The decoder has to learn weights that
# cancel the uneven pattern, and until it has, its images carry a faint
# checkerboard (Odena, Dumoulin and Olah, 2016, in the references).
#
# Even overlap is not a cure on its own. The copies are added with learned
# weights, and nothing makes the weights that land on neighbouring output
# pixels sum to the same total: Odena and his co-authors observe that networks
# with even overlap still struggle to avoid checkerboards. Aitken and
# co-authors (*Checkerboard artifact free sub-pixel convolution*, 2017) trace
# the artefacts also to how the kernel is initialised, and give an
# initialisation that starts free of them. The section "Checkerboards,
# measured" below finds them in our decoder's images, and exercise 1 tries the
# remedy Odena and his co-authors recommend: enlarge the image by repeating
# pixels (`UpSampling2D`) and then apply an ordinary convolution.

# %% mystnb={"image": {"alt": "Two heat maps of how many copies of the kernel overlap at each output pixel of a transposed convolution with stride 2. With a 3 x 3 kernel (left) the count alternates between 1, 2 and 4 in a checkerboard pattern; with a 4 x 4 kernel (right) it is 4 everywhere except along the border."}}
fig, axes = plt.subplots(1, 2, figsize=(8, 3.8))
for axis, kernel_size in zip(axes, (3, 4)):
    scatter = layers.Conv2DTranspose(1, kernel_size, strides=2, padding="same",
                                     kernel_initializer="ones", use_bias=False)
    overlap = ops.convert_to_numpy(scatter(np.ones((1, 6, 6, 1), "float32")))
    image = axis.imshow(overlap[0, :, :, 0], cmap="viridis", vmin=0, vmax=4)
    axis.set(title=f"kernel {kernel_size} x {kernel_size}, stride 2",
             xlabel="output column", ylabel="output row")
fig.colorbar(image, ax=axes, label="copies of the kernel that overlap")
fig.suptitle("A transposed convolution of an all-ones input with an all-ones kernel")
plt.show()

# %% [markdown]
# ## The convolutional autoencoder
#
# The encoder has two strided 3 x 3 convolutions with ReLU activations, which
# take the 28 x 28 image to 24 feature maps of 14 x 14 and then
# 48 of 7 x 7. A `Dense` layer maps those to 20 codings, with no
# activation, as in chapter 2.
#
# The decoder mirrors whatever encoder it is given. It reads the shape of the
# encoder's last feature maps (here 7 x 7 x 48), so that a `Dense` layer maps
# the codings back to that many values and `Reshape` arranges them as feature
# maps. Then, for each convolution of the encoder in reverse order, a
# transposed convolution goes back to the size and the number of channels
# that convolution started from, with the `output_padding` computed as above.
# The last one has a single filter and no activation: its outputs are logits,
# one per pixel, trained with the same sigmoid cross-entropy as chapter 2.
# Nothing in the decoder is written for 28 x 28 images or for two
# convolutions: with a third convolution it would start from 4 x 4.
#
# We chose the number of filters on 10,000 images held out from the training
# set, never on the test set, within a budget of five minutes for this chapter
# on two CPU cores; exercise 2 repeats that kind of sweep for the code size.

# %% tags=["definition"]
def build_conv_encoder(latent_dim, filters, name="conv_encoder"):
    """Strided 3 x 3 convolutions, then a Dense layer to the codings."""
    images = keras.Input(shape=(28, 28, 1), name="images")
    x = images
    for index, num_filters in enumerate(filters):
        x = layers.Conv2D(num_filters, 3, strides=2, padding="same",
                          activation="relu", name=f"conv{index + 1}")(x)
    codings = layers.Dense(latent_dim, name="codings")(layers.Flatten()(x))
    return keras.Model(images, codings, name=name)


def build_conv_decoder(encoder, name="conv_decoder"):
    """Mirror a convolutional encoder: a Dense layer to its last feature maps,
    then a transposed convolution for each of its convolutions, in reverse."""
    convolutions = [layer for layer in encoder.layers
                    if isinstance(layer, layers.Conv2D)]
    start_shape = tuple(convolutions[-1].output.shape[1:])
    codings = keras.Input(shape=encoder.output.shape[1:], name="codings")
    x = layers.Dense(math.prod(start_shape), activation="relu")(codings)
    x = layers.Reshape(start_shape)(x)
    for convolution in reversed(convolutions):
        target_shape = convolution.input.shape[1:]
        # A strided convolution maps several sizes to one (13 and 14 both give
        # 7); output_padding picks the one this convolution started from.
        output_padding = tuple(
            target - conv_output_size(size, kernel_size, strides,
                                      convolution.padding, transposed=True,
                                      output_padding=0)
            for target, size, kernel_size, strides in zip(
                target_shape[:2], x.shape[1:3], convolution.kernel_size,
                convolution.strides))
        last = convolution is convolutions[0]
        x = layers.Conv2DTranspose(
            target_shape[-1], convolution.kernel_size, strides=convolution.strides,
            padding=convolution.padding, output_padding=output_padding,
            activation=None if last else "relu", name="logits" if last else None,
        )(x)
    return keras.Model(codings, x, name=name)


# %%
latent_dim = 20
filters = (24, 48)
conv_encoder = build_conv_encoder(latent_dim, filters)
conv_decoder = build_conv_decoder(conv_encoder)
conv_encoder.summary()
conv_decoder.summary()

# %% [markdown]
# The autoencoder chains the two and compiles them with Adam and the sigmoid
# cross-entropy. As in chapter 2, `steps_per_execution=32` lets `fit` run 32
# training steps in each call into TensorFlow's runtime, which pays with many
# small batches on a CPU. Most of the weights sit in the two `Dense` layers
# around the codings; each convolution needs only
# $3 \times 3 \times$ (input channels) $\times$ (filters) weights and a bias
# per filter, whatever the size of the image.

# %% tags=["definition"]
def build_autoencoder(encoder, decoder, name):
    """Images in, logits out; compiled with the sigmoid cross-entropy."""
    images = keras.Input(shape=(28, 28, 1), name="images")
    autoencoder = keras.Model(images, decoder(encoder(images)), name=name)
    autoencoder.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        steps_per_execution=32,
    )
    return autoencoder


# %%
conv_autoencoder = build_autoencoder(conv_encoder, conv_decoder, "conv_autoencoder")
print(f"parameters: {conv_autoencoder.count_params():,}")

# %% [markdown]
# ## The dense autoencoder of chapter 2, for comparison
#
# Chapter 2's `Encoder` and `Decoder` (imported from `ae_blocks`): 256, 128
# and 64 ReLU units down to 20 codings and back up to 784 logits. A `Flatten`
# layer before the encoder and a `Reshape` after the decoder let it take the
# same 28 x 28 x 1 images and return logits of the same shape, so that both
# models are trained and evaluated on exactly the same arrays. The two
# functions below build a new, compiled model of each kind.

# %%
def new_dense_autoencoder():
    """Chapter 2's dense autoencoder, on 28 x 28 x 1 images."""
    return build_autoencoder(
        keras.Sequential([layers.Flatten(), Encoder(latent_dim)],
                         name="dense_encoder"),
        keras.Sequential([Decoder(), layers.Reshape((28, 28, 1))],
                         name="dense_decoder"),
        "dense_autoencoder")


def new_conv_autoencoder():
    """The convolutional autoencoder above, with new weights."""
    encoder = build_conv_encoder(latent_dim, filters)
    return build_autoencoder(encoder, build_conv_decoder(encoder), "conv_autoencoder")


params = {"dense": new_dense_autoencoder().count_params(),
          "conv": conv_autoencoder.count_params()}
print(f"parameters: dense {params['dense']:,}, convolutional {params['conv']:,}")

# %% [markdown]
# ## A fair comparison, as far as the budget goes
#
# Which of the two reconstructs better? A comparison after a fixed, short
# training says which one learns faster as much as which one can reach more,
# and a single run says something about its random initial weights too. A
# fair comparison trains each model until its loss on held-out images stops
# improving, with several seeds. Here is that protocol, with what two CPU
# cores and this chapter's five minutes allow:
#
# - three seeds for each model (one in quick mode);
# - the models train on the first 10,000 training images (3,000 in quick
#   mode), a subset that keeps six runs within the budget: the conclusions
#   are about this amount of data;
# - the last 2,000 training images (500 in quick mode) are held out for
#   validation. The test set plays no part in training or in stopping;
# - Keras' `EarlyStopping` callback watches the validation loss after every
#   epoch, stops a run when the loss has not improved for 5 epochs, and gives
#   the model back its weights from the best epoch; but no run may go beyond
#   15 epochs (3 in quick mode), the budget;
# - batches of 128 from a shuffled `tf.data` pipeline, Adam at a learning
#   rate of 0.001 and the sigmoid cross-entropy, for both models.
#
# A small callback notes the time at the end of each epoch, validation
# included, so that the curves can be drawn against seconds as well as
# epochs: on a CPU an epoch of the convolutional model costs several times as
# much as one of the dense model. Another keeps the first seed's weights
# after `early_epochs` epochs, for exercise 1. Each run prints one line when
# it stops.

# %%
class EpochClock(keras.callbacks.Callback):
    """Note the seconds since training began at the end of every epoch."""

    def on_train_begin(self, logs=None):
        self.start, self.seconds = time.perf_counter(), []

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


class KeepWeights(keras.callbacks.Callback):
    """Keep a copy of the model's weights as they are after a given epoch."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            self.kept_weights = self.model.get_weights()


# %%
num_fit = helpers.per_mode(full=10_000, quick=3_000)
num_validation = helpers.per_mode(full=2_000, quick=500)
x_fit, x_validation = x_train[:num_fit], x_train[-num_validation:]
seeds = helpers.per_mode(full=(1, 2, 3), quick=(1,))
max_epochs = helpers.per_mode(full=15, quick=3)
batch_size = 128
early_epochs = 3
fit_dataset = (
    tf.data.Dataset.from_tensor_slices((x_fit, x_fit))
    .shuffle(len(x_fit))
    .batch(batch_size)
)
builders = {"dense": new_dense_autoencoder, "conv": new_conv_autoencoder}
runs = {name: [] for name in builders}
for seed in seeds:
    for name, build in builders.items():
        keras.utils.set_random_seed(seed)
        model = build()
        initial_weights = model.get_weights()
        clock, keep_weights = EpochClock(), KeepWeights(early_epochs)
        early_stopping = keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=5, restore_best_weights=True)
        history = model.fit(
            fit_dataset, epochs=max_epochs, verbose=0,
            validation_data=(x_validation, x_validation),
            callbacks=[clock, keep_weights, early_stopping])
        best = int(np.argmin(history.history["val_loss"]))
        runs[name].append({
            "model": model, "val_loss": history.history["val_loss"],
            "seconds": clock.seconds, "best_epoch": best + 1,
            "initial_weights": initial_weights,
            "early_weights": keep_weights.kept_weights})
        print(f"{name:>5}, seed {seed}: {len(clock.seconds):>3} epochs in "
              f"{clock.seconds[-1]:>4.0f} s, best validation loss "
              f"{history.history['val_loss'][best]:.4f} at epoch {best + 1}")

# %% [markdown]
# The models of the first seed are the chapter's from here on.

# %%
dense_autoencoder = runs["dense"][0]["model"]
conv_autoencoder = runs["conv"][0]["model"]
conv_encoder = conv_autoencoder.get_layer("conv_encoder")
early_weights = {name: runs[name][0]["early_weights"] for name in runs}

# %% mystnb={"image": {"alt": "Two line charts of the validation loss, in cross-entropy per pixel, of the dense (blue) and the convolutional (orange) autoencoders, three seeds each, with a dot at each run's best epoch. Against epochs (left), the convolutional curves fall below the dense ones within the first few epochs and stay below them to the last, the 15th. Against seconds of training (right), the dense curves fall faster at first; the convolutional ones have caught up when the dense runs end, then go on for about twice as long and end lower. Every curve is still falling at its end."}}
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True, layout="constrained")
colours = {"dense": "tab:blue", "conv": "tab:orange"}
for name, name_runs in runs.items():
    for index, run in enumerate(name_runs):
        epochs = np.arange(1, len(run["val_loss"]) + 1)
        label = name if index == 0 else None
        axes[0].plot(epochs, run["val_loss"], color=colours[name], label=label)
        axes[1].plot(run["seconds"], run["val_loss"], color=colours[name],
                     label=label)
        for axis, x in zip(axes, (run["best_epoch"],
                                  run["seconds"][run["best_epoch"] - 1])):
            axis.plot(x, run["val_loss"][run["best_epoch"] - 1], "o",
                      color=colours[name])
# The first epoch's losses are far above the rest; the view starts below them.
second_epoch = max(run["val_loss"][1] for name_runs in runs.values()
                   for run in name_runs)
axes[0].set(xlabel="epoch", ylabel="validation cross-entropy per pixel",
            title="Against epochs", ylim=(None, second_epoch * 1.01))
axes[0].xaxis.set_major_locator(plt.MaxNLocator(integer=True))
axes[1].set(xlabel="seconds of training (validation included)",
            title="Against time on this machine")
for axis in axes:
    axis.grid(alpha=0.3)
    axis.legend()
fig.suptitle(f"Validation loss of the dense and the convolutional autoencoders, "
             f"{len(seeds)} seeds each (dots: best epoch)")
plt.show()

# %% [markdown]
# ## The comparison
#
# For each run we measure the MSE between the images and the sigmoid of the
# logits, as in chapter 2, on the validation images and on the test set, with
# the weights of the run's best epoch. PCA with 20 components, fitted on the
# same 10,000 images, is the linear baseline, and the mean of those images the
# trivial one. PCA's reconstructions are clipped to $[0, 1]$, the range of
# real pixels, so that they can be shown as images; that makes the baseline a
# little stronger.

# %%
def reconstruct(autoencoder, images):
    """Pixel values in [0, 1] reconstructed by an autoencoder that outputs logits."""
    logits = autoencoder.predict(images, batch_size=1000, verbose=0)
    return ops.convert_to_numpy(ops.sigmoid(logits))


def mse(images, reconstructions):
    """The mean squared error of each image's reconstruction."""
    return np.mean((reconstructions - images) ** 2, axis=(1, 2, 3))


for name_runs in runs.values():
    for run in name_runs:
        run["validation_mse"] = float(
            mse(x_validation, reconstruct(run["model"], x_validation)).mean())
        run["test_mse"] = float(mse(x_test, reconstruct(run["model"], x_test)).mean())
        run["seconds_to_best"] = run["seconds"][run["best_epoch"] - 1]

flat_fit = x_fit.reshape(len(x_fit), -1)
reconstructions = {
    "PCA-20": np.clip(helpers.pca_reconstruct(flat_fit, x_test.reshape(-1, 784),
                                              latent_dim), 0, 1).reshape(x_test.shape),
    "dense": reconstruct(dense_autoencoder, x_test),
    "conv": reconstruct(conv_autoencoder, x_test),
}
errors_per_image = {name: mse(x_test, images)
                    for name, images in reconstructions.items()}
pca_test_mse = float(errors_per_image["PCA-20"].mean())
test_mse = {name: float(errors.mean()) for name, errors in errors_per_image.items()}
mean_image_mse = float(np.mean((x_fit.mean(axis=0) - x_test) ** 2))


def spread(values, fmt):
    """Mean and standard deviation over the seeds, as text."""
    return f"{np.mean(values):{fmt}} ± {np.std(values):{fmt}}"


columns = {"best epoch": ("best_epoch", ".0f"), "s to best": ("seconds_to_best", ".0f"),
           "validation MSE": ("validation_mse", ".5f"),
           "test MSE": ("test_mse", ".5f")}
print(f"mean ± standard deviation over {len(seeds)} seeds")
print(f"{'model':<6}" + "".join(f"{column:>20}" for column in columns))
for name, name_runs in runs.items():
    print(f"{name:<6}" + "".join(
        f"{spread([run[key] for run in name_runs], fmt):>20}"
        for key, fmt in columns.values()))
print(f"test MSE of PCA-20 {pca_test_mse:.5f}, of the mean image {mean_image_mse:.5f}")

# %% [markdown]
# PCA needs no epochs: its 20 components (20 x 784 numbers, plus the mean
# image) are computed in one go. The same ten test images, reconstructed by
# each model (the autoencoders of the first seed):

# %% mystnb={"image": {"alt": "Four rows of ten images: Fashion-MNIST test images, then their reconstructions by PCA with 20 components, by the dense autoencoder and by the convolutional autoencoder. PCA's are the blurriest, with ghostly outlines of other garments; the two autoencoders keep the shapes, and neither keeps fine patterns such as the checks of a shirt or the text on a pullover."}}
helpers.show_images(
    np.concatenate([x_test[:10]] + [images[:10] for images in
                                     reconstructions.values()])[..., 0],
    title="Test images, then PCA-20, dense and convolutional reconstructions\n"
          "(top to bottom)",
)

# %% [markdown]
# And each model's ten worst-reconstructed test images, with their
# reconstructions below them:

# %% mystnb={"image": {"alt": "Two figures, one per autoencoder, each with the ten test images it reconstructs worst above their reconstructions. Most are striped or patterned garments, and the reconstructions replace the pattern with an even grey in the garment's shape; both models find the same kinds of images hard."}}
for name in ("dense", "conv"):
    worst = np.argsort(errors_per_image[name])[::-1][:10]
    print(f"{name}: the worst are", ", ".join(
        helpers.FASHION_CLASSES[label] for label in y_test[worst][:5]), "...")
    helpers.show_reconstructions(
        x_test[worst, :, :, 0], reconstructions[name][worst, :, :, 0],
        title=f"The 10 test images the {name} autoencoder reconstructs worst")

# %% [markdown]
# What the table and the curves say, checked by the claims below:
#
# - **Per epoch, the convolutional autoencoder learns more.** Its validation
#   loss is lower at 93%<!-- conv/equal_epoch_share:.0% --> of the epochs (the
#   exceptions come in the first few, as the curves show), and after the
#   last epoch for every seed: a validation MSE of
#   0.0135<!-- conv/mean_validation_mse:.4f --> against
#   0.0178<!-- conv/dense_mean_validation_mse:.4f -->, with a quarter of the
#   parameters.
# - **Per second, on this CPU, neither stays ahead.** Against time, the dense
#   model leads in the first seconds, and the convolutional one has caught up
#   by the time the dense runs end: an epoch of the convolutional model cost
#   2.3<!-- conv/epoch_cost_ratio:.1f --> times one of the dense model on the
#   CPU that built this page, which eats its lead per epoch. That ratio
#   belongs to the machine (on a GPU, which runs convolutions many times
#   faster, it will differ), so it is printed, not asserted.
# - **Neither model has finished.** Every run was still improving when its 15
#   epochs ran out, so early stopping stopped none of them. Which
#   architecture reconstructs better once both have converged, this budget
#   cannot say; "On a GPU" below says how to find out.
#
# The dense model, for its part, beats PCA with 20 components fitted on the
# same 10,000 images, narrowly at this stage of its training: a test MSE of
# 0.0176<!-- conv/dense_mean_test_mse:.4f --> against
# 0.0181<!-- conv/pca20_test_mse:.4f -->. In
# quick mode, with a few epochs on a few thousand images, the claims are only
# printed, and we check that every model learned something: they beat the
# mean image.

# %%
pairs = list(zip(runs["dense"], runs["conv"]))
common_epochs = [min(len(dense["val_loss"]), len(conv["val_loss"]))
                 for dense, conv in pairs]
every_epoch_wins = [conv["val_loss"][epoch] < dense["val_loss"][epoch]
                    for (dense, conv), epochs in zip(pairs, common_epochs)
                    for epoch in range(epochs)]
last_epoch_wins = [conv["val_loss"][epochs - 1] < dense["val_loss"][epochs - 1]
                   for (dense, conv), epochs in zip(pairs, common_epochs)]
still_improving = [len(run["val_loss"]) == max_epochs
                   and run["best_epoch"] > max_epochs - 5
                   for name_runs in runs.values() for run in name_runs]
seconds_per_epoch = {name: np.mean([run["seconds"][-1] / len(run["seconds"])
                                    for run in name_runs])
                     for name, name_runs in runs.items()}
cost_ratio = seconds_per_epoch["conv"] / seconds_per_epoch["dense"]
mean_test_mse = {name: float(np.mean([run["test_mse"] for run in name_runs]))
                 for name, name_runs in runs.items()}
print(f"the convolutional model's validation loss is lower at "
      f"{np.mean(every_epoch_wins):.0%} of the epochs, and at the last epoch for "
      f"{sum(last_epoch_wins)} of {len(pairs)} seeds")
print(f"runs still improving when the budget ended: {sum(still_improving)} of "
      f"{len(still_improving)}")
print(f"an epoch of the convolutional model cost {cost_ratio:.1f} times one of the "
      "dense model here")

# %% tags=["hide-input"]
for name, name_runs in runs.items():
    assert all(run["test_mse"] < mean_image_mse for run in name_runs), name
helpers.claim(
    "With the same 20 codings, the convolutional autoencoder has at most a third "
    "of the dense one's parameters.",
    measured=("parameters", params["conv"]),
    reference=("the dense autoencoder", params["dense"]),
    holds=3 * params["conv"] <= params["dense"], fmt=",",
)
helpers.claim(
    "After the same number of epochs (15 in full mode), the convolutional "
    "autoencoder's validation loss is lower than the dense one's, for every seed.",
    measured=("seeds where it is", sum(last_epoch_wins)),
    reference=("seeds", len(pairs)), holds=all(last_epoch_wins), fmt=".0f",
)
helpers.claim(
    "Within the budget, the comparison is not one at convergence: every run is "
    "still improving (its best epoch is among its last 5), so early stopping "
    "ends none of them.",
    measured=("runs still improving", sum(still_improving)),
    reference=("runs", len(still_improving)), holds=all(still_improving),
    fmt=".0f",
)
helpers.claim(
    "The dense autoencoder, in turn, beats PCA with 20 components fitted on the "
    "same images (mean test MSE over the seeds).",
    measured=("test MSE", mean_test_mse["dense"]),
    reference=("PCA-20", pca_test_mse),
    holds=mean_test_mse["dense"] < pca_test_mse, fmt=".4f",
)

# %% [markdown]
# ## Checkerboards, measured
#
# A checkerboard alternates from one pixel to the next in both directions:
# it is the highest frequency a 28 x 28 image can hold, its *Nyquist
# frequency*, 14 cycles across the image. The 2-D Fourier transform splits an
# image into waves of every frequency and direction, and the squared size of
# each wave's coefficient, averaged over many images, is their *power
# spectrum*. A checkerboard that a decoder adds to its images shows up there
# as a spike at that one frequency, above its neighbours; real images have no
# reason to put one there.
#
# `power_spectrum` computes it with NumPy's FFT, and `nyquist_peak` divides
# the power at the Nyquist frequency by the mean power of its eight
# neighbouring frequencies: about 1 when nothing stands out there.

# %% tags=["definition"]
def power_spectrum(images):
    """Mean over the images of the squared magnitude of their 2-D FFT."""
    images = np.asarray(images, dtype="float64")
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3:
        raise ValueError("images must have shape (num_images, height, width) or "
                         f"(num_images, height, width, 1), got {images.shape}")
    return np.mean(np.abs(np.fft.fft2(images)) ** 2, axis=0)


def nyquist_peak(power):
    """Power at the Nyquist frequency of both axes over its 8 neighbours' mean."""
    rows, cols = power.shape
    if rows % 2 or cols % 2:
        raise ValueError(f"the Nyquist frequency needs even sizes, got {power.shape}")
    neighbours = [power[(rows // 2 + dr) % rows, (cols // 2 + dc) % cols]
                  for dr in (-1, 0, 1) for dc in (-1, 0, 1) if dr or dc]
    return float(power[rows // 2, cols // 2] / np.mean(neighbours))


# %% [markdown]
# We compare the test images with their reconstructions by the first seed's
# convolutional model, untrained (its initial weights) and after training,
# and by its dense model, whose decoder has no transposed convolution.

# %%
untrained_conv = new_conv_autoencoder()
untrained_conv.set_weights(runs["conv"][0]["initial_weights"])
spectra = {
    "test images": power_spectrum(x_test),
    "convolutional, untrained": power_spectrum(reconstruct(untrained_conv, x_test)),
    "convolutional, trained": power_spectrum(reconstructions["conv"]),
    "dense, trained": power_spectrum(reconstructions["dense"]),
}
peaks = {name: nyquist_peak(power) for name, power in spectra.items()}
for name, peak in peaks.items():
    print(f"{name:<25} power at the Nyquist frequency / its neighbours: {peak:6.2f}")

# %% mystnb={"image": {"alt": "Four square heat maps of a power spectrum on a log scale, against horizontal and vertical frequency, with the zero frequency in the corners and the checkerboard frequency, 14 cycles per image, in the middle: for the test images, and for the reconstructions by the untrained convolutional autoencoder, the trained one and the trained dense one. For the test images and both trained models, the power falls smoothly from the corners to a dark middle. The untrained convolutional model's map is speckled, with isolated bright points in the middle, at the middle of the edges and at frequencies 7 cycles apart: the traces of its two transposed convolutions with stride 2."}}
fig, axes = plt.subplots(1, len(spectra), figsize=(13, 3.8), layout="constrained")
# Without fftshift, the Nyquist frequency (index 14 of 28) sits in the middle.
ticks = [0, 7, 14, 21]
tick_labels = ["0", "7", "14", "-7"]
for axis, (name, power) in zip(axes, spectra.items()):
    log_power = np.log10(power)
    # Each panel gets its own colour range; the constant term (0, 0) is left
    # out of it, since it holds the images' mean brightness and dwarfs the rest.
    low, high = np.percentile(log_power.ravel()[1:], [1, 99.5])
    axis.imshow(log_power, cmap="magma", vmin=low, vmax=high)
    axis.set(title=f"{name}\nNyquist peak {peaks[name]:.1f}",
             xlabel="horizontal frequency", xticks=ticks, yticks=ticks,
             xticklabels=tick_labels, yticklabels=tick_labels)
axes[0].set_ylabel("vertical frequency (cycles per image)")
fig.suptitle("Power spectra of the test images and of their reconstructions\n"
             "(log scale, each panel its own range; the checkerboard frequency, "
             "14 cycles per image, in the middle)")
plt.show()


# %% [markdown]
# Untrained, the transposed convolutions stamp a checkerboard on every
# image: the power at the Nyquist frequency is
# 36.8<!-- conv/nyquist_untrained:.1f --> times that of its neighbours, where
# the test images have 0.90<!-- conv/nyquist_test_images:.2f -->. The
# decoder's random weights add up unevenly, as the overlap figure above
# predicts, and the pattern stands out in the untrained model's nearly
# uniform grey images. Training removes most of it, not all:
# 1.38<!-- conv/nyquist_trained:.2f --> after 15 epochs, against
# 1.02<!-- conv/nyquist_dense:.2f --> for the dense model's reconstructions,
# whose decoder has no transposed convolution. A trace of the pattern that
# the eye barely sees, but the spectrum does. That small figure is sensitive
# to the last digits of the training: with Colab's package versions it came
# out higher, and still above both references.

# %% tags=["hide-input"]
helpers.claim(
    "Untrained, the transposed-convolution decoder puts a checkerboard into its "
    "images: their power at the Nyquist frequency is more than 10 times that of "
    "the neighbouring frequencies.",
    measured=("Nyquist peak", peaks["convolutional, untrained"]),
    reference=("the chapter's bar", 10.0),
    holds=peaks["convolutional, untrained"] > 10, fmt=".1f",
)
helpers.claim(
    "After training, a trace of it remains: the peak is higher than in the test "
    "images and in the dense model's reconstructions.",
    measured=("Nyquist peak", peaks["convolutional, trained"]),
    reference=("the higher of the two", max(peaks["test images"],
                                            peaks["dense, trained"])),
    holds=peaks["convolutional, trained"]
    > max(peaks["test images"], peaks["dense, trained"]), fmt=".2f",
)


# %% [markdown]
# ## What the network learned
#
# The first layer's 24 filters are 3 x 3 patches of weights: too small to
# look like garments, they are detectors of edges and of bright or dark spots,
# in every direction.

# %% mystnb={"image": {"alt": "Two rows of 12 small 3 x 3 patches, the filters of the first convolution, red for positive and blue for negative weights. Most are faint mixtures of red and blue that respond to edges or spots in some direction."}}
first_kernel = ops.convert_to_numpy(conv_encoder.get_layer("conv1").kernel)
fig, axes = plt.subplots(2, first_kernel.shape[-1] // 2, figsize=(10, 1.6))
limit = np.abs(first_kernel).max()
for index, axis in enumerate(axes.ravel()):
    axis.imshow(first_kernel[:, :, 0, index], cmap="RdBu_r", vmin=-limit, vmax=limit)
    axis.axis("off")
fig.suptitle("The 3 x 3 filters of the first convolution (red: positive weights)")
plt.show()

# %% [markdown]
# Each filter produces a feature map: the filter's response at every position
# of the image. Here are the feature maps of one test image after the first and
# the second convolution (the first 16 of each).

# %% mystnb={"image": {"alt": "Two rows, each starting with the same test image, an ankle boot, followed by 16 of its feature maps after the first convolution (top, 14 x 14 each) and after the second (bottom, 7 x 7 each). The first maps show the boot through each filter, its outline, one side or its inside lit up; the second are coarse blocks that mark where parts of the boot are."}}
feature_model = keras.Model(
    conv_encoder.input,
    [conv_encoder.get_layer("conv1").output, conv_encoder.get_layer("conv2").output])
maps = [ops.convert_to_numpy(output)[0] for output in feature_model(x_test[:1])]
fig, axes = plt.subplots(2, 17, figsize=(12, 1.8))
for row, feature_maps in enumerate(maps):
    axes[row, 0].imshow(x_test[0, :, :, 0], cmap="binary")
    for column in range(16):
        axes[row, column + 1].imshow(feature_maps[:, :, column], cmap="viridis")
    for axis in axes[row]:
        axis.set_xticks([])
        axis.set_yticks([])
    axes[row, 0].set_ylabel(f"conv{row + 1}\n{feature_maps.shape[0]} x "
                            f"{feature_maps.shape[1]}", fontsize=8)
fig.suptitle("One test image (left) and its feature maps after conv1 (top) and "
             "conv2 (bottom)")
plt.show()

# %% [markdown]
# The first layer's maps are the image seen through each filter: outlines,
# one side of the garment lit up, its inside. After the second layer, each of
# the 7 x 7 positions summarises a 7 x 7 patch of the image, and the maps
# mark where parts of the garment are rather than what its pixels are.

# %% [markdown]
# ## A convolutional denoiser
#
# Chapter 5 trained a dense denoising autoencoder: 784 pixels, 200 sigmoid
# codings and 784 sigmoid outputs, trained for 4 epochs on images with
# Gaussian noise of $\sigma = 0.3$ (Keras' `GaussianNoise` layer) and clean
# targets. We train it again here, next to a convolutional denoiser trained the
# same way: the same noise, loss, optimizer, epochs and pipeline. A denoiser
# has to keep the detail of the image, not compress it, so the convolutional
# one has no `Dense` bottleneck: its two strided convolutions keep 7 x 7 x 48
# values per image, and two transposed convolutions, with their
# `output_padding` worked out as in the decoder, turn them back into a
# 28 x 28 image. Both are measured as in chapter 5: the test images with
# noise of $\sigma = 0.3$ and $0.5$ drawn from the same seed, fed to the models
# as they are, and the mean PSNR against the clean images (`helpers.psnr`).

# %%
train_sigma = 0.3
denoise_epochs = helpers.per_mode(full=4, quick=1)


def compile_denoiser(model):
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy",
                  steps_per_execution=32)
    return model


def build_dense_denoiser():
    """Chapter 5's denoiser: noise, 200 sigmoid codings, 784 sigmoid outputs."""
    images = keras.Input(shape=(28, 28, 1))
    x = layers.GaussianNoise(train_sigma, seed=1)(layers.Flatten()(images))
    x = layers.Dense(200, activation="sigmoid")(x)
    outputs = layers.Reshape((28, 28, 1))(layers.Dense(784, activation="sigmoid")(x))
    return compile_denoiser(keras.Model(images, outputs, name="dense_denoiser"))


def build_conv_denoiser():
    """Noise, strided convolutions, then transposed ones back to sigmoid pixels."""
    images = keras.Input(shape=(28, 28, 1))
    x = layers.GaussianNoise(train_sigma, seed=1)(images)
    sizes = []
    for num_filters in filters:
        sizes.append(x.shape[1])
        x = layers.Conv2D(num_filters, 3, strides=2, padding="same",
                          activation="relu")(x)
    # Back up through the sizes of the way down, as build_conv_decoder does.
    for index in reversed(range(len(filters))):
        output_padding = sizes[index] - conv_output_size(
            x.shape[1], 3, 2, "same", transposed=True, output_padding=0)
        x = layers.Conv2DTranspose(
            filters[index - 1] if index else 1, 3, strides=2, padding="same",
            output_padding=output_padding,
            activation="relu" if index else "sigmoid")(x)
    return compile_denoiser(keras.Model(images, x, name="conv_denoiser"))


train_dataset = (
    tf.data.Dataset.from_tensor_slices((x_train, x_train))
    .shuffle(len(x_train))
    .batch(batch_size)
)
denoisers = {"dense": build_dense_denoiser(), "conv": build_conv_denoiser()}
denoise_progress = ShortProgress(num_lines=4)
for name, model in denoisers.items():
    print(f"{name} denoiser, {model.count_params():,} parameters:")
    model.fit(train_dataset, epochs=denoise_epochs, verbose=0,
              callbacks=[denoise_progress])

# %%
noise_rng = np.random.default_rng(0)
test_sigmas = (0.3, 0.5)
noisy_test = {sigma: x_test + sigma * noise_rng.normal(size=x_test.shape).astype(
    "float32") for sigma in test_sigmas}
psnr_table = {}
for sigma in test_sigmas:
    psnr_table[sigma] = {"noisy": helpers.psnr(x_test, np.clip(noisy_test[sigma],
                                                                0, 1))}
    for name, model in denoisers.items():
        psnr_table[sigma][name] = helpers.psnr(
            x_test, model.predict(noisy_test[sigma], batch_size=1000, verbose=0))
print("PSNR (dB) on the test set: the noisy images, then each denoiser's output")
print(f"{'sigma':>5} " + " ".join(f"{column:>7}" for column in psnr_table[0.3]))
for sigma, row in psnr_table.items():
    print(f"{sigma:>5} " + " ".join(f"{value:>7.2f}" for value in row.values()))

# %% mystnb={"image": {"alt": "Four rows of ten images: test images with strong Gaussian noise (sigma 0.5), the dense denoiser's outputs, the convolutional denoiser's outputs and the clean images. The dense denoiser's outputs are smooth, slightly blurred garments; the convolutional denoiser's keep more detail but also dark specks of leftover noise."}}
helpers.show_images(
    np.concatenate([np.clip(noisy_test[0.5][:10], 0, 1)]
                   + [model.predict(noisy_test[0.5][:10], verbose=0)
                      for model in denoisers.values()] + [x_test[:10]])[..., 0],
    title="Noisy test images (sigma 0.5), the dense and the convolutional "
          "denoisers' outputs,\nand the clean images (top to bottom)",
)

# %% [markdown]
# At the noise level both were trained on, $\sigma = 0.3$, the convolutional
# denoiser does better than the dense one with fewer than a tenth of its
# parameters: its filters know that neighbouring pixels belong together, and
# its 7 x 7 x 48 values keep more detail than 200 codings. At
# $\sigma = 0.5$, stronger than anything seen in training, the order turns
# around in full mode: the dense denoiser can only output combinations of its
# 200 learned features, so stronger noise has less to get through, while the
# convolutional one, which keeps more of its input, lets more of the stronger
# noise through. A convolutional denoiser meant for a range of noise levels is
# trained on that range (exercise 4 of chapter 5 sweeps the levels).
#
# The claims of this part, checked: both denoisers remove noise at both levels;
# in full mode the convolutional denoiser beats the dense one at
# $\sigma = 0.3$, and the dense one is ahead at $\sigma = 0.5$.

# %% tags=["hide-input"]
for row in psnr_table.values():
    assert row["conv"] > row["noisy"] and row["dense"] > row["noisy"], row
helpers.claim(
    "At the training noise level 0.3, the convolutional denoiser beats the dense "
    "one.",
    measured=("convolutional", psnr_table[0.3]["conv"]),
    reference=("the dense denoiser", psnr_table[0.3]["dense"]),
    holds=psnr_table[0.3]["conv"] > psnr_table[0.3]["dense"], fmt=".2f",
    unit=" dB",
)
helpers.claim(
    "At the stronger noise level 0.5, unseen in training, the dense denoiser is "
    "ahead.",
    measured=("dense", psnr_table[0.5]["dense"]),
    reference=("the convolutional denoiser", psnr_table[0.5]["conv"]),
    holds=psnr_table[0.5]["dense"] > psnr_table[0.5]["conv"], fmt=".2f",
    unit=" dB",
)

# %% [markdown]
# ## On a GPU
#
# On two CPU cores this chapter stays within about five minutes by comparing
# the two models on 10,000 training images, with 24 and 48 filters. A GPU runs
# convolutions many times faster than a CPU; there the same code can afford
# what the budget ruled out here, and answer what this chapter cannot:
#
# - the comparison on all the training images but the validation ones: set
#   `num_fit = 50_000`. The conclusions above hold for 10,000 images; with
#   five times as many, both models have more to learn from, and the dense
#   one, which has four times the weights, may gain more;
# - twice the filters and a third convolution in each half
#   (`filters = (48, 96, 192)`: the decoder follows the encoder, from 4 x 4
#   feature maps back to 28 x 28).
#
# Set `num_fit` and `filters` above and run the chapter again.

# %% tags=["remove-cell"]
helpers.record("conv/test_mse", test_mse["conv"])
helpers.record("conv/params", params["conv"])
helpers.record("conv/dense_test_mse", test_mse["dense"])
helpers.record("conv/dense_params", params["dense"])
helpers.record("conv/pca20_test_mse", pca_test_mse)
helpers.record("conv/mean_validation_mse",
               float(np.mean([run["validation_mse"] for run in runs["conv"]])))
helpers.record("conv/mean_test_mse",
               float(np.mean([run["test_mse"] for run in runs["conv"]])))
helpers.record("conv/mean_best_epoch",
               float(np.mean([run["best_epoch"] for run in runs["conv"]])))
helpers.record("conv/mean_seconds_to_best",
               float(np.mean([run["seconds_to_best"] for run in runs["conv"]])))
helpers.record("conv/epochs_per_second", float(np.mean(
    [len(run["seconds"]) / run["seconds"][-1] for run in runs["conv"]])))
helpers.record("conv/dense_mean_validation_mse",
               float(np.mean([run["validation_mse"] for run in runs["dense"]])))
helpers.record("conv/dense_mean_test_mse",
               float(np.mean([run["test_mse"] for run in runs["dense"]])))
helpers.record("conv/dense_mean_best_epoch",
               float(np.mean([run["best_epoch"] for run in runs["dense"]])))
helpers.record("conv/dense_mean_seconds_to_best",
               float(np.mean([run["seconds_to_best"] for run in runs["dense"]])))
helpers.record("conv/dense_epochs_per_second", float(np.mean(
    [len(run["seconds"]) / run["seconds"][-1] for run in runs["dense"]])))
helpers.record("conv/equal_epoch_share", float(np.mean(every_epoch_wins)))
helpers.record("conv/epoch_cost_ratio", float(cost_ratio))
helpers.record("conv/nyquist_test_images", peaks["test images"])
helpers.record("conv/nyquist_untrained", peaks["convolutional, untrained"])
helpers.record("conv/nyquist_trained", peaks["convolutional, trained"])
helpers.record("conv/nyquist_dense", peaks["dense, trained"])
helpers.record("conv/psnr_noisy_db", psnr_table[0.3]["noisy"])
helpers.record("conv/psnr_denoised_db", psnr_table[0.3]["conv"])
helpers.record("conv/dense_psnr_denoised_db", psnr_table[0.3]["dense"])
helpers.record("conv/psnr_denoised_sigma05_db", psnr_table[0.5]["conv"])
helpers.record("conv/dense_psnr_denoised_sigma05_db", psnr_table[0.5]["dense"])
helpers.record("conv/train_seconds", sum(run["seconds"][-1] for name_runs in
                                         runs.values() for run in name_runs)
               + denoise_progress.seconds)

# %% [markdown]
# ## Summary
#
# - A convolutional encoder applies small filters at every position with
#   strided `Conv2D` layers; each halves the height and width of its input,
#   rounding up. A `Dense` layer on top gives the same kind of codings as a
#   dense autoencoder.
# - The decoder's `Conv2DTranspose` layers scatter a copy of their kernel for
#   every input value, $s$ pixels apart; the output size follows from the
#   kernel size, the stride, the padding and `output_padding`
#   (`conv_output_size`). Since a strided convolution maps two sizes to one
#   (13 and 14 both give 7), the decoder derives its start and each
#   `output_padding` from the encoder.
# - A kernel size that is not a multiple of the stride overlaps unevenly, one
#   source of checkerboard artefacts; even overlap alone does not rule them
#   out. The power spectrum of the reconstructions measures them: a peak at
#   the Nyquist frequency, strong before training and faint after it.
# - A fair comparison of two architectures trains each with several seeds,
#   stops on held-out images, and looks at the curves against epochs and
#   against seconds. On 10,000 images and within 15 epochs, the convolutional
#   autoencoder learns more per epoch than chapter 2's dense one, with a
#   quarter of its weights, and on two CPU cores no more per second; neither
#   had converged, so which one is better at convergence stays open here.
# - Without a bottleneck, a small convolutional network beats chapter 5's dense
#   denoiser at the noise level it was trained on, but not at a stronger one.
#
# ## Exercises
#
# Each exercise has a solution below it, hidden on the website (click to show
# it), and a cell that checks your answer.
#
# 1. Write a decoder that replaces each `Conv2DTranspose` of
#    `build_conv_decoder` by `UpSampling2D` followed by a `Conv2D` with a 3 x 3
#    kernel and `padding="same"` (the last one with one filter and no
#    activation), and derives its sizes from the encoder as
#    `build_conv_decoder` does; name it `"upsampling_decoder"`. Build this
#    `upsampling_autoencoder` with a new encoder from `build_conv_encoder`,
#    after `keras.utils.set_random_seed(1)` as for the first seed's runs, and
#    train it as they were trained (`fit_dataset`, the validation images) for
#    `early_epochs` epochs; store its test MSE in `upsampling_test_mse`. The
#    transposed-convolution model of the first seed had weights
#    `early_weights["conv"]` after as many epochs: store that model's test MSE
#    in `early_conv_test_mse`. Which of the two decoders has a peak at the
#    Nyquist frequency (`nyquist_peak`), untrained and after `early_epochs`
#    epochs?
# 2. How does the reconstruction error depend on the code size? Train the
#    convolutional autoencoder with 2, 5, 10, 20 and 40 codings for 2 epochs
#    each on the first five sixths of the first 12,000 training images
#    (10,000 images, to keep the sweep short), and store in
#    `validation_mse_by_code_size` the MSE on the last sixth of them (held
#    out) for each code size. Plot the curve.
# 3. Which transposed convolutions with a stride of 2 turn 7 pixels into
#    exactly 14? Store in `doubling_choices` the set of `(kernel_size,
#    padding)` pairs, for kernel sizes 1 to 6 and both paddings, that do
#    (without `output_padding`).
# 4. A convolution applies the same filter at every position. Is the
#    convolutional autoencoder more tolerant of a shifted image than the dense
#    one? Shift every test image 3 pixels to the right (`np.roll` on axis 2)
#    and store in `shifted_mse` a dict with the test MSE of the `"dense"` and
#    the `"conv"` autoencoder on the shifted images (each against the shifted
#    images themselves).

# %% [markdown]
# **Exercise 1.** A solution:

# %% mystnb={"image": {"alt": "Three rows of ten images: test images, then their reconstructions by the transposed-convolution autoencoder and by the upsampling autoencoder, each after the same few epochs. Both rows of reconstructions are blurred garments with their shapes kept; look in the middle row for a faint regular grid of lighter and darker pixels, the checkerboard that upsampling avoids."}} tags=["solution", "hide-cell"]
def build_upsampling_decoder(encoder, name="upsampling_decoder"):
    """Like build_conv_decoder, with UpSampling2D + Conv2D for each transposed one."""
    convolutions = [layer for layer in encoder.layers
                    if isinstance(layer, layers.Conv2D)]
    start_shape = tuple(convolutions[-1].output.shape[1:])
    codings = keras.Input(shape=encoder.output.shape[1:])
    x = layers.Dense(math.prod(start_shape), activation="relu")(codings)
    x = layers.Reshape(start_shape)(x)
    for convolution in reversed(convolutions):
        height, width, channels = convolution.input.shape[1:]
        x = layers.UpSampling2D(convolution.strides)(x)
        # Repeating pixels overshoots where the convolution started from an odd
        # size (7 -> 8 instead of 7): crop the extra row and column.
        x = layers.Cropping2D(((0, x.shape[1] - height), (0, x.shape[2] - width)))(x)
        last = convolution is convolutions[0]
        x = layers.Conv2D(channels, 3, padding="same",
                          activation=None if last else "relu")(x)
    return keras.Model(codings, x, name=name)


keras.utils.set_random_seed(1)
upsampling_encoder = build_conv_encoder(latent_dim, filters, name="upsampling_encoder")
upsampling_autoencoder = build_autoencoder(
    upsampling_encoder, build_upsampling_decoder(upsampling_encoder),
    "upsampling_autoencoder")
untrained_upsampled = reconstruct(upsampling_autoencoder, x_test)
upsampling_history = upsampling_autoencoder.fit(
    fit_dataset, epochs=early_epochs, verbose=0,
    validation_data=(x_validation, x_validation),
    callbacks=[ShortProgress(num_lines=early_epochs)])
upsampled = reconstruct(upsampling_autoencoder, x_test)
upsampling_test_mse = float(np.mean((upsampled - x_test) ** 2))
# The transposed-convolution model as it was after the same number of epochs.
early_conv = keras.models.clone_model(conv_autoencoder)
early_conv.set_weights(early_weights["conv"])
early_reconstructions = reconstruct(early_conv, x_test)
early_conv_test_mse = float(np.mean((early_reconstructions - x_test) ** 2))
print(f"after {early_epochs} epochs each: validation loss upsampling "
      f"{upsampling_history.history['val_loss'][-1]:.4f}, transposed convolutions "
      f"{runs['conv'][0]['val_loss'][early_epochs - 1]:.4f}; test MSE "
      f"upsampling {upsampling_test_mse:.4f}, transposed convolutions "
      f"{early_conv_test_mse:.4f}")
print("Nyquist peak, untrained: transposed convolutions "
      f"{peaks['convolutional, untrained']:.2f}, upsampling "
      f"{nyquist_peak(power_spectrum(untrained_upsampled)):.2f}; after "
      f"{early_epochs} epochs: transposed convolutions "
      f"{nyquist_peak(power_spectrum(early_reconstructions)):.2f}, upsampling "
      f"{nyquist_peak(power_spectrum(upsampled)):.2f}")
helpers.show_images(
    np.concatenate([x_test[:10], early_reconstructions[:10], upsampled[:10]])[..., 0],
    title=f"Test images; transposed convolutions; upsampling ({early_epochs} epochs "
          "each)")
# Both rows come from models trained for the same number of epochs. Look for a
# regular grid of lighter and darker pixels in the middle row: that is the
# uneven overlap of the transposed convolutions, which repeated pixels followed
# by an ordinary convolution do not have.

# %% tags=["self-check"]
def conv_test_mse_with(weights):
    """The test MSE of the convolutional autoencoder with the given weights."""
    model = keras.models.clone_model(conv_autoencoder)
    model.set_weights(weights)
    return float(np.mean((reconstruct(model, x_test) - x_test) ** 2))


helpers.self_check(
    "Exercise 1",
    lambda: any(isinstance(layer, layers.UpSampling2D)
                for layer in upsampling_autoencoder.get_layer(
                    "upsampling_decoder").layers)
    and not any(isinstance(layer, layers.Conv2DTranspose)
                for layer in upsampling_autoencoder.get_layer(
                    "upsampling_decoder").layers)
    and math.isclose(upsampling_test_mse, float(np.mean(
        (reconstruct(upsampling_autoencoder, x_test) - x_test) ** 2)), rel_tol=1e-3)
    and upsampling_test_mse < mean_image_mse
    and math.isclose(early_conv_test_mse,
                     conv_test_mse_with(early_weights["conv"]), rel_tol=1e-3),
    "upsampling_autoencoder should have a decoder named 'upsampling_decoder' made "
    "of UpSampling2D and Conv2D layers (no Conv2DTranspose), trained so that it "
    "beats the mean image; upsampling_test_mse its MSE on the test images; "
    "early_conv_test_mse the test MSE of the convolutional autoencoder with the "
    "weights early_weights['conv'].",
)

# %% [markdown]
# **Exercise 2.** A solution:

# %% mystnb={"image": {"alt": "Line plot of the MSE on held-out training images against the number of codings (2, 5, 10, 20 and 40, log scale) for the convolutional autoencoder trained 2 epochs. The error falls as the number of codings grows, steeply at first and then more slowly."}} tags=["solution", "hide-cell"]
x_sweep = x_train[:12_000]
num_sweep_fit = len(x_sweep) * 5 // 6
x_sweep_fit, x_held_out = x_sweep[:num_sweep_fit], x_sweep[num_sweep_fit:]
sweep_dataset = (
    tf.data.Dataset.from_tensor_slices((x_sweep_fit, x_sweep_fit))
    .shuffle(len(x_sweep_fit))
    .batch(batch_size)
)
validation_mse_by_code_size = {}
sweep_progress = ShortProgress(num_lines=1)
for code_size in (2, 5, 10, 20, 40):
    sweep_encoder = build_conv_encoder(code_size, filters)
    sweep_autoencoder = build_autoencoder(
        sweep_encoder, build_conv_decoder(sweep_encoder),
        f"conv_autoencoder_{code_size}")
    sweep_autoencoder.fit(sweep_dataset, epochs=2, verbose=0,
                          callbacks=[sweep_progress])
    validation_mse_by_code_size[code_size] = float(np.mean(
        (reconstruct(sweep_autoencoder, x_held_out) - x_held_out) ** 2))
    print(f"{code_size} codings: held-out MSE "
          f"{validation_mse_by_code_size[code_size]:.4f}")
fig, axis = plt.subplots(figsize=(6, 3.5))
axis.plot(list(validation_mse_by_code_size), list(validation_mse_by_code_size.values()),
          "o-")
axis.set(title="Convolutional autoencoder, 2 epochs", xlabel="number of codings",
         ylabel="MSE on held-out training images", xscale="log")
axis.set_xticks(list(validation_mse_by_code_size), list(validation_mse_by_code_size))
axis.minorticks_off()  # Only the code sizes tried are labelled.
plt.show()
# The error falls fast up to 10 codings, then more and more slowly.

# %% tags=["self-check"]
helpers.self_check(
    "Exercise 2",
    lambda: sorted(validation_mse_by_code_size) == [2, 5, 10, 20, 40]
    and validation_mse_by_code_size[40]
    < min(validation_mse_by_code_size[2], mean_image_mse),
    "validation_mse_by_code_size should map each code size (2, 5, 10, 20, 40) to "
    "the MSE of that model on the held-out last sixth of the first 12,000 "
    "training images; more codings should reconstruct better.",
)

# %% [markdown]
# **Exercise 3.** A solution:

# %% tags=["solution", "hide-cell"]
doubling_choices = {
    (kernel_size, padding)
    for kernel_size in range(1, 7) for padding in ("valid", "same")
    if conv_output_size(7, kernel_size, 2, padding, transposed=True) == 14
}
print(sorted(doubling_choices))
# "same" always gives 7 * 2; "valid" adds max(k - 2, 0), so only k <= 2 works.

# %% tags=["self-check"]
helpers.self_check(
    "Exercise 3",
    lambda: set(doubling_choices) == {
        (kernel_size, padding)
        for kernel_size in range(1, 7) for padding in ("valid", "same")
        if layers.Conv2DTranspose(1, kernel_size, strides=2, padding=padding)
        .compute_output_shape((None, 7, 7, 1))[1] == 14},
    "doubling_choices should be a set of (kernel_size, padding) pairs, kernel "
    "sizes 1 to 6 and padding 'valid' or 'same', whose transposed convolution "
    "with stride 2 turns 7 pixels into 14.",
)

# %% [markdown]
# **Exercise 4.** A solution:

# %% tags=["solution", "hide-cell"]
shifted_test = np.roll(x_test, 3, axis=2)
shifted_mse = {
    name: float(np.mean((reconstruct(model, shifted_test) - shifted_test) ** 2))
    for name, model in (("dense", dense_autoencoder), ("conv", conv_autoencoder))
}
for name, value in shifted_mse.items():
    print(f"{name}: test MSE {test_mse[name]:.4f}, shifted {value:.4f}")
# Both get worse: the Dense layer at the codings sees every position apart, so
# neither model is tolerant of shifts by construction; the convolutions only
# make the features shift with the image.

# %% tags=["self-check"]
helpers.self_check(
    "Exercise 4",
    lambda: set(shifted_mse) == {"dense", "conv"}
    and all(math.isclose(shifted_mse[name], float(np.mean(
        (reconstruct(model, np.roll(x_test, 3, axis=2))
         - np.roll(x_test, 3, axis=2)) ** 2)), rel_tol=1e-3)
        for name, model in (("dense", dense_autoencoder),
                            ("conv", conv_autoencoder))),
    "shifted_mse should map 'dense' and 'conv' to each autoencoder's MSE on the "
    "test images rolled 3 pixels to the right (np.roll(x_test, 3, axis=2)), "
    "measured against those shifted images.",
)
