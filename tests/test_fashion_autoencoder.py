"""Unit tests of chapter 2's Encoder, Decoder and Autoencoder, from ae_blocks."""

from __future__ import annotations

import numpy as np
from ae_blocks import Autoencoder


def test_shapes_and_size_match_the_source():
    autoencoder = Autoencoder(20)
    images = np.random.default_rng(0).uniform(size=(3, 784)).astype("float32")
    assert tuple(autoencoder(images).shape) == (3, 784)
    # 243,412 weights in the encoder and 244,176 in the decoder, as in the source.
    assert autoencoder.encoder.count_params() == 243_412
    assert autoencoder.decoder.count_params() == 244_176


def test_encoder_and_decoder_work_on_their_own():
    autoencoder = Autoencoder(7)
    images = np.random.default_rng(1).uniform(size=(4, 784)).astype("float32")
    codings = autoencoder.encoder(images)
    assert tuple(codings.shape) == (4, 7)
    np.testing.assert_allclose(autoencoder.decoder(codings).numpy(),
                               autoencoder(images).numpy(), rtol=1e-6)
    # ReLU in the hidden layers, none on the codings and on the logits.
    hidden = autoencoder.encoder.hidden_layers + autoencoder.decoder.hidden_layers
    assert [layer.activation.__name__ for layer in hidden] == ["relu"] * 6
    assert autoencoder.encoder.codings_layer.activation.__name__ == "linear"
    assert autoencoder.decoder.logits_layer.activation.__name__ == "linear"
