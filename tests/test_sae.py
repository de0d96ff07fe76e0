"""Unit tests of chapter 10's building blocks: the sparse autoencoder and its
measures."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from ae_blocks import (SparseAutoencoder, class_purity, dead_share, geometric_median,
                       mean_l0, normalised_mse, top_k_mask)
from keras import ops


def test_top_k_mask_keeps_exactly_k():
    x = np.random.default_rng(0).normal(size=(64, 40)).astype("float32")
    mask = ops.convert_to_numpy(top_k_mask(x, 5))
    assert (mask.sum(axis=1) == 5).all()
    np.testing.assert_allclose(np.sort(x * mask, axis=1)[:, -5:],
                               np.sort(x, axis=1)[:, -5:])


def test_topk_latents_are_the_k_largest_pre_activations():
    x = np.random.default_rng(1).normal(size=(32, 8)).astype("float32")
    sae = SparseAutoencoder(8, 40, k=5, seed=0)
    latents = ops.convert_to_numpy(sae.encode(x))
    pre_activations = ops.convert_to_numpy(sae.pre_activations(x))
    assert (np.sum(latents > 0, axis=1) <= 5).all()
    top5 = np.sort(pre_activations, axis=1)[:, -5:]
    np.testing.assert_allclose(np.sort(latents, axis=1)[:, -5:],
                               np.maximum(top5, 0), rtol=1e-6)


@pytest.mark.parametrize("settings", [dict(k=3), dict(l1_weight=0.1),
                                      dict(k=3, aux_k=4, dead_steps=0)])
def test_decoder_rows_have_unit_norm_after_training(settings):
    x = np.random.default_rng(2).normal(size=(256, 8)).astype("float32")
    sae = SparseAutoencoder(8, 32, seed=0, **settings)
    sae.compile(optimizer=keras.optimizers.Adam(0.1))
    before = sae.decoder_weights.numpy().copy()
    sae.fit(x, epochs=1, batch_size=64, verbose=0)
    after = sae.decoder_weights.numpy()
    assert not np.allclose(before, after), "the decoder did not train"
    np.testing.assert_allclose(np.linalg.norm(after, axis=1), 1.0, atol=1e-5)


def test_pre_bias_is_subtracted_before_encoding_and_added_after_decoding():
    sae = SparseAutoencoder(4, 6, k=2, seed=0)
    x = np.random.default_rng(3).normal(size=(5, 4)).astype("float32")
    shift = np.array([1.0, -2.0, 0.5, 3.0], "float32")
    before = ops.convert_to_numpy(sae.encode(x))
    sae.pre_bias.assign(shift)
    np.testing.assert_allclose(ops.convert_to_numpy(sae.encode(x + shift)), before,
                               atol=1e-5)
    latents = ops.convert_to_numpy(sae.encode(x + shift))
    np.testing.assert_allclose(
        ops.convert_to_numpy(sae(x + shift)),
        latents @ sae.decoder_weights.numpy() + shift, atol=1e-5)


def test_get_config_round_trip():
    sae = SparseAutoencoder(8, 32, k=4, aux_k=8, dead_steps=7, variance=2.5, seed=3,
                            name="sae")
    config = sae.get_config()
    copy = SparseAutoencoder.from_config(config)
    for name in ("input_dim", "num_latents", "k", "l1_weight", "aux_k",
                 "aux_weight", "dead_steps", "variance", "seed"):
        assert getattr(copy, name) == getattr(sae, name), name
    assert copy.name == "sae"
    assert copy.decoder_weights.shape == (32, 8)


def test_measures_on_hand_made_cases():
    latents = np.array([[0, 1, 0, 0], [0, 2, 0, 3], [0, 0, 0, 1]], "float32")
    assert dead_share(latents) == 0.5
    assert mean_l0(latents) == pytest.approx(4 / 3)
    x = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    assert normalised_mse(x, x) == 0.0
    assert normalised_mse(x, np.tile(x.mean(axis=0), (3, 1))) == pytest.approx(1.0)
    points = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [100.0, 100.0]])
    median = geometric_median(points)
    assert np.linalg.norm(median) < 1.0  # the mean would be pulled to (25, 25)


def test_class_purity_on_a_hand_made_case():
    activations = np.zeros((6, 3), "float32")
    activations[:, 0] = [5, 4, 3, 0, 0, 0]  # top 3: classes 0, 0, 1
    activations[:, 1] = [1, 2, 3, 4, 5, 6]  # top 3: classes 2, 2, 1
    activations[:, 2] = [0, 0, 0, 0, 0, 1]  # active once: left out
    labels = np.array([0, 0, 1, 1, 2, 2])
    purities, kept = class_purity(activations, labels, top=3)
    assert list(kept) == [0, 1]
    np.testing.assert_allclose(purities, [2 / 3, 2 / 3])
    purities, kept = class_purity(activations, labels, top=4)
    assert list(kept) == [1]
    np.testing.assert_allclose(purities, [2 / 4])
