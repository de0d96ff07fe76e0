"""Unit tests of the building blocks of chapter 8, the adversarial autoencoder.

They import the blocks from ae_blocks, which holds the chapter's cells tagged
`definition`, so they test the code the reader sees.
"""

from __future__ import annotations

import numpy as np
import pytest
from ae_blocks import (
    AAE,
    VAE,
    GreyLevelVAE,
    build_decoder,
    build_deterministic_encoder,
    build_discriminator,
    build_encoder,
    discriminator_loss,
    mixture_distances,
    mixture_occupancy,
    mmd,
    pixel_reconstruction_loss,
    reconstruction_loss,
    regularization_loss,
    ring_centres,
    sample_mixture,
)


def to_numpy(value):
    from keras import ops

    return ops.convert_to_numpy(value)


def small_model(latent_dim=2, seed=1, **prior):
    """A compiled adversarial autoencoder of the chapter's architecture."""
    import keras

    model = AAE(build_deterministic_encoder(latent_dim), build_decoder(latent_dim),
                build_discriminator(latent_dim), seed=seed, **prior)
    model.compile(
        reconstruction_optimizer=keras.optimizers.Adam(1e-3),
        discriminator_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
        regularization_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
    )
    return model


def images(num_images=32, seed=0):
    return np.random.default_rng(seed).uniform(size=(num_images, 784)).astype(
        "float32")


def snapshot(network):
    return [to_numpy(weight).copy() for weight in network.trainable_weights]


def changed(before, network):
    return any(not np.array_equal(old, to_numpy(new))
               for old, new in zip(before, network.trainable_weights))


# ------------------------------------------------------------------ the losses


def test_discriminator_loss_labels_prior_samples_1_and_codings_0():
    prior_logits = np.array([[2.0], [-1.0], [0.5]], dtype="float32")
    coding_logits = np.array([[-3.0], [0.2], [1.5]], dtype="float32")

    def sigmoid(value):
        return 1 / (1 + np.exp(-value.astype("float64")))

    expected = (-np.mean(np.log(sigmoid(prior_logits)))
                - np.mean(np.log(1 - sigmoid(coding_logits))))
    loss = to_numpy(discriminator_loss(prior_logits, coding_logits))
    assert loss == pytest.approx(expected, rel=1e-5)
    # A referee that calls the prior real and the codings fake is right...
    confident = np.full((4, 1), 8.0, dtype="float32")
    assert to_numpy(discriminator_loss(confident, -confident)) < 1e-3
    # ... and one that has the labels the other way round is badly wrong.
    assert to_numpy(discriminator_loss(-confident, confident)) > 10
    # At chance, 1/2 everywhere, the loss is 2 ln 2.
    zeros = np.zeros((4, 1), dtype="float32")
    assert to_numpy(discriminator_loss(zeros, zeros)) == pytest.approx(
        2 * np.log(2), rel=1e-5)


def test_regularization_loss_asks_for_the_codings_to_be_labelled_1():
    coding_logits = np.array([[-2.0], [0.0], [3.0]], dtype="float32")
    expected = np.mean(np.log1p(np.exp(-coding_logits.astype("float64"))))
    assert to_numpy(regularization_loss(coding_logits)) == pytest.approx(
        expected, rel=1e-5)
    assert to_numpy(regularization_loss(np.full((3, 1), 8.0, "float32"))) < 1e-3


def test_pixel_reconstruction_loss_is_the_mean_cross_entropy_per_pixel():
    targets = np.array([[0.0, 0.3, 1.0]], dtype="float32")
    logits = np.array([[-1.0, 0.5, 2.0]], dtype="float32")
    p = 1 / (1 + np.exp(-logits.astype("float64")))
    expected = -np.mean(targets * np.log(p) + (1 - targets) * np.log(1 - p))
    assert to_numpy(pixel_reconstruction_loss(targets, logits))[0] == (
        pytest.approx(expected, rel=1e-5))
    # It is chapter 6's summed loss divided by the number of pixels.
    assert to_numpy(pixel_reconstruction_loss(targets, logits))[0] == (
        pytest.approx(to_numpy(reconstruction_loss(targets, logits))[0] / 3,
                      rel=1e-6))


# ------------------------------------------------------------------ the priors


def test_ring_centres_are_equally_spaced_on_the_circle():
    centres = ring_centres(10, radius=4.0)
    assert centres.shape == (10, 2)
    np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 4.0)
    gaps = np.linalg.norm(centres - np.roll(centres, 1, axis=0), axis=1)
    np.testing.assert_allclose(gaps, 2 * 4.0 * np.sin(np.pi / 10))


def test_sample_mixture_with_one_component_is_the_standard_gaussian():
    draws = to_numpy(sample_mixture(200_000, [[0.0, 0.0]], 1.0, seed=1))
    np.testing.assert_allclose(draws.mean(axis=0), 0.0, atol=0.01)
    np.testing.assert_allclose(np.cov(draws, rowvar=False), np.eye(2), atol=0.01)


def test_sample_mixture_draws_every_component_equally_often():
    centres = ring_centres(10, radius=4.0)
    draws = to_numpy(sample_mixture(50_000, centres, 0.5, seed=2))
    distances = np.linalg.norm(draws[:, None, :] - centres[None], axis=-1)
    nearest = distances.argmin(axis=1)
    np.testing.assert_allclose(np.bincount(nearest, minlength=10) / len(draws),
                               0.1, atol=0.01)
    spread = draws - centres[nearest]
    np.testing.assert_allclose(spread.std(axis=0), 0.5, rtol=0.03)
    again = to_numpy(sample_mixture(50_000, centres, 0.5, seed=2))
    np.testing.assert_array_equal(draws, again)


def test_sample_mixture_stretches_each_component_along_its_ray():
    # One component on the y axis: its ray is (0, 1), so along is y, across is x.
    draws = to_numpy(sample_mixture(100_000, [[0.0, 2.0]], [0.5, 0.1], seed=3))
    np.testing.assert_allclose(draws.mean(axis=0), [0.0, 2.0], atol=0.01)
    np.testing.assert_allclose(draws.std(axis=0), [0.1, 0.5], rtol=0.02)


def test_sample_mixture_advances_a_seed_generator_and_repeats_an_integer_seed():
    import keras

    centres = ring_centres(10, radius=1.4)
    generator = keras.random.SeedGenerator(4)
    first = to_numpy(sample_mixture(1000, centres, [0.5, 0.1], seed=generator))
    second = to_numpy(sample_mixture(1000, centres, [0.5, 0.1], seed=generator))
    assert not np.allclose(first, second)
    np.testing.assert_array_equal(
        to_numpy(sample_mixture(1000, centres, [0.5, 0.1], seed=4)),
        to_numpy(sample_mixture(1000, centres, [0.5, 0.1], seed=4)))


def test_sample_mixture_draws_from_the_components_it_is_given():
    centres = ring_centres(10, radius=1.4)
    components = np.repeat(np.arange(10), 2000)
    draws = to_numpy(sample_mixture(len(components), centres, [0.5, 0.1], seed=6,
                                    components=components))
    nearest = mixture_distances(draws, centres, [0.5, 0.1]).argmin(axis=1)
    # Petals overlap near the origin, so most draws, not all, are nearest their own.
    assert np.mean(nearest == components) > 0.8
    for component in (0, 7):
        rows = draws[components == component]
        np.testing.assert_allclose(rows.mean(axis=0), centres[component], atol=0.03)
    with pytest.raises(ValueError, match="one index per sample: expected 5, got 20000"):
        sample_mixture(5, centres, [0.5, 0.1], components=components)


def test_mixture_distances_count_in_each_component_s_standard_deviations():
    centres = [[0.0, 2.0], [-2.0, 0.0]]
    points = [[0.0, 2.5], [0.1, 2.0], [0.0, 2.0]]
    distances = mixture_distances(points, centres, [0.5, 0.1])
    np.testing.assert_allclose(distances[:, 0], [1.0, 1.0, 0.0], atol=1e-9)
    with pytest.raises(ValueError, match=r"shape \(K, 2\)"):
        mixture_distances(points, [0.0, 2.0], 0.5)


def test_prior_samples_lie_within_two_standard_deviations_as_a_gaussian_does():
    centres = ring_centres(10, radius=1.4)
    draws = to_numpy(sample_mixture(50_000, centres, [0.5, 0.1], seed=5))
    within, shares = mixture_occupancy(draws, centres, [0.5, 0.1])
    # For one 2-D Gaussian, P(distance <= 2) = 1 - exp(-2); overlaps add a little.
    assert 1 - np.exp(-2) - 0.01 < within < 0.95
    np.testing.assert_allclose(shares, 0.1, atol=0.01)
    far = mixture_occupancy(draws + 10.0, centres, [0.5, 0.1])[0]
    assert far == 0.0


# ------------------------------------------------------------------ the model


def test_the_discriminator_step_learns_to_tell_prior_from_codings():
    model = small_model()
    # Identical images have one coding, a point mass: easy to tell from N(0, I).
    batch = np.ones((64, 784), dtype="float32")
    before = snapshot(model.encoder)
    for _ in range(200):
        model.discriminator_step(batch)
    assert not changed(before, model.encoder)
    prior_verdicts = to_numpy(model.discriminator(model.sample_prior(1000)))
    coding_verdicts = to_numpy(model.discriminator(model.encoder(batch)))
    # Positive logits mean "drawn from the prior".
    assert np.mean(prior_verdicts > 0) > 0.6
    assert np.all(coding_verdicts < 0)


@pytest.mark.parametrize("step, owners", [
    ("reconstruction_step", {"encoder", "decoder"}),
    ("discriminator_step", {"discriminator"}),
    ("regularization_step", {"encoder"}),
])
def test_each_step_changes_only_the_weights_it_owns(step, owners):
    model = small_model()
    networks = {name: getattr(model, name)
                for name in ("encoder", "decoder", "discriminator")}
    before = {name: snapshot(network) for name, network in networks.items()}
    getattr(model, step)(images())
    after = {name for name, network in networks.items()
             if changed(before[name], network)}
    assert after == owners


def test_train_step_runs_all_three_steps():
    model = small_model()
    networks = [model.encoder, model.decoder, model.discriminator]
    before = [snapshot(network) for network in networks]
    logs = model.train_step((images(),))
    assert all(changed(old, network) for old, network in zip(before, networks))
    assert {"loss", "discriminator_loss", "regularization_loss"} <= set(logs)
    assert model.optimizer.iterations.numpy() == 1
    assert model.discriminator_optimizer.iterations.numpy() == 1
    assert model.regularization_optimizer.iterations.numpy() == 1


def test_fit_and_evaluate_report_every_loss():
    model = small_model()
    history = model.fit(images(60), epochs=2, batch_size=30, verbose=0)
    names = {"loss", "discriminator_loss", "regularization_loss"}
    assert names <= set(history.history)
    results = model.evaluate(images(30, seed=1), batch_size=30, verbose=0,
                             return_dict=True)
    assert names <= set(results)
    assert all(np.isfinite(results[name]) for name in names)


def test_save_and_load_round_trip_gives_identical_outputs(tmp_path):
    import keras

    prior = {"centres": ring_centres(10, 4.0).tolist(), "scale": 0.5}
    model = small_model(seed=3, **prior)
    model.fit(images(60), epochs=1, batch_size=30, verbose=0)
    path = tmp_path / "aae.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded).__name__ == "AAE"
    batch = images(10, seed=2)
    np.testing.assert_array_equal(to_numpy(model(batch)), to_numpy(loaded(batch)))
    codings = to_numpy(model.encoder(batch))
    np.testing.assert_array_equal(codings, to_numpy(loaded.encoder(batch)))
    np.testing.assert_array_equal(to_numpy(model.discriminator(codings)),
                                  to_numpy(loaded.discriminator(codings)))
    np.testing.assert_array_equal(loaded.centres, model.centres)
    assert loaded.scale == 0.5
    stretched = small_model(seed=3, centres=[[0.0, 1.4]], scale=[0.5, 0.1])
    stretched.fit(images(30), epochs=1, batch_size=30, verbose=0)
    stretched.save(tmp_path / "stretched.keras")
    assert keras.saving.load_model(tmp_path / "stretched.keras").scale == [0.5, 0.1]
    # The three optimizers come back with their state, and training goes on.
    for name in ("optimizer", "discriminator_optimizer", "regularization_optimizer"):
        assert getattr(loaded, name).iterations.numpy() == 2, name
    history = loaded.fit(images(30), epochs=1, batch_size=30, verbose=0)
    assert np.isfinite(history.history["loss"][-1])


# ------------------------------------------------------------------ the distance


def gaussian_mmd_squared(shift, bandwidth, dim):
    """MMD^2 between N(0, I) and N(shift, I) with a Gaussian kernel, exactly."""
    variance = bandwidth**2
    same = (variance / (variance + 2)) ** (dim / 2)
    cross = same * np.exp(-np.sum(np.square(shift)) / (2 * (variance + 2)))
    return 2 * same - 2 * cross


def test_mmd_of_a_sample_with_itself_is_zero():
    x = np.random.default_rng(0).normal(size=(300, 2))
    assert mmd(x, x) == pytest.approx(0.0, abs=1e-6)


def test_mmd_of_two_point_masses_has_its_closed_form():
    a = np.zeros((5, 2))
    b = np.tile([[1.0, 2.0]], (7, 1))
    # k(a, a) = k(b, b) = 1 and k(a, b) = exp(-|a - b|^2 / 2 sigma^2).
    for bandwidth in (0.5, 1.0, 3.0):
        expected = np.sqrt(2 - 2 * np.exp(-5.0 / (2 * bandwidth**2)))
        assert mmd(a, b, bandwidth) == pytest.approx(expected, rel=1e-9)
    assert mmd(a, b) == pytest.approx(mmd(b, a))


@pytest.mark.parametrize("bandwidth", [1.0, 2.0])
def test_mmd_between_two_gaussians_matches_the_closed_form(bandwidth):
    rng = np.random.default_rng(1)
    shift = np.array([1.0, -0.5])
    # The average over a few independent pairs of samples of 2,000 points.
    estimates = [mmd(rng.normal(size=(2000, 2)),
                     shift + rng.normal(size=(2000, 2)), bandwidth) ** 2
                 for _ in range(5)]
    expected = gaussian_mmd_squared(shift, bandwidth, 2)
    assert np.mean(estimates) == pytest.approx(expected, abs=0.015)
    # Two samples of the same Gaussian: only the small positive bias remains.
    floor = mmd(rng.normal(size=(2000, 2)), rng.normal(size=(2000, 2)), bandwidth)
    assert floor < 0.05 < np.sqrt(expected)


def test_mmd_rejects_samples_of_different_dimensions():
    with pytest.raises(ValueError, match="two \\(n, d\\) arrays"):
        mmd(np.zeros((3, 2)), np.zeros((3, 3)))


# ------------------------------------------------------------------ the VAE variant


def test_grey_level_vae_trains_on_the_grey_levels_themselves():
    import keras

    keras.utils.set_random_seed(0)
    model = GreyLevelVAE(build_encoder(2, seed=1), build_decoder(2), seed=2)
    assert isinstance(model, VAE)
    model.compile(optimizer=keras.optimizers.Adam(0.0))
    # Grey pixels of 0.2 and a decoder that outputs their logit, log(0.2 / 0.8),
    # everywhere: on the grey levels the reconstruction term is exactly 784
    # times the entropy of 0.2. A binarised copy (chapter 6's VAE) would give
    # that only on average, with sampling noise far above the tolerance.
    logits_layer = model.decoder.get_layer("logits")
    kernel, bias = logits_layer.get_weights()
    logits_layer.set_weights([np.zeros_like(kernel),
                              np.full_like(bias, np.log(0.2 / 0.8))])
    batch = np.full((64, 784), 0.2, dtype="float32")
    logs = model.train_step((batch,))
    entropy = -(0.2 * np.log(0.2) + 0.8 * np.log(0.8))
    assert float(logs["reconstruction_loss"]) == pytest.approx(784 * entropy,
                                                               rel=1e-4)
    assert float(logs["loss"]) == pytest.approx(
        float(logs["reconstruction_loss"]) + float(logs["kl_loss"]), rel=1e-5)
