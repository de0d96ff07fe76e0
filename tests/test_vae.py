"""Unit tests of the building blocks of chapter 6, the variational autoencoder.

They import the blocks from ae_blocks, which holds the chapter's cells tagged
`definition`, so they test the code the reader sees.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from ae_blocks import (
    VAE,
    Sampling,
    binarize,
    build_decoder,
    build_encoder,
    gaussian_log_density,
    importance_sampled_log_likelihood,
    latent_loss,
    reconstruction_loss,
)
from scipy.stats import multivariate_normal


def to_numpy(value):
    from keras import ops

    return ops.convert_to_numpy(value)


# ------------------------------------------------------------------ latent loss


def test_latent_loss_is_the_closed_form_kl_to_the_standard_normal():
    rng = np.random.default_rng(0)
    mean = rng.normal(size=(6, 5)).astype("float32")
    log_var = rng.normal(scale=2.0, size=(6, 5)).astype("float32")
    # KL(N(m, s^2) || N(0, 1)) = log(1 / s) + (s^2 + m^2) / 2 - 1 / 2 per coding.
    sigma = np.exp(0.5 * log_var.astype("float64"))
    expected = np.sum(-np.log(sigma) + (sigma**2 + mean**2) / 2 - 0.5, axis=-1)
    np.testing.assert_allclose(to_numpy(latent_loss(mean, log_var)), expected,
                               rtol=1e-5)


def test_latent_loss_matches_a_monte_carlo_estimate():
    mean = np.array([[0.7, -1.2]], dtype="float32")
    log_var = np.array([[-0.5, 0.8]], dtype="float32")
    rng = np.random.default_rng(1)
    sigma = np.exp(0.5 * log_var[0])
    z = mean[0] + sigma * rng.normal(size=(400_000, 2))
    log_q = np.sum(-0.5 * np.log(2 * np.pi * sigma**2)
                   - (z - mean[0]) ** 2 / (2 * sigma**2), axis=1)
    log_p = np.sum(-0.5 * np.log(2 * np.pi) - z**2 / 2, axis=1)
    estimate = np.mean(log_q - log_p)
    assert to_numpy(latent_loss(mean, log_var))[0] == pytest.approx(
        estimate, abs=0.01)


def test_latent_loss_is_zero_only_at_the_prior():
    zeros = np.zeros((1, 3), dtype="float32")
    assert to_numpy(latent_loss(zeros, zeros))[0] == pytest.approx(0.0)
    assert to_numpy(latent_loss(zeros + 0.1, zeros))[0] > 0


def test_latent_loss_stays_exact_when_a_variance_underflows():
    import tensorflow as tf

    # exp(-110) underflows in float32: a form written with sigma would take
    # log(0) here. The log-variance form takes no logarithm at all.
    log_var = tf.Variable(np.array([[-110.0]], dtype="float32"))
    mean = tf.zeros_like(log_var)
    with tf.GradientTape() as tape:
        loss = latent_loss(mean, log_var)
    assert to_numpy(loss)[0] == pytest.approx(0.5 * (-1 + 110))
    # d/dgamma = (exp(gamma) - 1) / 2: bounded, and it still pulls back.
    assert tape.gradient(loss, log_var).numpy()[0, 0] == pytest.approx(-0.5)


def test_reconstruction_loss_is_the_summed_bernoulli_negative_log_likelihood():
    images = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]], dtype="float32")
    logits = np.array([[2.0, -1.0, 0.0], [0.5, 3.0, -2.0]], dtype="float32")
    p = 1 / (1 + np.exp(-logits.astype("float64")))
    expected = -np.sum(images * np.log(p) + (1 - images) * np.log(1 - p), axis=1)
    np.testing.assert_allclose(to_numpy(reconstruction_loss(images, logits)),
                               expected, rtol=1e-5)


# ------------------------------------------------------------------ sampling


def test_sampling_is_deterministic_for_a_given_seed():
    mean = np.zeros((4, 3), dtype="float32")
    log_var = np.zeros((4, 3), dtype="float32")
    first = Sampling(seed=7)
    second = Sampling(seed=7)
    draws_a = [to_numpy(first([mean, log_var])) for _ in range(2)]
    draws_b = [to_numpy(second([mean, log_var])) for _ in range(2)]
    np.testing.assert_array_equal(draws_a[0], draws_b[0])
    np.testing.assert_array_equal(draws_a[1], draws_b[1])
    assert not np.allclose(draws_a[0], draws_a[1]), "every call draws new noise"
    other = to_numpy(Sampling(seed=8)([mean, log_var]))
    assert not np.allclose(draws_a[0], other)


def test_sampling_round_trips_through_its_config():
    layer = Sampling(seed=7, name="sampling")
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(layer))
    assert type(restored) is Sampling
    assert (restored.seed, restored.name) == (7, "sampling")


def test_sampling_has_the_requested_mean_and_variance():
    num_draws = 200_000
    mean = np.tile(np.array([[1.0, -2.0, 0.0]], dtype="float32"), (num_draws, 1))
    variance = np.array([0.25, 4.0, 1.0], dtype="float32")
    log_var = np.tile(np.log(variance)[None], (num_draws, 1))
    draws = to_numpy(Sampling(seed=3)([mean, log_var]))
    np.testing.assert_allclose(draws.mean(axis=0), [1.0, -2.0, 0.0], atol=0.02)
    np.testing.assert_allclose(draws.var(axis=0), variance, rtol=0.02)


def test_gradients_flow_through_the_sampling():
    import tensorflow as tf

    mean = tf.Variable(np.array([[0.5, -1.0]], dtype="float32"))
    log_var = tf.Variable(np.array([[0.2, -0.6]], dtype="float32"))
    with tf.GradientTape() as tape:
        codings = Sampling(seed=5)([mean, log_var])
        total = tf.reduce_sum(codings)
    mean_gradient, log_var_gradient = tape.gradient(total, [mean, log_var])
    # z = mean + exp(log_var / 2) * noise: dz/dmean = 1, dz/dlog_var = (z - mean)/2.
    np.testing.assert_allclose(mean_gradient.numpy(), [[1.0, 1.0]])
    np.testing.assert_allclose(log_var_gradient.numpy(),
                               0.5 * (codings.numpy() - mean.numpy()), rtol=1e-5)
    assert np.all(log_var_gradient.numpy() != 0)


# ------------------------------------------------------------------ binarisation


def test_binarize_draws_pixels_with_their_intensity():
    intensities = np.tile(np.array([[0.0, 0.2, 0.7, 1.0]], dtype="float32"),
                          (50_000, 1))
    binary = to_numpy(binarize(intensities, seed=1))
    assert set(np.unique(binary)) <= {0.0, 1.0}
    np.testing.assert_allclose(binary.mean(axis=0), [0.0, 0.2, 0.7, 1.0], atol=0.01)
    np.testing.assert_array_equal(binary, to_numpy(binarize(intensities,
                                                                   seed=1)))


# ------------------------------------------------------------------ the model


def test_vae_fit_and_evaluate_report_the_negative_elbo_and_its_terms():
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(60, 784)).astype("float32")
    model = VAE(build_encoder(3, seed=1), build_decoder(3), seed=2)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(images, epochs=2, batch_size=30, verbose=0)
    assert {"loss", "reconstruction_loss", "kl_loss"} <= set(history.history)
    binary = to_numpy(binarize(images, seed=3))
    results = model.evaluate(binary, batch_size=60, verbose=0, return_dict=True)
    assert results["loss"] == pytest.approx(
        results["reconstruction_loss"] + results["kl_loss"], rel=1e-5)
    assert results["kl_loss"] >= 0 and np.isfinite(results["loss"])


# ------------------------------------------------------------------ the estimator


def linear_gaussian_case(num_images=200, seed=0):
    """z ~ N(0, I_2), x | z ~ N(W z + b, s^2 I_3), with W's columns orthogonal.

    Orthogonal columns make the exact posterior p(z|x) a diagonal Gaussian, so
    the estimator can be given the exact posterior as its proposal.
    """
    rng = np.random.default_rng(seed)
    w = np.array([[1.0, 2.0], [2.0, -1.0], [0.0, 1.5]])
    assert abs(w[:, 0] @ w[:, 1]) < 1e-12
    b = np.array([0.3, -0.2, 0.1])
    noise_var = 0.5
    z = rng.normal(size=(num_images, 2))
    x = z @ w.T + b + np.sqrt(noise_var) * rng.normal(size=(num_images, 3))
    exact = multivariate_normal(b, w @ w.T + noise_var * np.eye(3)).logpdf(x)
    posterior_var = 1.0 / (1.0 + np.sum(w**2, axis=0) / noise_var)
    posterior_mean = (x - b) @ w / noise_var * posterior_var
    return x.astype("float32"), w, b, noise_var, exact, posterior_mean, posterior_var


def estimate(case, num_samples, mean_shift=0.0, log_var_shift=0.0, seed=0):
    from keras import ops

    x, w, b, noise_var, _, posterior_mean, posterior_var = case
    w32, b32 = w.astype("float32"), b.astype("float32")
    by_row = {row.tobytes(): i for i, row in enumerate(x)}

    def encode(images):
        rows = [by_row[row.tobytes()] for row in np.asarray(images)]
        mean = posterior_mean[rows] + mean_shift
        log_var = np.log(np.broadcast_to(posterior_var, mean.shape)) + log_var_shift
        return mean.astype("float32"), log_var.astype("float32")

    def log_likelihood(images, codings):
        means = ops.matmul(codings, w32.T) + b32
        return gaussian_log_density(images, means, np.float32(np.log(noise_var)))

    return importance_sampled_log_likelihood(
        x, encode, log_likelihood, num_samples, seed=seed, batch_size=50)


def test_gaussian_log_density_matches_scipy():
    values = np.array([[0.5, -1.0, 2.0]], dtype="float32")
    mean = np.array([[0.0, 1.0, 1.5]], dtype="float32")
    log_var = np.array([[0.0, -1.0, 0.7]], dtype="float32")
    expected = multivariate_normal(mean[0], np.diag(np.exp(log_var[0]))).logpdf(
        values[0])
    assert to_numpy(gaussian_log_density(values, mean, log_var))[0] == (
        pytest.approx(expected, rel=1e-5))


def test_importance_sampling_with_the_exact_posterior_is_exact():
    case = linear_gaussian_case()
    # Every importance weight equals p(x), so even one sample is exact.
    for num_samples in (1, 7):
        np.testing.assert_allclose(estimate(case, num_samples), case[4],
                                   atol=2e-4)


def test_importance_sampling_tightens_towards_log_p_from_below():
    case = linear_gaussian_case()
    exact = case[4].mean()
    # A proposal about 1.5 posterior standard deviations off, twice too wide.
    shifted = {"mean_shift": 0.5, "log_var_shift": 0.7}
    elbo = estimate(case, 1, **shifted).mean()
    with_10 = estimate(case, 10, **shifted).mean()
    with_5000 = estimate(case, 5000, **shifted).mean()
    # The ELBO (one sample) is a lower bound; more samples tighten it.
    assert elbo < with_10 < with_5000 <= exact + 0.02
    assert exact - elbo > 1.0, "the proposal should be poor enough to matter"
    assert with_5000 == pytest.approx(exact, abs=0.02)
