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
# # Denoising, dropout and sparse autoencoders
#
# An autoencoder with many codings could get away with copying its input. Two
# kinds of constraint make it learn something useful instead: corrupt its
# inputs and ask for the clean images back (denoising and dropout
# autoencoders), or penalise its codings so that few units are active at a
# time (sparse autoencoders). This chapter trains all of them on the same
# small network, measures what each constraint buys, and looks at the
# features they learn. A last section puts dropout where it began, inside a
# deeper network that overfits.

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
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from keras import layers, ops

import helpers
from ae_blocks import ShortProgress

helpers.setup(chapter=5)

# %% [markdown]
# ## Data
#
# Fashion-MNIST images, flattened into 784 pixel values in $[0, 1]$. No
# labels are needed in this chapter.

# %%
(x_train, _), (x_test, _) = helpers.load_fashion_mnist(
    num_train=helpers.per_mode(full=60_000, quick=6_000),
    num_test=helpers.per_mode(full=10_000, quick=2_000),
)

# %% [markdown]
# ## One network for every variant
#
# Every autoencoder of the chapter is the same network: 784 pixels, one coding
# layer of sigmoid units, and 784 sigmoid outputs, trained with the binary
# cross-entropy between the input pixels and the reconstructed ones. The
# sigmoid keeps each coding between 0 and 1, which is what the sparsity
# penalty below needs: a unit with activation near 0 is off, near 1 is on.
# The variants differ by one optional layer: a `corruption` applied to the
# inputs, or a `penalty` applied to the codings. A trained model runs with
# `predict`, in batches of 2,048 images rather than its default of 32, which is
# faster for images this small.
#
# We use 200 coding units, trained for 4 epochs with Adam at a learning rate of
# $0.003$ on mini-batches of 128 images. With 200 units the network could pass a
# lot of detail straight through, noise included, which is what makes the
# constraints matter. The number of units also sets how heavily the sparsity
# penalty weighs, as we will see; and 4 epochs are enough for every variant to
# settle on CPU in a few minutes.

# %%
coding_units = 200
num_epochs = helpers.per_mode(full=4, quick=2)
batch_size = 128


def make_autoencoder(name, corruption=None, penalty=None):
    """Build and compile the chapter's autoencoder, with optional extra layers."""
    inputs = keras.Input(shape=(784,), name="pixels")
    corrupted = corruption(inputs) if corruption is not None else inputs
    codings = layers.Dense(coding_units, activation="sigmoid",
                           name="codings")(corrupted)
    if penalty is not None:
        codings = penalty(codings)
    outputs = layers.Dense(784, activation="sigmoid", name="reconstruction")(codings)
    autoencoder = keras.Model(inputs, outputs, name=name)
    autoencoder.compile(optimizer=keras.optimizers.Adam(3e-3),
                        loss="binary_crossentropy", metrics=["mse"],
                        steps_per_execution=32)
    return autoencoder


def encoder_of(autoencoder):
    """The model from the pixels to the coding layer's activations."""
    return keras.Model(autoencoder.input, autoencoder.get_layer("codings").output)


# %% [markdown]
# The plain autoencoder, with no corruption and no penalty, is the reference
# for every other variant.

# %%
plain_autoencoder = make_autoencoder("plain")
plain_autoencoder.summary()

# %% [markdown]
# Every model trains with `fit` on chapter 2's `tf.data` pipeline: it pairs each
# image with itself as its target, shuffles the pairs anew every epoch and cuts
# them into batches. One pipeline serves every model of the chapter, and one
# `ShortProgress` (chapter 1) prints a few lines per run and adds up the
# training time.

# %%
train_dataset = (
    tf.data.Dataset.from_tensor_slices((x_train, x_train))
    .shuffle(len(x_train))
    .batch(batch_size)
)
progress = ShortProgress()
plain_history = plain_autoencoder.fit(train_dataset, epochs=num_epochs, verbose=0,
                                      callbacks=[progress])

# %% [markdown]
# ## Denoising: Gaussian noise on the inputs
#
# A denoising autoencoder receives a corrupted image $\tilde x = x + \epsilon$,
# $\epsilon \sim \mathcal{N}(0, \sigma^2 I)$, and is trained to output the
# clean image $x$. The noise goes on the inputs only; the targets stay clean.
# To undo noise it has never seen before, the network has to learn what
# clothes look like rather than copy pixels (Vincent et al., 2008, in the
# references).
#
# Keras' `GaussianNoise` layer does exactly this, and only while training.
# Every Keras layer receives a `training` argument: `fit` calls the model with
# `training=True`, while `predict`, `evaluate` and a plain call use
# `training=False`, and in that case `GaussianNoise` and `Dropout` pass their
# inputs through unchanged. So the same model trains on noisy images and
# reconstructs whatever it is given afterwards, with no switch to flip
# (TensorFlow 1 code, like Géron's, had to feed an `is_training` flag by
# hand).
#
# How much noise? Géron's code adds `tf.random_normal(tf.shape(X))` to the
# inputs: noise with a standard deviation of 1, as large as the whole range of
# a pixel, which runs from 0 to 1. Long Long's chapter writes
# $\epsilon \sim \mathcal{N}(0, \text{var})$ and leaves the variance open.
# We train with $\sigma = 0.3$, under which the garments stay visible, as the
# figures below show; exercise 4 measures the denoiser at levels from 0.1 to
# 0.8.

# %%
train_sigma = 0.3
gaussian_autoencoder = make_autoencoder(
    "gaussian_denoising", corruption=layers.GaussianNoise(train_sigma, seed=1))
gaussian_history = gaussian_autoencoder.fit(train_dataset, epochs=num_epochs,
                                            verbose=0, callbacks=[progress])

# %% [markdown]
# ## Dropout on the inputs
#
# A second corruption sets a random 30 % of the pixels to zero, with Keras'
# `Dropout(0.3)` as the first layer (Géron keeps each pixel with probability
# 0.7). Keras' dropout also divides the pixels it keeps by 0.7, so
# that the average input stays the same; at inference it does nothing.

# %%
drop_rate = 0.3
dropout_autoencoder = make_autoencoder(
    "dropout_denoising", corruption=layers.Dropout(drop_rate, seed=2))
dropout_history = dropout_autoencoder.fit(train_dataset, epochs=num_epochs,
                                          verbose=0, callbacks=[progress])

# %% [markdown]
# ## Measuring denoising: PSNR
#
# The peak signal-to-noise ratio compares an image $\hat x$ with its clean
# version $x$, both with pixel values up to 1:
#
# $$
# \mathrm{PSNR}(x, \hat x) = 10 \log_{10} \frac{1}{\frac{1}{n}\sum_{i=1}^n
# (x_i - \hat x_i)^2} \quad \text{dB}.
# $$
#
# Higher is better; every halving of the squared error adds about 3 dB.
# `helpers.psnr` computes it image by image and averages over the batch; the
# next chapters measure their denoisers with it too.


# %% [markdown]
# We corrupt the test images with two noise levels, $\sigma = 0.3$ (the
# training level) and $\sigma = 0.5$ (stronger than anything seen in
# training). The models receive the noisy images as they are, like in
# training; for the pictures and for the PSNR of the noisy images themselves we
# clip them to $[0, 1]$, which can only make them look better.

# %%
noise_rng = np.random.default_rng(0)
test_sigmas = (0.3, 0.5)
noisy_test = {sigma: x_test + sigma * noise_rng.normal(size=x_test.shape).astype(
    "float32") for sigma in test_sigmas}
denoisers = {"plain": plain_autoencoder, "Gaussian": gaussian_autoencoder,
             "dropout": dropout_autoencoder}
psnr_table = {}
for sigma in test_sigmas:
    psnr_table[sigma] = {
        "noisy": helpers.psnr(x_test, np.clip(noisy_test[sigma], 0, 1))}
    for name, model in denoisers.items():
        psnr_table[sigma][name] = helpers.psnr(
            x_test, model.predict(noisy_test[sigma], batch_size=2048, verbose=0))
print("PSNR (dB) on the test set; columns: the noisy input, then each model's "
      "output")
print(f"{'sigma':>5} " + " ".join(f"{column:>9}" for column in psnr_table[0.3]))
for sigma, row in psnr_table.items():
    print(f"{sigma:>5} " + " ".join(f"{value:>9.2f}" for value in row.values()))

# %% mystnb={"image": {"alt": "Four rows of ten images: test images with Gaussian noise of sigma 0.3 (top), the plain autoencoder's output, the Gaussian denoiser's output, and the clean images (bottom). Both autoencoders remove much of the noise; the denoiser's output is the cleaner."}}
helpers.show_images(
    np.concatenate([np.clip(noisy_test[0.3][:10], 0, 1),
                    plain_autoencoder.predict(noisy_test[0.3][:10], verbose=0),
                    gaussian_autoencoder.predict(noisy_test[0.3][:10], verbose=0),
                    x_test[:10]]),
    title="Noisy test images (sigma 0.3), the plain autoencoder's output,\n"
          "the Gaussian denoiser's output, and the clean images (top to bottom)",
)

# %% [markdown]
# In full mode the noisy images at $\sigma = 0.3$ have a PSNR of about
# 12.8<!-- denoising/psnr_noisy_db:.1f --> dB, and the Gaussian denoiser brings
# them to about 19.4<!-- denoising/psnr_denoised_db:.1f --> dB: a gain of about
# 7<!-- denoising/psnr_gain_db:.0f --> dB. The plain autoencoder removes much of
# the noise too, reaching about 18<!-- denoising/psnr_plain_db:.0f --> dB: it
# can only output combinations of its 200 learned features, and pixel noise is
# not one of them. But nothing in its training asks it to remove noise: it was
# trained to reproduce whatever it is given. At $\sigma = 0.5$, stronger than
# any noise the denoiser saw in training, the gap widens: about
# 15.8<!-- denoising/psnr_plain_sigma05_db:.1f --> dB for the plain
# autoencoder, 17.7<!-- denoising/psnr_denoised_sigma05_db:.1f --> dB for the
# denoiser. The dropout autoencoder, trained on another corruption, lands in
# between.
#
# The dropout autoencoder was trained on a different corruption, missing
# pixels. We test it on that too: a random 30 % of each test image set to zero
# (given to the model divided by 0.7, the way Keras' dropout scaled the pixels
# it kept during training).

# %%
mask = noise_rng.random(size=x_test.shape) >= drop_rate
masked_test = (x_test * mask).astype("float32")
masked_psnr = {"masked": helpers.psnr(x_test, masked_test)}
for name, model in denoisers.items():
    masked_psnr[name] = helpers.psnr(x_test, model.predict(
        masked_test / (1 - drop_rate), batch_size=2048, verbose=0))
print("PSNR (dB) with 30 % of the pixels missing:",
      ", ".join(f"{name} {value:.2f}" for name, value in masked_psnr.items()))

# %% mystnb={"image": {"alt": "Three rows of ten images: test images with 30 % of their pixels set to zero (top), the dropout autoencoder's output (middle) and the clean images (bottom). The dropout autoencoder fills in the missing pixels and restores each garment's shape."}}
helpers.show_images(
    np.concatenate([
        masked_test[:10],
        dropout_autoencoder.predict(masked_test[:10] / (1 - drop_rate), verbose=0),
        x_test[:10]]),
    title="Test images with 30 % of the pixels missing, the dropout "
          "autoencoder's output,\nand the clean images (top to bottom)",
)

# %% [markdown]
# On missing pixels the dropout autoencoder restores best in full mode (about
# 19.5<!-- denoising/psnr_unmasked_db:.1f --> dB, against
# 13<!-- denoising/psnr_masked_db:.0f --> dB for the masked images), with the
# Gaussian denoiser close behind and the plain autoencoder last: each
# corruption teaches some robustness to the other. The claims of this part,
# checked: in full mode the denoiser gains at least 5 dB at $\sigma = 0.3$ and
# beats the plain autoencoder at both noise levels; in quick mode, that it
# removes noise at all.

# %% tags=["hide-input"]
psnr_noisy, psnr_denoised = psnr_table[0.3]["noisy"], psnr_table[0.3]["Gaussian"]
assert psnr_denoised > psnr_noisy + 1, "the denoiser did not remove noise"
assert masked_psnr["dropout"] > masked_psnr["masked"]
helpers.claim(
    "At noise level 0.3, the denoising autoencoder's outputs gain at least 5 dB "
    "of PSNR over the noisy test images.",
    measured=("denoised", psnr_denoised),
    reference=("the noisy images (to be beaten by 5 dB)", psnr_noisy),
    holds=psnr_denoised >= psnr_noisy + 5, fmt=".2f", unit=" dB",
)
helpers.claim(
    "It also restores noisy images better than the plain autoencoder, at noise "
    "levels 0.3 and 0.5 (the figures are those at 0.3).",
    measured=("denoised", psnr_denoised),
    reference=("the plain autoencoder", psnr_table[0.3]["plain"]),
    holds=all(row["Gaussian"] > row["plain"] for row in psnr_table.values()),
    fmt=".2f", unit=" dB",
)

# %% [markdown]
# ## Sparse autoencoder: a KL-divergence penalty
#
# A sparse autoencoder keeps most coding units off most of the time. For each
# unit $j$ we measure its mean activation $\hat q_j$ over a batch, and compare
# it with a small target $p$ (here 0.1: each unit active for about one image in
# ten). The penalty is the Kullback-Leibler divergence between two coin flips,
# one with probability $p$ and one with probability $\hat q_j$:
#
# $$
# D_{\mathrm{KL}}(p \,\|\, \hat q_j) = p \log \frac{p}{\hat q_j}
# + (1 - p) \log \frac{1 - p}{1 - \hat q_j},
# $$
#
# summed over the units and weighted by $\beta$ (here 0.2), then added to the
# reconstruction loss. It is zero when $\hat q_j = p$ and grows without bound as
# $\hat q_j$ approaches 0 or 1, a much stronger push than a squared error would
# give. We clip $\hat q_j$ into $[10^{-7}, 1 - 10^{-7}]$ so that a unit that is
# exactly 0 or 1 on a whole batch gives a large but finite penalty, not NaN.
#
# The penalty is a function of a whole batch, so we write it as a layer that
# passes its inputs through unchanged and adds the penalty with `add_loss`.
# Keras also lets a `Dense` layer take an `activity_regularizer`, but recent
# Keras versions divide whatever it returns by the batch size (it is meant for
# penalties summed over examples), while earlier Keras 3 versions did not; a
# layer with `add_loss` behaves the same everywhere. Registering the class as
# serialisable and giving it a `get_config` lets Keras save and load models
# that contain it.

# %% tags=["definition"]
def kl_divergence(target, mean_activation, epsilon=1e-7):
    """KL divergence between Bernoulli(target) and Bernoulli(mean_activation)."""
    mean_activation = ops.clip(mean_activation, epsilon, 1.0 - epsilon)
    return (target * ops.log(target / mean_activation)
            + (1.0 - target) * ops.log((1.0 - target) / (1.0 - mean_activation)))


@keras.saving.register_keras_serializable(package="ae_course")
class KLSparsity(layers.Layer):
    """Pass activations through; add weight * sum_j KL(target || batch mean_j)."""

    def __init__(self, target=0.1, weight=0.2, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 < target < 1.0:
            raise ValueError(f"target must lie strictly between 0 and 1, got {target}")
        if weight < 0:
            raise ValueError(f"weight must be non-negative, got {weight}")
        self.target = float(target)
        self.weight = float(weight)

    def call(self, activations):
        mean_activation = ops.mean(activations, axis=0)
        self.add_loss(self.weight
                      * ops.sum(kl_divergence(self.target, mean_activation)))
        return activations

    def get_config(self):
        return {**super().get_config(), "target": self.target, "weight": self.weight}


# %% [markdown]
# We take Géron's target of 0.1 and weight of 0.2, but not the scale of his
# loss. His sparse autoencoder sums the cross-entropy over every pixel of every
# image in the batch (`tf.reduce_sum`), while Keras' `binary_crossentropy`
# averages it over both. The KL penalty, a function of the batch's mean
# activations, is the same in both. So for batches of $B$ images our
# reconstruction term is his divided by $784 B$, and the weight 0.2 makes the
# penalty $784 B$ times heavier against the reconstruction than in his set-up:
# about 100,000 times for our $B = 128$. Keeping his balance with a mean
# cross-entropy would take a weight of $0.2 / (784 B)$, about
# $2 \times 10^{-6}$.
#
# We keep 0.2, and here it weighs a lot. The penalty is summed over the 200
# units while the cross-entropy is a mean over pixels: a unit whose mean
# activation drifts from 0.1 to $0.15$ adds
# $0.2 \cdot D_{\mathrm{KL}}(0.1 \,\|\, 0.15) \approx 0.002$ to the loss, and
# 200 such units add about $0.44$, more than the whole cross-entropy (about
# 0.3<!-- sparse/plain_cross_entropy:.1f --> at the end of the plain
# autoencoder's training). So the optimiser cannot let the units' means drift
# far from the target. With far fewer units the penalty would weigh less
# against the reconstruction, and the means could stray further.

# %%
sparsity_target, sparsity_weight = 0.1, 0.2
sparse_autoencoder = make_autoencoder(
    "kl_sparse", penalty=KLSparsity(sparsity_target, sparsity_weight,
                                    name="kl_sparsity"))
sparse_autoencoder.summary()

# %%
sparse_history = sparse_autoencoder.fit(train_dataset, epochs=num_epochs,
                                        verbose=0, callbacks=[progress])

# %% [markdown]
# The penalty is part of the model, so `fit` minimises it and `evaluate`
# reports it inside the loss. Saving to a `.keras` file and loading it back
# gives the same model, penalty included:

# %% tags=["hide-input"]
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "kl_sparse.keras"
    sparse_autoencoder.save(path)
    reloaded = keras.saving.load_model(path)
original_loss = sparse_autoencoder.evaluate(x_test, x_test, verbose=0)[0]
reloaded_loss = reloaded.evaluate(x_test, x_test, verbose=0)[0]
print(f"test loss (cross-entropy + KL): original {original_loss:.5f}, "
      f"reloaded {reloaded_loss:.5f}; penalty layer:",
      reloaded.get_layer("kl_sparsity").get_config()["target"],
      reloaded.get_layer("kl_sparsity").get_config()["weight"])
assert np.isclose(original_loss, reloaded_loss, rtol=1e-5)
assert np.allclose(reloaded.predict(x_test, batch_size=2048, verbose=0),
                   sparse_autoencoder.predict(x_test, batch_size=2048, verbose=0),
                   atol=1e-6)

# %% [markdown]
# ## Sparsity with an L1 penalty
#
# The simpler alternative penalises the codings' absolute values, averaged over
# the batch: $\lambda \sum_j |a_j|$ per image. It pushes every activation
# towards zero, with no target. We write it as a layer too, for the same
# reasons.

# %% tags=["definition"]
@keras.saving.register_keras_serializable(package="ae_course")
class L1Sparsity(layers.Layer):
    """Pass activations through; add weight * (sum of |activations| per example)."""

    def __init__(self, weight=1e-3, **kwargs):
        super().__init__(**kwargs)
        if weight < 0:
            raise ValueError(f"weight must be non-negative, got {weight}")
        self.weight = float(weight)

    def call(self, activations):
        per_example = ops.sum(ops.abs(activations), axis=-1)
        self.add_loss(self.weight * ops.mean(per_example))
        return activations

    def get_config(self):
        return {**super().get_config(), "weight": self.weight}


# %%
l1_weight = 1e-3
l1_autoencoder = make_autoencoder("l1_sparse",
                                  penalty=L1Sparsity(l1_weight, name="l1_sparsity"))
l1_history = l1_autoencoder.fit(train_dataset, epochs=num_epochs, verbose=0,
                                callbacks=[progress])

# %% [markdown]
# ## What the penalties do to the codings
#
# We feed the test images to each encoder and look at every coding unit's
# activation on every image.

# %%
sparse_models = {"plain": plain_autoencoder, "KL sparse": sparse_autoencoder,
                 "L1 sparse": l1_autoencoder}
activations = {
    name: encoder_of(model).predict(x_test, batch_size=2048, verbose=0)
    for name, model in sparse_models.items()}
sparse_mse = {name: float(np.mean(
    (model.predict(x_test, batch_size=2048, verbose=0) - x_test) ** 2))
    for name, model in sparse_models.items()}
print(f"{'model':<10} {'test MSE':>9} {'mean activation':>16} {'share < 0.05':>13}")
for name, values in activations.items():
    print(f"{name:<10} {sparse_mse[name]:>9.4f} {values.mean():>16.3f} "
          f"{np.mean(values < 0.05):>13.1%}")

# %% mystnb={"image": {"alt": "Three histograms, with counts on a log scale, of the coding activations on the test images for the plain, the KL-sparse and the L1-sparse autoencoders, each with its mean marked by a red line. The plain autoencoder uses the whole range from 0 to 1; the two sparse ones put most activations near 0, with a long tail of strong responses."}}
fig, axes = plt.subplots(1, 3, figsize=(11, 3.2), sharey=True)
for axis, (name, values) in zip(axes, activations.items()):
    axis.hist(values.ravel(), bins=50, range=(0, 1), color="tab:blue")
    axis.axvline(values.mean(), color="tab:red", label=f"mean {values.mean():.3f}")
    axis.set(title=name, xlabel="activation of a coding unit", yscale="log")
    axis.legend()
axes[0].set_ylabel("count (log scale)")
fig.suptitle("Coding activations on the test images")
fig.tight_layout()
plt.show()

# %% [markdown]
# The plain autoencoder uses its sigmoid units across their whole range, with
# a mean activation near 0.46<!-- sparse/plain_mean_activation:.2f -->. The KL
# penalty brings the mean to the target (about
# 0.099<!-- sparse/mean_activation:.3f --> in full mode), and not only on
# average: every unit's own mean sits near 0.1 (exercise 2). Most activations
# are now close to 0, with a long tail of strong responses. The L1 penalty
# produces even more near-zero activations (in full mode,
# 78%<!-- l1/share_below_005:.0% --> of them are below $0.05$) and a lower mean,
# about 0.07<!-- l1/mean_activation:.2f -->, but it has no target: the mean is
# whatever its weight makes it, and some units switch off for good. Both cost
# reconstruction accuracy: in full mode the test MSE is about
# 0.019<!-- sparse/test_mse:.3f --> with the KL penalty and
# 0.012<!-- l1/test_mse:.3f --> with L1, against
# 0.008<!-- sparse/plain_test_mse:.3f --> for the plain autoencoder. The
# penalty weights trade one for the other.
#
# The claim of this part, checked: in full mode the mean activation of the KL
# sparse codings lies within $0.02$ of the target; in quick mode, that both
# penalties lowered it.

# %% tags=["hide-input"]
sparse_mean = float(activations["KL sparse"].mean())
assert sparse_mean < activations["plain"].mean(), "the KL penalty had no effect"
assert activations["L1 sparse"].mean() < activations["plain"].mean()
assert sparse_history.history["loss"][-1] < sparse_history.history["loss"][0]
helpers.claim(
    "The sparse autoencoder's mean coding activation lies within 0.02 of its "
    "target.",
    measured=("mean activation", sparse_mean),
    reference=("the target of the KL penalty", sparsity_target),
    holds=abs(sparse_mean - sparsity_target) <= 0.02, fmt=".3f",
)

# %% [markdown]
# ## The learned features
#
# Each coding unit has 784 incoming weights, which we can show as a 28 x 28
# image: the pattern that excites the unit most. Below are the first ten units
# of the plain, the Gaussian denoising and the KL-sparse autoencoders.

# %% mystnb={"image": {"alt": "Three rows of ten first-layer features, each shown as a 28 x 28 image of weights, red for positive and blue for negative: plain (top), Gaussian denoising (middle) and KL-sparse (bottom) autoencoders. The plain features mix garment outlines with pixel speckle, the denoiser's are smoother and larger in scale, and the sparse ones are mostly faint and grainy."}}
helpers.show_features(
    np.concatenate([model.get_layer("codings").kernel.numpy()[:, :10] for model in
                    (plain_autoencoder, gaussian_autoencoder, sparse_autoencoder)],
                   axis=1),
    num_features=30,
    title="First-layer features: plain (top), Gaussian denoising (middle), "
          "KL sparse (bottom)",
)

# %% [markdown]
# The plain autoencoder's features mix garment outlines with pixel-level
# speckle: nothing stops a unit from reacting to single pixels. The denoiser's
# features are smoother and larger in scale, since single pixels can no longer
# be trusted. The KL-sparse features are the least structured after 4 epochs:
# most are faint, grainy patterns with a few clear garment shapes among them;
# a unit that is on for one image in ten gets its gradient from fewer images.

# %% [markdown]
# ## Dropout inside the network, against overfitting
#
# Dropout was invented against overfitting, and that is how Long Long's
# chapter presents the dropout autoencoder: `Dropout` layers between the
# layers of the network, which switch off a random share of the units at every
# training step, so that no unit can count on any other being there. The
# dropout autoencoder above used dropout differently, on the inputs only, as a
# corruption. To see what dropout inside the network does, we need a model
# that overfits: a deeper network, 784-256-32-256-784 with ReLU units, trained
# for many epochs on only 500 images. It will reconstruct its own training
# images better than new ones; that gap is what dropout should shrink.
#
# The dropout rate is a setting, so we choose it on held-out training images
# (the last 10,000 of the training set; the last thousand in quick mode),
# never on the test set. We train one model without dropout and one for each
# candidate rate, with a `Dropout` layer after each hidden layer, and measure
# every model's error on its 500 training images and on the held-out ones.
# Each layer has a seed of its own and the cell reseeds the generators, so
# that the figures of this section do not depend on the cells run before it.

# %%
keras.utils.set_random_seed(5)
small_train = x_train[:500]
held_out = x_train[-helpers.per_mode(full=10_000, quick=1_000):]
overfit_epochs = helpers.per_mode(full=400, quick=20)
candidate_rates = (0.1, 0.2, 0.3, 0.5)


def make_deep_autoencoder(rate, seed):
    """784-256-32-256-784 with ReLU, and Dropout(rate) after each hidden layer."""
    inputs = keras.Input(shape=(784,), name="pixels")
    hidden = inputs
    for index, units in enumerate((256, 32, 256)):
        hidden = layers.Dense(units, activation="relu", kernel_initializer=(
            keras.initializers.GlorotUniform(seed=seed + index)))(hidden)
        if rate > 0:
            hidden = layers.Dropout(rate, seed=seed + 10 + index)(hidden)
    outputs = layers.Dense(784, activation="sigmoid", kernel_initializer=(
        keras.initializers.GlorotUniform(seed=seed + 3)))(hidden)
    autoencoder = keras.Model(inputs, outputs, name=f"deep_dropout_{rate}")
    autoencoder.compile(optimizer=keras.optimizers.Adam(1e-3),
                        loss="binary_crossentropy", steps_per_execution=32)
    return autoencoder


def reconstruction_mse(autoencoder, images):
    reconstructions = autoencoder.predict(images, batch_size=2048, verbose=0)
    return float(np.mean((reconstructions - images) ** 2))


# %% [markdown]
# The 500 images get a pipeline of their own, and a `ShortProgress` that prints
# one line per model, after its last epoch.

# %%
small_dataset = (
    tf.data.Dataset.from_tensor_slices((small_train, small_train))
    .shuffle(len(small_train))
    .batch(batch_size)
)
overfit_models = {}
overfit_progress = ShortProgress(num_lines=1)
for rate in (0.0, *candidate_rates):
    overfit_models[rate] = make_deep_autoencoder(rate, seed=100)
    print(f"dropout rate {rate:g}: ", end="")
    overfit_models[rate].fit(small_dataset, epochs=overfit_epochs, verbose=0,
                             callbacks=[overfit_progress])

# %%
overfit_table = {rate: (reconstruction_mse(model, small_train),
                        reconstruction_mse(model, held_out))
                 for rate, model in overfit_models.items()}
print(f"{'dropout rate':>12} {'train MSE':>10} {'held-out MSE':>13} {'gap':>8}")
for rate, (train_error, held_out_error) in overfit_table.items():
    print(f"{rate:>12} {train_error:>10.4f} {held_out_error:>13.4f} "
          f"{held_out_error - train_error:>8.4f}")

# %% mystnb={"image": {"alt": "Grouped bar chart of the deep autoencoder's reconstruction error (MSE) on its 500 training images and on held-out images, for each dropout rate from none to 0.5. The gap between the two bars shrinks as the rate grows, mainly because the training error rises; in full mode no rate lowers the held-out error below that of the model without dropout."}}
fig, axis = plt.subplots(figsize=(7, 3.5))
positions = np.arange(len(overfit_table))
for offset, (label, column) in zip((-0.2, 0.2), (("500 training images", 0),
                                                 ("held-out images", 1))):
    axis.bar(positions + offset, [row[column] for row in overfit_table.values()],
             width=0.4, label=label)
axis.set_xticks(positions, [f"{rate:g}" for rate in overfit_table])
axis.set(title="Reconstruction error of the deep autoencoder, by dropout rate",
         xlabel="dropout rate after each hidden layer", ylabel="MSE")
axis.legend()
plt.show()

# %% [markdown]
# The rate whose model reconstructs the held-out images best is the one we
# keep. Only now do we look at the test set, for the model without dropout
# and the chosen one:

# %%
chosen_rate = min(candidate_rates, key=lambda rate: overfit_table[rate][1])
overfit_test = {}
for rate in (0.0, chosen_rate):
    train_error = overfit_table[rate][0]
    overfit_test[rate] = (train_error,
                          reconstruction_mse(overfit_models[rate], x_test))
    print(f"dropout rate {rate:g}: train MSE {train_error:.4f}, test MSE "
          f"{overfit_test[rate][1]:.4f}, gap {overfit_test[rate][1] - train_error:.4f}")

# %% [markdown]
# Without dropout, the network overfits: in full mode it reconstructs its 500
# training images with an MSE of 0.0067<!-- dropout_inside/train_mse_without:.4f -->
# and the test images with 0.0199<!-- dropout_inside/test_mse_without:.4f -->.
# Dropout does shrink the gap, and the higher the rate, the more: on the
# held-out images, from 0.0134<!-- dropout_inside/held_out_gap_without:.4f -->
# without dropout to 0.0050<!-- dropout_inside/held_out_gap_05:.4f --> at a rate
# of 0.5. But it shrinks it from below, by raising the training error, and the
# error on new images rises too: on the held-out images no rate beats the model
# without dropout. The rate they choose, 0.1<!-- dropout_inside/chosen_rate:g -->,
# narrows the test gap from 0.0133<!-- dropout_inside/gap_without:.4f --> to
# 0.0116<!-- dropout_inside/gap_with:.4f -->, at the price of a test MSE of
# 0.0210<!-- dropout_inside/test_mse_with:.4f -->. Here, dropout inside the
# network does not buy better reconstructions of new images. A network that
# must redraw every pixel through 32 codings has little capacity to spare, and
# dropout takes some of it away at every step; a classifier, which only needs
# a few robust features, can afford that much better.
#
# The claims of this part, checked: in full mode the network without dropout
# reconstructs its training images at least twice as well as the test images,
# the held-out gap shrinks with every step up in the rate, no rate beats the
# model without dropout on the held-out images, the chosen rate narrows the
# test gap, and it does not lower the test error. In quick mode, that every
# model learned something.

# %% tags=["hide-input"]
mean_image_mse = float(np.mean((small_train.mean(axis=0) - held_out) ** 2))
assert all(held_out_error < mean_image_mse
           for _, held_out_error in overfit_table.values()), overfit_table
train_without, test_without = overfit_test[0.0]
train_with, test_with = overfit_test[chosen_rate]
held_out_gaps = [held_out - train for train, held_out in overfit_table.values()]
helpers.claim(
    "Trained on 500 images without dropout, a network overfits, its training "
    "error below half its test error.",
    measured=("training MSE", train_without),
    reference=("its test error", test_without),
    holds=2 * train_without < test_without, fmt=".4f",
)
helpers.claim(
    "On the held-out images, the gap between held-out and training error "
    "shrinks with every step up in the dropout rate.",
    measured=("gap at rate 0.5", held_out_gaps[-1]),
    reference=("without dropout", held_out_gaps[0]),
    holds=bool(np.all(np.diff(held_out_gaps) < 0)), fmt=".4f",
)
helpers.claim(
    "On the held-out images, no dropout rate reconstructs better than the "
    "network without dropout.",
    measured=("best rate's held-out MSE",
              min(overfit_table[rate][1] for rate in candidate_rates)),
    reference=("without dropout", overfit_table[0.0][1]),
    holds=all(overfit_table[rate][1] > overfit_table[0.0][1]
              for rate in candidate_rates), fmt=".4f",
)
helpers.claim(
    "Dropout inside the network narrows the gap between test and training "
    "error.",
    measured=("gap with dropout", test_with - train_with),
    reference=("without dropout", test_without - train_without),
    holds=test_with - train_with < test_without - train_without, fmt=".4f",
)
helpers.claim(
    "Dropout inside the network lowers the test error.",
    measured=("test MSE with dropout", test_with),
    reference=("without dropout", test_without),
    holds=test_with < test_without, fmt=".4f", course_says="does not hold",
)

# %% tags=["remove-cell"]
helpers.record("denoising/psnr_noisy_db", psnr_table[0.3]["noisy"])
helpers.record("denoising/psnr_denoised_db", psnr_table[0.3]["Gaussian"])
helpers.record("denoising/psnr_gain_db",
               psnr_table[0.3]["Gaussian"] - psnr_table[0.3]["noisy"])
helpers.record("denoising/psnr_plain_db", psnr_table[0.3]["plain"])
helpers.record("denoising/psnr_noisy_sigma05_db", psnr_table[0.5]["noisy"])
helpers.record("denoising/psnr_denoised_sigma05_db", psnr_table[0.5]["Gaussian"])
helpers.record("denoising/psnr_plain_sigma05_db", psnr_table[0.5]["plain"])
helpers.record("denoising/psnr_masked_db", masked_psnr["masked"])
helpers.record("denoising/psnr_unmasked_db", masked_psnr["dropout"])
helpers.record("sparse/mean_activation", float(activations["KL sparse"].mean()))
helpers.record("sparse/target", sparsity_target)
helpers.record("sparse/test_mse", sparse_mse["KL sparse"])
helpers.record("sparse/plain_test_mse", sparse_mse["plain"])
helpers.record("sparse/plain_mean_activation", float(activations["plain"].mean()))
helpers.record("sparse/plain_cross_entropy", plain_history.history["loss"][-1])
helpers.record("l1/mean_activation", float(activations["L1 sparse"].mean()))
helpers.record("l1/test_mse", sparse_mse["L1 sparse"])
helpers.record("l1/share_below_005", float(np.mean(activations["L1 sparse"] < 0.05)))
helpers.record("dropout_inside/chosen_rate", chosen_rate)
helpers.record("dropout_inside/train_mse_without", overfit_test[0.0][0])
helpers.record("dropout_inside/test_mse_without", overfit_test[0.0][1])
helpers.record("dropout_inside/train_mse_with", overfit_test[chosen_rate][0])
helpers.record("dropout_inside/test_mse_with", overfit_test[chosen_rate][1])
helpers.record("dropout_inside/gap_without",
               overfit_test[0.0][1] - overfit_test[0.0][0])
helpers.record("dropout_inside/gap_with",
               overfit_test[chosen_rate][1] - overfit_test[chosen_rate][0])
helpers.record("dropout_inside/held_out_gap_without",
               overfit_table[0.0][1] - overfit_table[0.0][0])
helpers.record("dropout_inside/held_out_gap_05",
               overfit_table[0.5][1] - overfit_table[0.5][0])
helpers.record("denoising/train_seconds",
               progress.seconds + overfit_progress.seconds)

# %% [markdown]
# ## Summary
#
# - A denoising autoencoder sees corrupted inputs and clean targets. Keras'
#   `GaussianNoise` and `Dropout` layers corrupt only during training, so the
#   trained model is used like any other.
# - PSNR measures the result: at $\sigma = 0.3$ the Gaussian denoiser gains
#   several decibels over the noisy images, and more than the plain
#   autoencoder, which reproduces part of the noise it is given.
# - A KL-divergence penalty on each coding unit's mean activation makes the
#   codings sparse with a chosen level of activity; written as a layer with
#   `add_loss` and `get_config`, it works with `fit`, `evaluate` and saving.
# - An L1 penalty pushes every activation towards zero instead; it gives sparse
#   codings with no target for the level of activity.
# - Each constraint changes the features the first layer learns.
# - Dropout layers inside a network that overfits a small training set shrink
#   the gap between its training and test errors, but here by raising the
#   training error: no rate chosen on held-out images lowered the test error.
#
# ## Exercises
#
# Each exercise has a solution below it, hidden on the website (click to show
# it), and a cell that checks your answer.
#
# 1. A **contractive** autoencoder penalises how much the codings move when the
#    input moves: the squared Frobenius norm of the Jacobian
#    $\partial h / \partial x$ of the coding layer. For a sigmoid layer
#    $h = \sigma(x W + b)$, with $x$ a row of 784 pixels and $W$ the
#    784 x 200 kernel, as Keras stores it, the norm is
#    $\sum_j \big(h_j (1 - h_j)\big)^2 \sum_i W_{ij}^2$. Write a layer that
#    computes sigmoid codings and adds this penalty (weighted by $0.01$, averaged
#    over the batch) with `add_loss`. Name the layer `"codings"` and train
#    `contractive_autoencoder`, with it as its coding layer. Store the squared
#    Jacobian norm of every test image in the array `contractive_jacobian`, and
#    the plain autoencoder's in `plain_jacobian`.
# 2. The KL penalty acts on each unit's mean activation. Store the mean
#    activation of every coding unit of the KL-sparse autoencoder on the test
#    images in `unit_means` (one value per unit) and count in
#    `units_near_target` the units whose mean lies within $0.05$ of the target.
#    Do the L1-sparse autoencoder's units look the same?
# 3. Which test images does the Gaussian denoiser help least? Compute the PSNR
#    gain of every test image at $\sigma = 0.3$ (the denoiser's output against
#    the clipped noisy image) in `gain_per_image`, and the indices of the 10
#    smallest gains in `least_improved`. Show those images.
# 4. How does the Gaussian denoiser cope with noise levels it was not trained
#    on? Store its PSNR on the test images for $\sigma$ = 0.1, 0.2, ..., 0.8 in
#    the dict `psnr_by_sigma` (noise level to PSNR of its output), and the PSNR
#    of the clipped noisy images in `noisy_psnr_by_sigma`.

# %% [markdown]
# **Exercise 1.** A solution:

# %% tags=["solution", "hide-cell"]
class ContractiveCodings(layers.Layer):
    """Sigmoid codings plus weight * mean squared Frobenius norm of the Jacobian."""

    def __init__(self, units, weight, name=None):
        super().__init__(name=name)
        self.units, self.weight = units, weight

    def build(self, input_shape):
        self.dense = layers.Dense(self.units, activation="sigmoid")
        self.dense.build(input_shape)

    def call(self, inputs):
        h = self.dense(inputs)
        column_norms = ops.sum(ops.square(self.dense.kernel), axis=0)
        jacobian_norms = ops.sum(ops.square(h * (1 - h)) * column_norms, axis=-1)
        self.add_loss(self.weight * ops.mean(jacobian_norms))
        return h


def jacobian_norms(kernel, h):
    """Per image: sum_j (h_j (1 - h_j))^2 * sum_i W_ij^2."""
    return np.sum((h * (1 - h)) ** 2 * np.sum(kernel**2, axis=0), axis=1)


contractive_in = keras.Input(shape=(784,))
contractive_layer = ContractiveCodings(coding_units, weight=0.01, name="codings")
contractive_autoencoder = keras.Model(
    contractive_in,
    layers.Dense(784, activation="sigmoid")(contractive_layer(contractive_in)))
contractive_autoencoder.compile(optimizer=keras.optimizers.Adam(3e-3),
                                loss="binary_crossentropy")
contractive_autoencoder.fit(x_train, x_train, batch_size=128, verbose=0,
                            epochs=helpers.per_mode(full=2, quick=1))
contractive_h = ops.convert_to_numpy(contractive_layer.dense(x_test))
contractive_jacobian = jacobian_norms(
    contractive_layer.dense.kernel.numpy(), contractive_h)
plain_jacobian = jacobian_norms(
    plain_autoencoder.get_layer("codings").kernel.numpy(), activations["plain"])
contractive_mse = float(np.mean(
    (contractive_autoencoder.predict(x_test, batch_size=2048, verbose=0)
     - x_test) ** 2))
print(f"mean squared Jacobian norm: contractive {contractive_jacobian.mean():.2f}, "
      f"plain {plain_jacobian.mean():.2f}; test MSE: contractive "
      f"{contractive_mse:.4f}, plain {sparse_mse['plain']:.4f}")
# The penalty makes the codings barely react to small changes of the input,
# mostly by pushing the sigmoid units towards 0 or 1, where they are flat; the
# price is a higher reconstruction error.

# %% tags=["self-check"]
def norms_by_differences(autoencoder, images, step=1e-2):
    """Squared norm of d(codings)/d(pixels), estimated by central differences."""
    encoder = encoder_of(autoencoder)
    shifts = step * np.eye(784, dtype="float32")
    return np.array([np.sum(((encoder.predict(image + shifts, batch_size=784,
                                              verbose=0)
                              - encoder.predict(image - shifts, batch_size=784,
                                                verbose=0))
                             / (2 * step)) ** 2) for image in images])


helpers.self_check(
    "Exercise 1",
    lambda: np.shape(contractive_jacobian) == (len(x_test),)
    == np.shape(plain_jacobian)
    and np.allclose(contractive_jacobian[:5],
                    norms_by_differences(contractive_autoencoder, x_test[:5]),
                    rtol=0.05)
    and np.allclose(plain_jacobian[:5],
                    norms_by_differences(plain_autoencoder, x_test[:5]), rtol=0.05)
    and np.mean(contractive_jacobian) < np.mean(plain_jacobian),
    "contractive_jacobian and plain_jacobian should hold, for every test image, "
    "sum_j (h_j (1 - h_j))^2 * sum_i W_ij^2 of each autoencoder's layer named "
    "'codings'; the penalty should make the contractive ones smaller on average.",
)

# %% [markdown]
# **Exercise 2.** A solution:

# %% tags=["solution", "hide-cell"]
unit_means = activations["KL sparse"].mean(axis=0)
units_near_target = int(np.sum(np.abs(unit_means - sparsity_target) <= 0.05))
l1_unit_means = activations["L1 sparse"].mean(axis=0)
print(f"{units_near_target} of {coding_units} KL units lie within 0.05 of the target")
for label, means in (("KL", unit_means), ("L1", l1_unit_means)):
    print(f"{label} units' mean activations: min {means.min():.3f}, "
          f"median {np.median(means):.3f}, max {means.max():.3f}; "
          f"{np.sum(means < 0.01)} units almost never on")
# The KL penalty applies to every unit's mean, so nearly all units sit close to
# the target. L1 has no target: many units are almost never on, a few often.

# %% tags=["self-check"]
def mean_activation_of_unit(autoencoder, unit):
    """A coding unit's mean activation on the test images, from its weights."""
    kernel, bias = autoencoder.get_layer("codings").get_weights()
    return np.mean(1 / (1 + np.exp(-(x_test @ kernel[:, unit] + bias[unit]))))


helpers.self_check(
    "Exercise 2",
    lambda: np.shape(unit_means) == (coding_units,)
    and all(np.isclose(unit_means[unit],
                       mean_activation_of_unit(sparse_autoencoder, unit), atol=1e-5)
            for unit in (0, coding_units // 2, coding_units - 1))
    and units_near_target == sum(0.05 <= mean <= 0.15 for mean in unit_means),
    "unit_means should hold one mean activation per coding unit of the KL-sparse "
    "autoencoder (the mean over the test images, axis 0), and units_near_target "
    "the number of units with |mean - target| <= 0.05.",
)

# %% [markdown]
# **Exercise 3.** A solution:

# %% mystnb={"image": {"alt": "Three rows of ten images: the ten test images that the Gaussian denoiser improves least, noisy (top), denoised (middle) and clean (bottom). They are mostly images with fine, high-contrast detail such as prints and stripes, or with large bright areas."}} tags=["solution", "hide-cell"]
def psnr_per_image(clean, images):
    """PSNR in dB of each image against its clean version."""
    return 10 * np.log10(1.0 / np.mean((clean - images) ** 2, axis=1))


denoised_03 = gaussian_autoencoder.predict(noisy_test[0.3], batch_size=2048,
                                          verbose=0)
gain_per_image = (psnr_per_image(x_test, denoised_03)
                  - psnr_per_image(x_test, np.clip(noisy_test[0.3], 0, 1)))
least_improved = np.argsort(gain_per_image)[:10]
least_improved_rows = np.concatenate([np.clip(noisy_test[0.3][least_improved], 0, 1),
                                      denoised_03[least_improved],
                                      x_test[least_improved]])
helpers.show_images(least_improved_rows, title="The 10 test images the denoiser "
                    "improves least: noisy, denoised, clean (top to bottom)")
# They are mostly images with fine, high-contrast detail (prints, stripes) or
# large bright areas, where the noisy image loses less to clipping and the
# denoiser's smooth output loses the detail.

# %% tags=["self-check"]
helpers.self_check(
    "Exercise 3",
    lambda: np.shape(gain_per_image) == (len(x_test),)
    and np.ptp(gain_per_image) > 0
    # helpers.psnr averages the PSNRs of the images, so the gains average to
    # the difference of the table's two PSNRs.
    and np.isclose(np.mean(gain_per_image),
                   psnr_table[0.3]["Gaussian"] - psnr_table[0.3]["noisy"], atol=1e-3)
    and len(set(np.asarray(least_improved).tolist())) == 10
    and gain_per_image[least_improved].max() <= np.sort(gain_per_image)[9],
    "gain_per_image should hold, for every test image, the PSNR of the denoised "
    "image minus the PSNR of the clipped noisy one; least_improved the indices "
    "of the 10 smallest gains.",
)

# %% [markdown]
# **Exercise 4.** A solution:

# %% mystnb={"image": {"alt": "Line chart of PSNR in dB against the noise level sigma, for the noisy test images and for the Gaussian denoiser's output, with the training sigma marked by a dashed line. The noisy images lose PSNR fast as sigma grows, while the denoiser's output, limited by its own blur at low noise, degrades slowly."}} tags=["solution", "hide-cell"]
sweep_sigmas = np.round(np.arange(0.1, 0.81, 0.1), 1)
sweep_rng = np.random.default_rng(1)
psnr_by_sigma, noisy_psnr_by_sigma = {}, {}
for sigma in sweep_sigmas:
    noisy_images = x_test + sigma * sweep_rng.normal(size=x_test.shape).astype(
        "float32")
    noisy_psnr_by_sigma[sigma] = helpers.psnr(x_test, np.clip(noisy_images, 0, 1))
    psnr_by_sigma[sigma] = helpers.psnr(x_test, gaussian_autoencoder.predict(
        noisy_images, batch_size=2048, verbose=0))
fig, axis = plt.subplots(figsize=(6, 3.5))
axis.plot(sweep_sigmas, list(noisy_psnr_by_sigma.values()), "o-", label="noisy")
axis.plot(sweep_sigmas, list(psnr_by_sigma.values()), "o-", label="denoised")
axis.axvline(train_sigma, color="grey", linestyle="--", label="training sigma")
axis.set(title="Gaussian denoiser across noise levels", xlabel="noise sigma",
         ylabel="PSNR (dB)")
axis.legend(title="test images")
plt.show()  # PSNR of the noisy and the denoised images against sigma
# Below the training level the denoiser is limited by its own blur; above it,
# its output degrades slowly while the noisy images lose PSNR fast.

# %% tags=["self-check"]
def by_level(psnrs):
    """The dict's values in order of noise level, keyed by level to 0.1."""
    return {round(float(sigma), 1): psnrs[sigma] for sigma in sorted(psnrs)}


helpers.self_check(
    "Exercise 4",
    lambda: list(by_level(psnr_by_sigma)) == list(by_level(noisy_psnr_by_sigma))
    == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    # Other draws of the noise than the table's, but close on average.
    and all(abs(by_level(psnr_by_sigma)[sigma] - psnr_table[sigma]["Gaussian"]) < 0.1
            and abs(by_level(noisy_psnr_by_sigma)[sigma] - psnr_table[sigma]["noisy"])
            < 0.1 for sigma in test_sigmas)
    and all(np.diff(list(by_level(noisy_psnr_by_sigma).values())) < 0),
    "psnr_by_sigma and noisy_psnr_by_sigma should map each of the 8 noise levels "
    "0.1, ..., 0.8 to the mean PSNR of the denoiser's outputs and of the clipped "
    "noisy images.",
)
