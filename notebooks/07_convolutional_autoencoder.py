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
# initialisation that starts free of them. Exercise 1 tries the remedy Odena
# and his co-authors recommend: enlarge the image by repeating pixels
# (`UpSampling2D`) and then apply an ordinary convolution.

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
# We chose the number of filters and of epochs on 10,000 images held out from
# the training set, never on the test set, within a budget of five minutes for
# this chapter on two CPU cores; exercise 2 repeats that kind of sweep for the
# code size.

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
# models are trained and evaluated on exactly the same arrays.

# %%
dense_autoencoder = build_autoencoder(
    keras.Sequential([layers.Flatten(), Encoder(latent_dim)], name="dense_encoder"),
    keras.Sequential([Decoder(), layers.Reshape((28, 28, 1))], name="dense_decoder"),
    "dense_autoencoder")
print(f"parameters: {dense_autoencoder.count_params():,}")

# %% [markdown]
# ## Training both for the same number of epochs
#
# Both models see the same training images for the same number of epochs, in
# mini-batches of 128 drawn by chapter 2's `tf.data` pipeline, with Adam at a
# learning rate of 0.001. That is fewer epochs than chapter 2's 100: on a CPU
# a convolutional layer costs much more time per image than its small number
# of weights suggests, since every filter is applied at every position. A
# `ShortProgress` per model prints a few lines and times its training.
# Exercise 1 compares another decoder with this one after 3 epochs, so a
# small callback keeps each model's weights at that epoch.

# %%
class KeepWeights(keras.callbacks.Callback):
    """Keep a copy of the model's weights as they are after a given epoch."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            self.kept_weights = self.model.get_weights()


num_epochs = helpers.per_mode(full=10, quick=2)
batch_size = 128
early_epochs = min(3, num_epochs)
train_dataset = (
    tf.data.Dataset.from_tensor_slices((x_train, x_train))
    .shuffle(len(x_train))
    .batch(batch_size)
)
histories, progress, early_weights = {}, {}, {}
for name, model in (("dense", dense_autoencoder), ("conv", conv_autoencoder)):
    print(f"{name}:")
    progress[name] = ShortProgress(num_lines=5)
    keep_weights = KeepWeights(early_epochs)
    histories[name] = model.fit(train_dataset, epochs=num_epochs, verbose=0,
                                callbacks=[progress[name], keep_weights])
    early_weights[name] = keep_weights.kept_weights

# %% mystnb={"image": {"alt": "Training loss per epoch, in cross-entropy per pixel, of the dense and the convolutional autoencoders, trained on the same images for the same number of epochs. The convolutional model's curve ends lower, and both are still falling at the last epoch: neither model has finished learning."}}
helpers.plot_history(
    {name: history.history["loss"] for name, history in histories.items()},
    keys=list(histories), title="Training loss of the dense and the convolutional "
    "autoencoders", ylabel="cross-entropy per pixel")

# %% [markdown]
# ## The comparison
#
# PCA with 20 components is the linear baseline, and the mean training image
# the trivial one. For each model we compute the test MSE between the images
# and the sigmoid of the logits, as in chapter 2. PCA's reconstructions are
# clipped to $[0, 1]$, the range of real pixels, so that they can be shown
# as images; that makes the baseline a little stronger, and its test MSE a
# little lower than the unclipped figure of chapter 2.

# %%
def reconstruct(autoencoder, images):
    """Pixel values in [0, 1] reconstructed by an autoencoder that outputs logits."""
    logits = autoencoder.predict(images, batch_size=1000, verbose=0)
    return ops.convert_to_numpy(ops.sigmoid(logits))


flat_train, flat_test = x_train.reshape(-1, 784), x_test.reshape(-1, 784)
reconstructions = {
    "PCA-20": np.clip(helpers.pca_reconstruct(flat_train, flat_test, latent_dim),
                      0, 1).reshape(x_test.shape),
    "dense": reconstruct(dense_autoencoder, x_test),
    "conv": reconstruct(conv_autoencoder, x_test),
}
errors_per_image = {name: np.mean((images - x_test) ** 2, axis=(1, 2, 3))
                    for name, images in reconstructions.items()}
test_mse = {name: float(errors.mean()) for name, errors in errors_per_image.items()}
mean_image_mse = float(np.mean((x_train.mean(axis=0) - x_test) ** 2))
params = {"dense": dense_autoencoder.count_params(),
          "conv": conv_autoencoder.count_params()}
seconds_per_epoch = {name: progress[name].seconds / num_epochs
                     for name in histories}
print(f"after {num_epochs} epochs each:")
print(f"{'model':<7} {'parameters':>10} {'test MSE':>9} {'s / epoch':>10}")
for name in ("dense", "conv"):
    print(f"{name:<7} {params[name]:>10,} {test_mse[name]:>9.4f} "
          f"{seconds_per_epoch[name]:>10.1f}")
print(f"test MSE of PCA-20 {test_mse['PCA-20']:.4f}, of the mean image "
      f"{mean_image_mse:.4f}")

# %% [markdown]
# PCA needs no epochs: its 20 components (20 x 784 numbers, plus the mean
# image) are computed in one go. The same ten test images, reconstructed by
# each model:

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
# The claims of this part, checked below: the convolutional autoencoder has at
# most a third of the dense one's parameters; after the same number of epochs
# (10 in full mode) its test MSE is lower than the dense one's; and the dense
# one, in turn, beats PCA with 20 components. In quick mode, with a couple of
# epochs on a few thousand images, the claims are only printed, and we check
# that both models learned something: they beat the mean image.
#
# What the second claim compares is the state of two models after the same
# short training, so it measures how fast each one learns as much as what
# each architecture can reach. The dense model is far from done after 10
# epochs. In a separate, longer run on the CPU that builds this book (an AMD
# EPYC of the Zen 4 generation, 2 cores), chapter 2's dense autoencoder
# trained on 50,000 of the training images, in batches of 512, with early
# stopping on the other 10,000 (patience 20, at most 300 epochs). Early
# stopping never ended that run: its validation MSE was lowest at epoch 288,
# 0.00958, after 536 seconds of training, and with those weights its test MSE
# was 0.0095, lower than the convolutional model's after its 10 epochs here
# (0.0103<!-- conv/test_mse:.4f -->). We did not train the convolutional
# model that long, so this chapter cannot say which of the two architectures
# reconstructs better once both have converged.

# %% tags=["hide-input"]
assert test_mse["conv"] < mean_image_mse and test_mse["dense"] < mean_image_mse
helpers.claim(
    "With the same 20 codings, the convolutional autoencoder has at most a third "
    "of the dense one's parameters.",
    measured=("parameters", params["conv"]),
    reference=("the dense autoencoder", params["dense"]),
    holds=3 * params["conv"] <= params["dense"], fmt=",",
)
helpers.claim(
    "After the same number of epochs (10 each, in full mode), the convolutional "
    "autoencoder's test MSE is lower than the dense one's.",
    measured=("test MSE", test_mse["conv"]),
    reference=("the dense autoencoder", test_mse["dense"]),
    holds=test_mse["conv"] < test_mse["dense"], fmt=".4f",
)
helpers.claim(
    "The dense autoencoder, in turn, beats PCA.",
    measured=("test MSE", test_mse["dense"]),
    reference=("PCA-20", test_mse["PCA-20"]),
    holds=test_mse["dense"] < test_mse["PCA-20"], fmt=".4f",
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
# On two CPU cores this chapter stays within about five minutes by training
# 10 epochs with 24 and 48 filters. A GPU runs
# convolutions many times faster than a CPU; there the same code can afford
# what the budget ruled out here: chapter 2's 100 epochs, twice the filters
# and a third convolution in each half (`filters = (48, 96, 192)`: the
# decoder follows the encoder, from 4 x 4 feature maps back to 28 x 28). Set
# `num_epochs` and `filters` above and run the chapter again.

# %% tags=["remove-cell"]
helpers.record("conv/test_mse", test_mse["conv"])
helpers.record("conv/params", params["conv"])
helpers.record("conv/dense_test_mse", test_mse["dense"])
helpers.record("conv/dense_params", params["dense"])
helpers.record("conv/pca20_test_mse", test_mse["PCA-20"])
helpers.record("conv/psnr_noisy_db", psnr_table[0.3]["noisy"])
helpers.record("conv/psnr_denoised_db", psnr_table[0.3]["conv"])
helpers.record("conv/dense_psnr_denoised_db", psnr_table[0.3]["dense"])
helpers.record("conv/psnr_denoised_sigma05_db", psnr_table[0.5]["conv"])
helpers.record("conv/dense_psnr_denoised_sigma05_db", psnr_table[0.5]["dense"])
helpers.record("conv/train_seconds", progress["dense"].seconds
               + progress["conv"].seconds + denoise_progress.seconds)

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
#   out.
# - On the same test set, after the same number of epochs, the convolutional
#   autoencoder with 20 codings is compared with chapter 2's dense one and
#   with PCA: the table above gives the parameters, the test MSE and the time
#   per epoch of each. After 10 epochs that compares how fast they learn as
#   much as what they can reach.
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
#    `build_conv_decoder` does; name it `"upsampling_decoder"`. Train this
#    `upsampling_autoencoder`, with a new encoder from `build_conv_encoder` and
#    the same loss, for `early_epochs` epochs (3 in full mode; it is slower per
#    epoch), and store its test MSE in `upsampling_test_mse`. Compare it with
#    the transposed-convolution model after the same number of epochs: its
#    training loss is in `histories["conv"]`, and its weights after
#    `early_epochs` epochs in `early_weights["conv"]`; store that model's test
#    MSE in `early_conv_test_mse`. Do the reconstructions show checkerboards?
# 2. How does the reconstruction error depend on the code size? Train the
#    convolutional autoencoder with 2, 5, 10, 20 and 40 codings for 2 epochs
#    each on the first five sixths of the first 24,000 training images (20,000
#    in full mode, to keep the sweep short), and store in
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


upsampling_encoder = build_conv_encoder(latent_dim, filters, name="upsampling_encoder")
upsampling_autoencoder = build_autoencoder(
    upsampling_encoder, build_upsampling_decoder(upsampling_encoder),
    "upsampling_autoencoder")
upsampling_history = upsampling_autoencoder.fit(
    train_dataset, epochs=early_epochs, verbose=0,
    callbacks=[ShortProgress(num_lines=early_epochs)])
upsampled = reconstruct(upsampling_autoencoder, x_test)
upsampling_test_mse = float(np.mean((upsampled - x_test) ** 2))
# The transposed-convolution model as it was after the same number of epochs.
early_conv = keras.models.clone_model(conv_autoencoder)
early_conv.set_weights(early_weights["conv"])
early_reconstructions = reconstruct(early_conv, x_test)
early_conv_test_mse = float(np.mean((early_reconstructions - x_test) ** 2))
print(f"after {early_epochs} epochs each: training loss upsampling "
      f"{upsampling_history.history['loss'][-1]:.4f}, transposed convolutions "
      f"{histories['conv'].history['loss'][early_epochs - 1]:.4f}; test MSE "
      f"upsampling {upsampling_test_mse:.4f}, transposed convolutions "
      f"{early_conv_test_mse:.4f}")
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
x_sweep = x_train[:24_000]
num_fit = len(x_sweep) * 5 // 6
x_fit, x_held_out = x_sweep[:num_fit], x_sweep[num_fit:]
fit_dataset = (
    tf.data.Dataset.from_tensor_slices((x_fit, x_fit))
    .shuffle(len(x_fit))
    .batch(batch_size)
)
validation_mse_by_code_size = {}
sweep_progress = ShortProgress(num_lines=1)
for code_size in (2, 5, 10, 20, 40):
    sweep_encoder = build_conv_encoder(code_size, filters)
    sweep_autoencoder = build_autoencoder(
        sweep_encoder, build_conv_decoder(sweep_encoder),
        f"conv_autoencoder_{code_size}")
    sweep_autoencoder.fit(fit_dataset, epochs=2, verbose=0,
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
    "the MSE of that model on the held-out last sixth of the first 24,000 "
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
