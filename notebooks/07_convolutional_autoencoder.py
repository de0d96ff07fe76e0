# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
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
# The first cell fetches the course's shared module, `helpers.py`, when the
# notebook runs on its own (in Colab, for example). The second imports
# everything the chapter uses, seeds the random number generators and prints
# the mode and the device.

# %%
import os
import urllib.request

HELPERS_URL = (
    "https://raw.githubusercontent.com/ae-course/autoencoders-hands-on/"
    "main/notebooks/helpers.py"
)
if not os.path.exists("helpers.py"):
    urllib.request.urlretrieve(HELPERS_URL, "helpers.py")

# %%
import math

import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import layers, ops

import helpers

helpers.setup(seed=42)

# %% [markdown]
# ## The data
#
# Fashion-MNIST again, this time as images: `flatten=False` keeps each one as a
# 28 x 28 array, and we add a last axis of size 1, the image's single (grey)
# channel, since Keras' convolutional layers expect images of shape
# (height, width, channels).

# %%
(x_train, y_train), (x_test, y_test) = helpers.load_fashion_mnist(flatten=False)
x_train, x_test = x_train[..., np.newaxis], x_test[..., np.newaxis]
print("train:", x_train.shape, "test:", x_test.shape, "|", helpers.DATA_SOURCES)

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
# comes from; it is not the inverse of a convolution. Its output has
# $n s + \max(k - s, 0)$ positions with `"valid"` padding, and $n s$ with
# `"same"`, which crops the borders. The function below writes these four
# cases down; the unit tests of the course check it against the shapes Keras
# builds.

# %% tags=["definition"]
def conv_output_size(size, kernel_size, strides, padding, transposed=False):
    """Output size of a (transposed) convolution along one axis, as Keras builds it."""
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    for name, value in (("size", size), ("kernel_size", kernel_size),
                        ("strides", strides)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if transposed:
        if padding == "same":
            return size * strides
        return size * strides + max(kernel_size - strides, 0)
    if padding == "same":
        return math.ceil(size / strides)
    if kernel_size > size:
        raise ValueError(f"a kernel of {kernel_size} does not fit in {size} pixels")
    return (size - kernel_size) // strides + 1


# %% [markdown]
# For example, our encoder will take 28 pixels down to 14 and then 7 with two
# strided 3 x 3 convolutions, and the decoder will bring 7 back to 14 and 28
# with two transposed ones. The formula agrees with Keras:

# %%
size = 28
for transposed in (False, False, True, True):
    layer = (layers.Conv2DTranspose if transposed else layers.Conv2D)(
        1, 3, strides=2, padding="same")
    keras_size = layer.compute_output_shape((None, size, size, 1))[1]
    new_size = conv_output_size(size, 3, 2, "same", transposed)
    print(f"{type(layer).__name__:>15}: {size:>2} -> {new_size:>2} "
          f"(Keras builds {keras_size})")
    size = new_size

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
# checkerboard (Odena, Dumoulin and Olah, 2016, in the references). Exercise 1
# tries the usual remedy: enlarge the image by repeating pixels
# (`UpSampling2D`) and then apply an ordinary convolution.

# %%
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
# activation, as in chapter 2. The decoder mirrors it: a `Dense` layer back to
# 7 x 7 x 48 values, then two transposed convolutions up to 14 x 14 and
# 28 x 28, the last one with a single filter and no activation. Its outputs are
# logits, one per pixel, trained with the same sigmoid cross-entropy as
# chapter 2.
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


def build_conv_decoder(latent_dim, filters, name="conv_decoder"):
    """A Dense layer to 7 x 7 feature maps, then transposed convolutions."""
    codings = keras.Input(shape=(latent_dim,), name="codings")
    x = layers.Dense(7 * 7 * filters[-1], activation="relu")(codings)
    x = layers.Reshape((7, 7, filters[-1]))(x)
    for num_filters in filters[-2::-1]:
        x = layers.Conv2DTranspose(num_filters, 3, strides=2, padding="same",
                                   activation="relu")(x)
    logits = layers.Conv2DTranspose(1, 3, strides=2, padding="same",
                                    name="logits")(x)
    return keras.Model(codings, logits, name=name)


# %%
latent_dim = 20
filters = (24, 48)
conv_encoder = build_conv_encoder(latent_dim, filters)
conv_decoder = build_conv_decoder(latent_dim, filters)
conv_encoder.summary()
conv_decoder.summary()

# %% [markdown]
# The autoencoder chains the two. Most of its weights sit in the two `Dense`
# layers around the codings; each convolution needs only
# $3 \times 3 \times$ (input channels) $\times$ (filters) weights and a bias
# per filter, whatever the size of the image.

# %% tags=["definition"]
def build_autoencoder(encoder, decoder, name):
    """Images in, logits out; compiled with the sigmoid cross-entropy."""
    images = keras.Input(shape=(28, 28, 1), name="images")
    autoencoder = keras.Model(images, decoder(encoder(images)), name=name)
    autoencoder.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss=keras.losses.BinaryCrossentropy(from_logits=True))
    return autoencoder


# %%
conv_autoencoder = build_autoencoder(conv_encoder, conv_decoder, "conv_autoencoder")
print(f"parameters: {conv_autoencoder.count_params():,}")

# %% [markdown]
# ## The dense autoencoder of chapter 2, for comparison
#
# The same architecture as chapter 2: 256, 128 and 64 ReLU units down to 20
# codings and back up to 784 logits. It is written here with the functional
# API, and takes the same 28 x 28 x 1 images, flattening them first, so that
# both models are trained and evaluated on exactly the same arrays.

# %% tags=["definition"]
def build_dense_encoder(latent_dim, name="dense_encoder"):
    """Chapter 2's encoder: 784 pixels, 256-128-64 ReLU units, linear codings."""
    images = keras.Input(shape=(28, 28, 1), name="images")
    x = layers.Flatten()(images)
    for units in (256, 128, 64):
        x = layers.Dense(units, activation="relu")(x)
    return keras.Model(images, layers.Dense(latent_dim)(x), name=name)


def build_dense_decoder(latent_dim, name="dense_decoder"):
    """Chapter 2's decoder: 64-128-256 ReLU units, then 784 logits as an image."""
    codings = keras.Input(shape=(latent_dim,), name="codings")
    x = codings
    for units in (64, 128, 256):
        x = layers.Dense(units, activation="relu")(x)
    logits = layers.Reshape((28, 28, 1))(layers.Dense(784)(x))
    return keras.Model(codings, logits, name=name)


# %%
dense_autoencoder = build_autoencoder(
    build_dense_encoder(latent_dim), build_dense_decoder(latent_dim),
    "dense_autoencoder")
print(f"parameters: {dense_autoencoder.count_params():,}")

# %% [markdown]
# ## Training both on the same budget
#
# Both models see the same training images for the same number of epochs, in
# mini-batches of 128, with Adam at a learning rate of 0.001. That is fewer
# epochs than chapter 2's 100: on a CPU a convolutional layer costs much more
# time per image than its small number of weights suggests, since every
# filter is applied at every position. We time each epoch.

# %%
num_epochs = helpers.per_mode(full=10, quick=2)
batch_size = 128
histories = {}
for name, model in (("dense", dense_autoencoder), ("conv", conv_autoencoder)):
    print(f"{name}:")
    histories[name] = helpers.train(model, x_train, x_train, num_epochs=num_epochs,
                                    batch_size=batch_size)

# %%
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
seconds_per_epoch = {name: history.train_seconds / num_epochs
                     for name, history in histories.items()}
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

# %%
helpers.show_images(
    np.concatenate([x_test[:10]] + [images[:10] for images in
                                     reconstructions.values()])[..., 0],
    title="Test images, then PCA-20, dense and convolutional reconstructions\n"
          "(top to bottom)",
)

# %% [markdown]
# And each model's ten worst-reconstructed test images, with their
# reconstructions below them:

# %%
for name in ("dense", "conv"):
    worst = np.argsort(errors_per_image[name])[::-1][:10]
    print(f"{name}: the worst are", ", ".join(
        helpers.FASHION_CLASSES[label] for label in y_test[worst][:5]), "...")
    helpers.show_reconstructions(
        x_test[worst, :, :, 0], reconstructions[name][worst, :, :, 0],
        title=f"The 10 test images the {name} autoencoder reconstructs worst")

# %% [markdown]
# The claim of the chapter, checked: in full mode, the convolutional autoencoder
# reconstructs the test images with a lower MSE than the dense one, with at
# most a third of its parameters, and both beat PCA with 20 components. In
# quick mode, with a couple of epochs on a few thousand images, we check only
# that both learned something: they beat the mean image.

# %% tags=["remove-cell"]
helpers.record("conv/test_mse", test_mse["conv"])
helpers.record("conv/params", params["conv"])
helpers.record("conv/dense_test_mse", test_mse["dense"])
helpers.record("conv/dense_params", params["dense"])
helpers.record("conv/pca20_test_mse", test_mse["PCA-20"])

# %% tags=["hide-input"]
assert test_mse["conv"] < mean_image_mse and test_mse["dense"] < mean_image_mse
assert 3 * params["conv"] <= params["dense"]
if not helpers.is_quick():
    assert test_mse["conv"] < test_mse["dense"] < test_mse["PCA-20"], test_mse

# %% [markdown]
# ## What the network learned
#
# The first layer's 24 filters are 3 x 3 patches of weights: too small to
# look like garments, they are detectors of edges and of bright or dark spots,
# in every direction.

# %%
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

# %%
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
# same way: the same noise, loss, optimizer and epochs. A denoiser has to keep
# the detail of the image, not compress it, so the convolutional one has no
# `Dense` bottleneck: its two strided convolutions keep 7 x 7 x 48
# values per image, and two transposed convolutions turn them back into an
# image. Both are measured as in chapter 5: the test images with noise of
# $\sigma = 0.3$ and $0.5$ drawn from the same seed, fed to the models as they
# are, and the mean PSNR against the clean images (`helpers.psnr`).

# %%
train_sigma = 0.3
denoise_epochs = helpers.per_mode(full=4, quick=1)


def compile_denoiser(model):
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy")
    return model


def build_dense_denoiser():
    """Chapter 5's denoiser: noise, 200 sigmoid codings, 784 sigmoid outputs."""
    images = keras.Input(shape=(28, 28, 1))
    x = layers.GaussianNoise(train_sigma, seed=1)(layers.Flatten()(images))
    x = layers.Dense(200, activation="sigmoid")(x)
    outputs = layers.Reshape((28, 28, 1))(layers.Dense(784, activation="sigmoid")(x))
    return compile_denoiser(keras.Model(images, outputs, name="dense_denoiser"))


def build_conv_denoiser():
    """Noise, two strided convolutions, two transposed ones, sigmoid outputs."""
    images = keras.Input(shape=(28, 28, 1))
    x = layers.GaussianNoise(train_sigma, seed=1)(images)
    for num_filters in filters:
        x = layers.Conv2D(num_filters, 3, strides=2, padding="same",
                          activation="relu")(x)
    x = layers.Conv2DTranspose(filters[0], 3, strides=2, padding="same",
                               activation="relu")(x)
    outputs = layers.Conv2DTranspose(1, 3, strides=2, padding="same",
                                     activation="sigmoid")(x)
    return compile_denoiser(keras.Model(images, outputs, name="conv_denoiser"))


denoisers = {"dense": build_dense_denoiser(), "conv": build_conv_denoiser()}
denoise_histories = {}
for name, model in denoisers.items():
    print(f"{name} denoiser, {model.count_params():,} parameters:")
    denoise_histories[name] = helpers.train(
        model, x_train, x_train, num_epochs=denoise_epochs, batch_size=batch_size)

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

# %%
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

# %% tags=["remove-cell"]
helpers.record("conv/psnr_noisy_db", psnr_table[0.3]["noisy"])
helpers.record("conv/psnr_denoised_db", psnr_table[0.3]["conv"])
helpers.record("conv/dense_psnr_denoised_db", psnr_table[0.3]["dense"])
helpers.record("conv/psnr_denoised_sigma05_db", psnr_table[0.5]["conv"])
helpers.record("conv/dense_psnr_denoised_sigma05_db", psnr_table[0.5]["dense"])
helpers.record("conv/train_seconds", sum(
    history.train_seconds for history in [*histories.values(),
                                          *denoise_histories.values()]))

# %% tags=["hide-input"]
for row in psnr_table.values():
    assert row["conv"] > row["noisy"] and row["dense"] > row["noisy"], row
if not helpers.is_quick():
    assert psnr_table[0.3]["conv"] > psnr_table[0.3]["dense"], psnr_table
    assert psnr_table[0.5]["conv"] < psnr_table[0.5]["dense"], psnr_table

# %% [markdown]
# ## On a GPU
#
# On two CPU cores this chapter stays within about five minutes by training
# 10 epochs with 24 and 48 filters. A GPU runs
# convolutions many times faster than a CPU; there the same code can afford
# what the budget ruled out here: chapter 2's 100 epochs, twice the filters
# and a third convolution in each half. Set `num_epochs` and `filters` above
# and run the chapter again.

# %% [markdown]
# ## Summary
#
# - A convolutional encoder applies small filters at every position with
#   strided `Conv2D` layers; each halves the height and width of its input.
#   A `Dense` layer on top gives the same kind of codings as a dense
#   autoencoder.
# - The decoder's `Conv2DTranspose` layers scatter a copy of their kernel for
#   every input value, $s$ pixels apart; the output size follows from the
#   kernel size, the stride and the padding (`conv_output_size`). A kernel size
#   that is not a multiple of the stride overlaps unevenly, the source of
#   checkerboard artefacts.
# - On the same test set and the same budget of epochs, the convolutional
#   autoencoder with 20 codings is compared with chapter 2's dense one and
#   with PCA: the table above gives the parameters, the test MSE and the time
#   per epoch of each.
# - Without a bottleneck, a small convolutional network beats chapter 5's dense
#   denoiser at the noise level it was trained on, but not at a stronger one.
#
# ## Exercises
#
# Each exercise has a solution below it, hidden on the website (click to show
# it), and a cell that checks your answer.
#
# 1. Replace each `Conv2DTranspose` of the decoder by `UpSampling2D(2)`
#    followed by a `Conv2D` with a 3 x 3 kernel and `padding="same"` (the last
#    one with one filter and no activation). Train this `upsampling_autoencoder`,
#    with the same encoder architecture (`build_conv_encoder`) and loss, for 3
#    epochs (it is slower per epoch), and store its test MSE in
#    `upsampling_test_mse`. Compare its training loss after 3 epochs with the
#    transposed-convolution model's at the same epoch. Do its reconstructions
#    show checkerboards?
# 2. How does the reconstruction error depend on the code size? Train the
#    convolutional autoencoder with 2, 5, 10, 20 and 40 codings for 2 epochs
#    each on the first 50,000 training images, and store in
#    `validation_mse_by_code_size` the MSE on the last 10,000 training images
#    (held out) for each code size. Plot the curve.
# 3. Which transposed convolutions with a stride of 2 turn 7 pixels into
#    exactly 14? Store in `doubling_choices` the set of `(kernel_size,
#    padding)` pairs, for kernel sizes 1 to 6 and both paddings, that do.
# 4. A convolution applies the same filter at every position. Is the
#    convolutional autoencoder more tolerant of a shifted image than the dense
#    one? Shift every test image 3 pixels to the right (`np.roll` on axis 2)
#    and store in `shifted_mse` a dict with the test MSE of the `"dense"` and
#    the `"conv"` autoencoder on the shifted images (each against the shifted
#    images themselves).

# %% [markdown]
# **Exercise 1.** A solution:

# %% tags=["solution", "hide-cell"]
def build_upsampling_decoder(latent_dim, filters):
    """Like build_conv_decoder, with UpSampling2D + Conv2D for each transposed one."""
    codings = keras.Input(shape=(latent_dim,))
    x = layers.Dense(7 * 7 * filters[-1], activation="relu")(codings)
    x = layers.Reshape((7, 7, filters[-1]))(x)
    for num_filters in filters[-2::-1]:
        x = layers.UpSampling2D(2)(x)
        x = layers.Conv2D(num_filters, 3, padding="same", activation="relu")(x)
    logits = layers.Conv2D(1, 3, padding="same")(layers.UpSampling2D(2)(x))
    return keras.Model(codings, logits, name="upsampling_decoder")


upsampling_autoencoder = build_autoencoder(
    build_conv_encoder(latent_dim, filters, name="upsampling_encoder"),
    build_upsampling_decoder(latent_dim, filters), "upsampling_autoencoder")
upsampling_epochs = min(3, num_epochs)
upsampling_history = helpers.train(upsampling_autoencoder, x_train, x_train,
                                   num_epochs=upsampling_epochs, batch_size=batch_size)
upsampled = reconstruct(upsampling_autoencoder, x_test)
upsampling_test_mse = float(np.mean((upsampled - x_test) ** 2))
print(f"training loss after {upsampling_epochs} epochs: upsampling "
      f"{upsampling_history.history['loss'][-1]:.4f}, transposed convolutions "
      f"{histories['conv'].history['loss'][upsampling_epochs - 1]:.4f}")
print(f"test MSE of the upsampling autoencoder: {upsampling_test_mse:.4f}")
helpers.show_images(
    np.concatenate([x_test[:10], reconstructions["conv"][:10], upsampled[:10]])[..., 0],
    title=f"Test images, the transposed-convolution decoder ({num_epochs} epochs) "
          f"and the\nupsampling decoder ({upsampling_epochs} epochs), top to bottom")
# Trained, both decoders learn to hide the uneven overlap; a checkerboard shows
# best early in training, or in the decoder's output before any training.

# %% tags=["self-check"]
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
    and upsampling_test_mse < mean_image_mse,
    "upsampling_autoencoder should have a decoder named 'upsampling_decoder' made "
    "of UpSampling2D and Conv2D layers (no Conv2DTranspose), trained so that it "
    "beats the mean image; upsampling_test_mse its MSE on the test images.",
)

# %% [markdown]
# **Exercise 2.** A solution:

# %% tags=["solution", "hide-cell"]
num_fit = len(x_train) * 5 // 6
x_fit, x_held_out = x_train[:num_fit], x_train[num_fit:]
validation_mse_by_code_size = {}
for code_size in (2, 5, 10, 20, 40):
    sweep_autoencoder = build_autoencoder(
        build_conv_encoder(code_size, filters), build_conv_decoder(code_size, filters),
        f"conv_autoencoder_{code_size}")
    helpers.train(sweep_autoencoder, x_fit, x_fit, num_epochs=2,
                  batch_size=batch_size)
    validation_mse_by_code_size[code_size] = float(np.mean(
        (reconstruct(sweep_autoencoder, x_held_out) - x_held_out) ** 2))
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
    and validation_mse_by_code_size[40] < validation_mse_by_code_size[2]
    < mean_image_mse,
    "validation_mse_by_code_size should map each code size (2, 5, 10, 20, 40) to "
    "the MSE of that model on the 10,000 held-out training images; more codings "
    "should reconstruct better.",
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
