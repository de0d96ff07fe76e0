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
# # A linear autoencoder rediscovers PCA
#
# The simplest autoencoder has no activation functions at all: a linear encoder
# squeezes the input into a few codings and a linear decoder maps them back.
# Trained to minimise the squared reconstruction error, it ends up doing
# exactly what principal component analysis (PCA) does. This chapter shows that
# on a small 3-D data set, as chapter 15 of Aurélien Géron's *Hands-On Machine
# Learning with Scikit-Learn and TensorFlow* does (see the references), measures
# how close the two are, and then repeats the comparison on images of clothes.

# %% [markdown]
# ## Setup
#
# When the notebook runs on its own, as in Colab, the first cell fetches the
# course's two small modules: `helpers.py` (data, figures, checks) and
# `ae_blocks.py` (the building blocks that the chapters write, collected so that
# later chapters can import them). The second cell imports what the chapter
# uses, seeds every random number generator, so that a run prints the same
# numbers every time, and prints the mode (full, or the short *quick* mode used
# for testing) and the device.

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
from keras import layers
from matplotlib.ticker import MaxNLocator
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA

import helpers

helpers.setup(chapter=1)

# %% [markdown]
# ## A 3-D data set that is really 2-D
#
# We draw 500 points that lie close to a tilted plane: two hidden coordinates
# along a curved band, mapped into 3-D by a fixed linear map, plus a little
# noise off the plane. Most of the variance lives in a 2-D subspace, and the
# question is whether an autoencoder with 2 codings finds it.

# %%
rng = np.random.default_rng(0)
num_points = 500
angles = rng.uniform(-0.5, 3 * np.pi / 2 - 0.5, num_points)
hidden = np.stack([np.cos(angles) + np.sin(angles) / 2, 0.7 * np.sin(angles)], axis=1)
hidden += 0.05 * rng.normal(size=hidden.shape)
mixing = np.array([[1.0, 0.3, 0.4], [0.2, 1.0, -0.6]])
x_data = hidden @ mixing + 0.1 * rng.normal(size=(num_points, 3))
# Centring and scaling the features is what PCA assumes and what keeps
# gradient descent well conditioned.
x_data = ((x_data - x_data.mean(axis=0)) / x_data.std(axis=0)).astype("float32")
print("data:", x_data.shape, "variance per feature:", x_data.var(axis=0).round(3))

# %% mystnb={"image": {"alt": "3-D scatter plot of the data set, with points coloured by their position along a curved band. The band lies close to a tilted plane: the 3-D data is really 2-D."}}
fig = plt.figure(figsize=(5, 4))
axis = fig.add_subplot(projection="3d")
axis.scatter(*x_data.T, c=angles, cmap="viridis", s=8)
axis.set(title="The 3-D data set", xlabel="$x_1$", ylabel="$x_2$", zlabel="$x_3$")
plt.show()

# %% [markdown]
# ## The linear autoencoder
#
# The encoder is one `Dense` layer with 2 units and no activation; the decoder
# is one `Dense` layer with 3 units and no activation. Keras, like this course,
# writes a batch as a matrix $X$ with one example per row, here of shape
# $(N, 3)$, and a `Dense` layer computes $X W + b$ with a kernel $W$ of shape
# (inputs, units). The encoder's kernel $W_e$ is therefore $3 \times 2$ and the
# decoder's $W_d$ is $2 \times 3$. The output should equal the input, so the
# loss is the mean squared error between the two, averaged over the $N$ rows
# $x_i$ of $X$ and their 3 features:
#
# $$
# \mathcal{L} = \frac{1}{3N} \sum_{i=1}^{N} \big\lVert x_i - \big((x_i W_e + b_e)
# W_d + b_d\big) \big\rVert^2 .
# $$
#
# We keep a handle on the encoder as a model of its own, because its output,
# the codings, is what we want to look at.

# %%
inputs = keras.Input(shape=(3,), name="inputs")
codings = layers.Dense(2, name="encoder")(inputs)
outputs = layers.Dense(3, name="decoder")(codings)
autoencoder = keras.Model(inputs, outputs, name="linear_autoencoder")
encoder = keras.Model(inputs, codings, name="encoder")
autoencoder.summary()

# %% [markdown]
# Gradient descent with Adam, a learning rate of $0.02$ and mini-batches of 32
# points. The learning rate decays to zero along a cosine during training, so
# that the last steps settle into the optimum instead of hovering around it.

# %%
num_epochs = helpers.per_mode(full=200, quick=40)
batch_size = 32
steps_per_epoch = math.ceil(num_points / batch_size)
learning_rate = keras.optimizers.schedules.CosineDecay(
    0.02, decay_steps=num_epochs * steps_per_epoch
)
autoencoder.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")

# %% [markdown]
# `fit` trains the model. Its own progress report prints a line per epoch, 200
# lines here, so we silence it (`verbose=0`) and pass a small callback instead.
# A Keras *callback* is an object whose methods `fit` calls at set moments: at
# the start and end of training, after every epoch, after every batch. This
# one prints the logs (the loss, and the validation loss when there is one)
# about ten times per run, and adds up how long training took. Later chapters
# import it from `ae_blocks`.

# %% tags=["definition"]
class ShortProgress(keras.callbacks.Callback):
    """Print the logs about `num_lines` times per `fit`, and add up the time."""

    def __init__(self, num_lines=10):
        super().__init__()
        self.num_lines = num_lines
        self.seconds = 0.0  # Training time over every fit it was passed to.

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()
        self.last_printed = None

    def on_epoch_end(self, epoch, logs=None):
        num_epochs = self.params["epochs"]
        self.last_epoch, self.last_logs = epoch + 1, logs or {}
        if (epoch + 1) % math.ceil(num_epochs / self.num_lines) == 0:
            self.print_line()

    def on_train_end(self, logs=None):
        # Early stopping can end training between two printed lines.
        if getattr(self, "last_epoch", None) not in (None, self.last_printed):
            self.print_line()
        self.seconds += time.perf_counter() - self.start

    def print_line(self):
        values = "  ".join(f"{name} {float(value):.4g}"
                           for name, value in self.last_logs.items())
        print(f"epoch {self.last_epoch:>3}/{self.params['epochs']}  {values}  "
              f"({time.perf_counter() - self.start:.0f} s)")
        self.last_printed = self.last_epoch


# %%
progress = ShortProgress()
history = autoencoder.fit(x_data, x_data, epochs=num_epochs, batch_size=batch_size,
                          verbose=0, callbacks=[progress])

# %% mystnb={"image": {"alt": "Training curve of the linear autoencoder on the 3-D data: mean squared error on a log scale against epoch. The loss falls steeply at first, then levels off."}}
helpers.plot_history(history, title="Linear autoencoder on 3-D data",
                     ylabel="mean squared error", logy=True)

# %% [markdown]
# ## Codings next to PCA's projection
#
# PCA finds the two orthogonal directions of largest variance and projects the
# data onto them. We fit scikit-learn's PCA on the same data and put its 2-D
# projection next to the autoencoder's codings.

# %% mystnb={"image": {"alt": "Two scatter plots side by side, the autoencoder's 2-D codings (left) and PCA's 2-D projection (right), coloured as in the 3-D plot. Both show the same curved band of points, rotated, stretched or mirrored with respect to each other."}}
pca = PCA(n_components=2).fit(x_data)
pca_codings = pca.transform(x_data)
ae_codings = encoder.predict(x_data, verbose=0)

fig, axes = plt.subplots(1, 2, figsize=(9, 4))
for axis, points, title in zip(
    axes, (ae_codings, pca_codings), ("Autoencoder codings", "PCA projection")
):
    axis.scatter(points[:, 0], points[:, 1], c=angles, cmap="viridis", s=8)
    axis.set(title=title, xlabel="coding 1", ylabel="coding 2")
    axis.set_aspect("equal", adjustable="datalim")
plt.show()

# %% [markdown]
# The two pictures show the same band of points, but in general rotated,
# stretched or mirrored with respect to each other. That is expected, and it is
# the key to what "the autoencoder performs PCA" means.
#
# ## Why a subspace and not the components
#
# For any invertible $2 \times 2$ matrix $A$, the encoder with kernel $W_e A$
# and bias $b_e A$ and the decoder with kernel $A^{-1} W_d$ give exactly the
# same reconstructions as $W_e$ and $W_d$, so the loss cannot tell them apart.
# The reconstruction error pins down only the *plane* the decoder maps into
# (shifted by $b_d$): the plane spanned by the two rows of $W_d$, its
# *directions*. The best plane for squared error is the one spanned by the top
# two principal components (Baldi and Hornik, 1989). Nothing makes the decoder's
# rows orthogonal, of unit length, or sorted by variance, as PCA's components
# are. The Gram matrix of the decoder's directions shows it:

# %%
decoder_kernel = autoencoder.get_layer("decoder").kernel.numpy()  # shape (2, 3)
print("decoder directions (rows):\n", decoder_kernel.round(3))
print("their Gram matrix (identity for PCA's components):\n",
      (decoder_kernel @ decoder_kernel.T).round(3))

# %% [markdown]
# So we compare subspaces. The **principal angles** between two planes through
# the origin are the angles between their best-aligned pairs of directions; they
# are all zero exactly when the planes coincide. We also compare the mean
# squared reconstruction errors, since the best plane minimises that error.

# %%
angles_deg = np.degrees(subspace_angles(decoder_kernel.T, pca.components_.T))
ae_mse = float(np.mean((autoencoder.predict(x_data, verbose=0) - x_data) ** 2))
pca_mse = float(np.mean((pca.inverse_transform(pca_codings) - x_data) ** 2))
mean_mse = float(np.mean(x_data.var(axis=0)))
print(f"principal angles: {np.round(angles_deg, 4)} degrees")
print(f"reconstruction MSE: autoencoder {ae_mse:.6f}, PCA {pca_mse:.6f}, "
      f"ratio {ae_mse / pca_mse:.4f} (predicting the mean: {mean_mse:.4f})")

# %% [markdown]
# The claim of the chapter, checked: the decoder's plane lies within one degree
# of PCA's, and its reconstruction error is within 1 % of PCA's, the smallest
# error any 2-D linear projection can reach. The course asserts both in full
# mode. In quick mode training is cut short, so we only check that the
# autoencoder learned something: it must beat the trivial reconstruction that
# predicts the mean point.

# %% tags=["hide-input"]
assert ae_mse < 0.5 * mean_mse, "the autoencoder did not learn the plane"
helpers.claim(
    "On a 3-D point cloud, the linear autoencoder's plane lies within 1 degree "
    "of PCA's.",
    measured=("largest principal angle", angles_deg.max()),
    reference=("the bound", 1.0), holds=angles_deg.max() < 1, fmt=".3f",
    unit=" degrees",
)
helpers.claim(
    "Its reconstruction error is within 1 % of PCA's, the smallest any plane "
    "can give.",
    measured=("autoencoder MSE", ae_mse), reference=("PCA with 2 components", pca_mse),
    holds=ae_mse <= 1.01 * pca_mse, fmt=".6f",
)

# %% [markdown]
# ## The same comparison on Fashion-MNIST
#
# Does this hold for real data in many dimensions? We train a linear autoencoder
# with 20 codings on Fashion-MNIST, 28 x 28 grey-scale images of clothes
# flattened into 784 pixel values in $[0, 1]$, and compare it with PCA with 20
# components fitted on the same training images.

# %%
(x_train, y_train), (x_test, y_test) = helpers.load_fashion_mnist(
    num_train=helpers.per_mode(full=60_000, quick=6_000),
    num_test=helpers.per_mode(full=10_000, quick=2_000),
)

# %% [markdown]
# Nothing changes in the model but its sizes: 784 inputs, 20 linear codings,
# 784 linear outputs, and the mean squared error.

# %%
latent_dim = 20
image_inputs = keras.Input(shape=(784,), name="pixels")
image_codings = layers.Dense(latent_dim, name="encoder")(image_inputs)
image_outputs = layers.Dense(784, name="decoder")(image_codings)
linear_image_ae = keras.Model(image_inputs, image_outputs, name="linear_image_ae")
linear_image_ae.summary()

# %% [markdown]
# We train on mini-batches of 256 images with Adam, again with a learning rate
# that decays along a cosine.

# %%
image_epochs = helpers.per_mode(full=10, quick=2)
image_batch_size = 256
image_schedule = keras.optimizers.schedules.CosineDecay(
    2e-3, decay_steps=image_epochs * math.ceil(len(x_train) / image_batch_size)
)
linear_image_ae.compile(optimizer=keras.optimizers.Adam(image_schedule), loss="mse")

# %%
image_history = linear_image_ae.fit(
    x_train, x_train, epochs=image_epochs, batch_size=image_batch_size,
    validation_data=(x_test, x_test), verbose=0, callbacks=[progress],
)

# %% mystnb={"image": {"alt": "Training and test mean squared error of the linear autoencoder on Fashion-MNIST against epoch: both curves fall as training proceeds."}}
helpers.plot_history(image_history, title="Linear autoencoder on Fashion-MNIST",
                     ylabel="mean squared error")

# %% [markdown]
# PCA with 20 components on the same training images gives the best possible
# linear reconstruction with 20 numbers per image. We measure both on the test
# set, along with the error of always predicting the mean training image.

# %%
ae_test = linear_image_ae.predict(x_test, verbose=0)
pca_test = helpers.pca_reconstruct(x_train, x_test, latent_dim)
fashion_ae_mse = float(np.mean((ae_test - x_test) ** 2))
fashion_pca_mse = float(np.mean((pca_test - x_test) ** 2))
fashion_mean_mse = float(np.mean((x_train.mean(axis=0) - x_test) ** 2))
print(f"test MSE: linear autoencoder {fashion_ae_mse:.5f}, PCA {fashion_pca_mse:.5f}, "
      f"ratio {fashion_ae_mse / fashion_pca_mse:.3f}; "
      f"mean image {fashion_mean_mse:.5f}")

# %% mystnb={"image": {"alt": "Three rows of ten images: Fashion-MNIST test images (top), the linear autoencoder's reconstructions (middle) and PCA's with 20 components (bottom). The two rows of reconstructions look alike, blurry images that keep only the coarse shape of each garment."}}
helpers.show_images(
    np.concatenate([x_test[:10], np.clip(ae_test[:10], 0, 1),
                    np.clip(pca_test[:10], 0, 1)]),
    title="Test images (top), linear autoencoder (middle), PCA with 20 components "
          "(bottom)",
)

# %% [markdown]
# The reconstructions look alike: blurry, because 20 linear directions can keep
# only the coarse shape of a garment. The principal angles between the two
# 20-D subspaces say how far the subspaces agree. The next cell computes them
# and, for each of PCA's first 40 directions, the share of it that lies in the
# decoder's subspace: for PCA's own subspace that share would be 1 for the
# first 20 directions and 0 for the others.

# %% mystnb={"image": {"alt": "Two bar charts. Top: the principal angles between the autoencoder's and PCA's 20-D subspaces, sorted; most are near zero and only the last few are large. Bottom: for each of PCA's first 40 directions, the share of it in the decoder's subspace, about 1 for the leading directions and partial only near the cut after direction 20 (dotted line), with PCA's variance per direction as a grey line on a log scale."}}
pca_40 = PCA(n_components=40, svd_solver="full").fit(x_train)
decoder_rows = linear_image_ae.get_layer("decoder").kernel.numpy()  # (20, 784)
image_angles = np.degrees(
    subspace_angles(decoder_rows.T, pca_40.components_[:latent_dim].T)
)
# Orthonormal columns that span the decoder's subspace.
decoder_basis, _ = np.linalg.qr(decoder_rows.T)
share_in_subspace = np.sum((pca_40.components_ @ decoder_basis) ** 2, axis=1)

fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.5, 6), constrained_layout=True)
top.bar(np.arange(1, latent_dim + 1), np.sort(image_angles))
top.set(title="Principal angles between the autoencoder's and PCA's subspaces",
        xlabel="angle index (sorted)", ylabel="angle (degrees)")
component_numbers = np.arange(1, len(share_in_subspace) + 1)
bottom.bar(component_numbers, share_in_subspace)
bottom.axvline(latent_dim + 0.5, color="black", linestyle=":")
bottom.set(title="PCA's directions, as far as the decoder's subspace holds them",
           xlabel="principal component", ylabel="share in the subspace",
           ylim=(0, 1.05))
for axis in (top, bottom):
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
variance_axis = bottom.twinx()
variance_axis.plot(component_numbers, pca_40.explained_variance_, color="grey",
                   marker=".")
variance_axis.set(yscale="log", ylabel="variance (log scale)")
plt.show()

# %% [markdown]
# Most angles are below a degree, but the largest few are not: the largest is
# 35<!-- linear_pca/fashion_max_angle_deg:.0f --> degrees. The lower panel shows
# where they come from. The decoder's subspace holds PCA's leading directions
# entirely. Only near the cut (the dotted line) does it hold just part of some
# of PCA's directions, and make up for them with part of the first directions
# beyond the cut. Along all of these the variance (the grey line) is nearly
# the same.
#
# That is why these angles stay large. Mixing the 20 directions among
# themselves leaves the loss unchanged, as in the 3-D example, but it also
# leaves the subspace, and so the angles, unchanged. What changes the angles is
# tilting the subspace away from a direction inside it towards one outside it.
# A tilt by an angle $\theta$ from a direction with variance $\lambda_i$ towards
# one with variance $\lambda_j$ raises the error by
# $(\lambda_i - \lambda_j) \sin^2 \theta$ (summed over the pixels). Near the cut
# $\lambda_i - \lambda_j$ is small, so the loss is nearly flat along such tilts,
# and its gradient gives gradient descent little reason to undo them. The next
# cell measures how flat: it projects the training images onto the decoder's
# subspace and onto PCA's, and compares both errors with the autoencoder's own.

# %%
centred_train = x_train - x_train.mean(axis=0)


def projection_mse(basis):
    """MSE of projecting the centred training images onto span(basis columns)."""
    return float(np.mean((centred_train - centred_train @ basis @ basis.T) ** 2))


subspace_mse = projection_mse(decoder_basis)
pca_subspace_mse = projection_mse(pca_40.components_[:latent_dim].T)
ae_train_mse = float(np.mean(
    (linear_image_ae.predict(x_train, batch_size=2048, verbose=0) - x_train) ** 2
))
print(f"training MSE: projection onto PCA's subspace {pca_subspace_mse:.6f}, "
      f"onto the decoder's subspace {subspace_mse:.6f} "
      f"(+{subspace_mse / pca_subspace_mse - 1:.2%}), "
      f"the autoencoder's reconstructions {ae_train_mse:.6f} "
      f"(+{ae_train_mse / pca_subspace_mse - 1:.2%})")

# %% [markdown]
# Tilted as it is, the decoder's subspace loses only
# 0.1%<!-- linear_pca/fashion_subspace_excess:.1% --> more than PCA's. The
# autoencoder's own reconstructions of the training images are
# 0.4%<!-- linear_pca/fashion_train_excess:.1% --> worse than PCA's: most of its
# small gap to PCA comes from reconstructions that are not yet the projections
# onto its own subspace, not from the tilt. Some angles are large, but the
# error hardly depends on them.

# %% [markdown]
# The claim for Fashion-MNIST, checked: the linear autoencoder's test error is
# within 2 % of PCA's. In quick mode it must beat the mean image.

# %% tags=["hide-input"]
assert fashion_ae_mse < fashion_mean_mse, "worse than predicting the mean image"
helpers.claim(
    "On Fashion-MNIST, with 20 codings, its test error is within 2 % of PCA's.",
    measured=("autoencoder test MSE", fashion_ae_mse),
    reference=("PCA-20", fashion_pca_mse),
    holds=fashion_ae_mse <= 1.02 * fashion_pca_mse, fmt=".4f",
)

# %% tags=["remove-cell"]
helpers.record("linear_pca/principal_angle_deg", float(angles_deg.max()))
helpers.record("linear_pca/mse_ratio", ae_mse / pca_mse)
helpers.record("linear_pca/ae_mse", ae_mse)
helpers.record("linear_pca/pca_mse", pca_mse)
helpers.record("linear_pca/fashion_mse_ratio", fashion_ae_mse / fashion_pca_mse)
helpers.record("linear_pca/fashion_ae_test_mse", fashion_ae_mse)
helpers.record("linear_pca/fashion_pca20_test_mse", fashion_pca_mse)
helpers.record("linear_pca/fashion_max_angle_deg", float(image_angles.max()))
helpers.record("linear_pca/fashion_subspace_excess",
               subspace_mse / pca_subspace_mse - 1)
helpers.record("linear_pca/fashion_train_excess", ae_train_mse / pca_subspace_mse - 1)
helpers.record("linear_pca/train_seconds", progress.seconds)

# %% [markdown]
# ## Summary
#
# - An autoencoder with linear layers and a squared-error loss learns the same
#   subspace as PCA: on the 3-D data the planes agree to a fraction of a degree
#   and the reconstruction errors to within 1 %.
# - It learns the subspace, not PCA's components: any invertible change of basis
#   of the codings gives the same reconstructions, so the codings come out
#   rotated and stretched.
# - On Fashion-MNIST, after a few epochs, 20 linear codings reconstruct almost
#   exactly as well as PCA with 20 components, although their subspace is still
#   tilted from PCA's near the 20th component. There neighbouring directions
#   have nearly the same variance, so a tilt costs almost no error and the loss
#   barely pushes against it.
# - Nonlinear layers are what let an autoencoder do better than PCA; that is
#   the next chapter.
#
# ## Exercises
#
# Each exercise has a solution below it, hidden on the website (click to show
# it), and a cell that checks your answer.
#
# 1. Build `tanh_autoencoder`, the 3-D autoencoder with `activation="tanh"` in
#    its encoder, train it the same way and store its reconstruction MSE on
#    `x_data` in `tanh_mse`. Can a nonlinear encoder beat PCA when the decoder
#    stays linear? Why, or why not?
# 2. The decoder's directions are not PCA's, but the plane is. Orthonormalise
#    the decoder's directions with `np.linalg.qr` and build the $3 \times 3$
#    matrix `ae_projector` that projects onto the decoder's plane. Compare it with
#    PCA's projector `pca.components_.T @ pca.components_`.
# 3. Compute the top-2 principal directions of `x_data` yourself from its
#    singular value decomposition, as the rows of a $2 \times 3$ array
#    `svd_components`. Check that they span the same plane as scikit-learn's.
# 4. Find the 10 test images of Fashion-MNIST that the linear autoencoder
#    reconstructs worst (largest MSE per image), store their indices in
#    `worst_indices` and show them with their class names. What do they have in
#    common?

# %% [markdown]
# **Exercise 1.** A solution:

# %% tags=["solution", "hide-cell"]
tanh_inputs = keras.Input(shape=(3,))
tanh_codings = layers.Dense(2, activation="tanh")(tanh_inputs)
tanh_autoencoder = keras.Model(tanh_inputs, layers.Dense(3)(tanh_codings))
tanh_autoencoder.compile(
    optimizer=keras.optimizers.Adam(
        keras.optimizers.schedules.CosineDecay(
            0.02, decay_steps=num_epochs * steps_per_epoch
        )
    ),
    loss="mse",
)
tanh_autoencoder.fit(x_data, x_data, epochs=num_epochs, batch_size=batch_size,
                     verbose=0)
tanh_mse = float(np.mean((tanh_autoencoder.predict(x_data, verbose=0) - x_data) ** 2))
print(f"tanh encoder: MSE {tanh_mse:.5f}, ratio to PCA {tanh_mse / pca_mse:.3f}")
# The linear decoder maps any codings into a plane, and no plane reconstructs
# better than PCA's; the squashing tanh only makes the codings harder to use.

# %% tags=["self-check"]
helpers.self_check(
    "Exercise 1",
    lambda: [(layer.units, layer.activation) for layer in tanh_autoencoder.layers
             if isinstance(layer, layers.Dense)]
    == [(2, keras.activations.tanh), (3, keras.activations.linear)]
    and np.isclose(tanh_mse, np.mean(
        (tanh_autoencoder.predict(x_data, verbose=0) - x_data) ** 2), rtol=1e-4)
    and tanh_mse < 0.5 * mean_mse,
    "tanh_autoencoder should be a trained 3-2-3 autoencoder with a tanh encoder "
    "and a linear decoder; tanh_mse the mean squared error of its "
    "reconstructions of x_data.",
)

# %% [markdown]
# **Exercise 2.** A solution:

# %% tags=["solution", "hide-cell"]
basis, _ = np.linalg.qr(decoder_kernel.T)  # orthonormal columns spanning the plane
ae_projector = basis @ basis.T
pca_projector = pca.components_.T @ pca.components_
print("largest difference between the projectors:",
      np.abs(ae_projector - pca_projector).max().round(4))
# The projectors agree, since they depend only on the plane; the basis vectors
# themselves can still differ from PCA's by any rotation within the plane.

# %% tags=["self-check"]
helpers.self_check(
    "Exercise 2",
    lambda: np.shape(ae_projector) == (3, 3)
    and np.allclose(ae_projector, np.linalg.pinv(decoder_kernel) @ decoder_kernel,
                    atol=1e-5),
    "ae_projector should be the 3 x 3 matrix that projects any point orthogonally "
    "onto the plane spanned by the decoder's directions (the rows of "
    "decoder_kernel), built from an orthonormal basis of that plane.",
)

# %% [markdown]
# **Exercise 3.** A solution:

# %% tags=["solution", "hide-cell"]
_, singular_values, v_transposed = np.linalg.svd(x_data - x_data.mean(axis=0))
svd_components = v_transposed[:2]
print("singular values:", singular_values.round(2))
print("angles to scikit-learn's plane (degrees):",
      np.degrees(subspace_angles(svd_components.T, pca.components_.T)).round(6))

# %% tags=["self-check"]
helpers.self_check(
    "Exercise 3",
    lambda: svd_components.shape == (2, 3)
    and np.degrees(subspace_angles(svd_components.T, pca.components_.T)).max()
    < 1e-3,
    "svd_components should be a 2 x 3 array whose rows are the two directions "
    "of largest variance, taken from np.linalg.svd.",
)

# %% [markdown]
# **Exercise 4.** A solution:

# %% mystnb={"image": {"alt": "The ten Fashion-MNIST test images that the linear autoencoder reconstructs worst, each labelled with its class. They are mostly garments with fine, high-contrast patterns such as prints, stripes or text."}} tags=["solution", "hide-cell"]
errors_per_image = np.mean((ae_test - x_test) ** 2, axis=1)
worst_indices = np.argsort(errors_per_image)[-10:][::-1]
helpers.show_images(
    x_test[worst_indices],
    labels=[helpers.FASHION_CLASSES[y_test[i]] for i in worst_indices],
    title="The 10 test images the linear autoencoder reconstructs worst",
)
# They are mostly garments with fine, high-contrast patterns (prints, stripes,
# text): detail that 20 linear directions average away.

# %% tags=["self-check"]
helpers.self_check(
    "Exercise 4",
    lambda: len(set(np.asarray(worst_indices).tolist())) == len(worst_indices) == 10
    and np.mean((ae_test - x_test) ** 2, axis=1)[worst_indices].min()
    >= np.sort(np.mean((ae_test - x_test) ** 2, axis=1))[-10],
    "worst_indices should hold the indices (into x_test) of the 10 images with "
    "the largest mean squared reconstruction error.",
)
