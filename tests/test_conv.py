"""Unit tests of chapter 7: the output-size formula and the autoencoder's shapes."""

from __future__ import annotations

import itertools

import conftest
import keras
import numpy as np
import pytest
from keras import layers


@pytest.fixture(scope="module")
def chapter():
    return conftest.notebook_definitions("07_convolutional_autoencoder")


CASES = list(itertools.product((5, 7, 14, 28), (1, 2, 3, 4, 5), (1, 2, 3),
                               ("valid", "same")))


@pytest.mark.parametrize("size,kernel_size,strides,padding", CASES)
def test_output_size_agrees_with_keras(chapter, size, kernel_size, strides, padding):
    conv_output_size = chapter["conv_output_size"]
    transposed = layers.Conv2DTranspose(1, kernel_size, strides=strides,
                                        padding=padding)
    assert conv_output_size(size, kernel_size, strides, padding, transposed=True) == (
        transposed.compute_output_shape((None, size, size, 1))[1])
    # Keras builds the shape, and runs the layer, only where the kernel fits.
    if padding == "same" or kernel_size <= size:
        conv = layers.Conv2D(1, kernel_size, strides=strides, padding=padding)
        expected = conv.compute_output_shape((None, size, size, 1))[1]
        assert conv_output_size(size, kernel_size, strides, padding) == expected
        output = conv(np.zeros((1, size, size, 1), "float32"))
        assert output.shape[1] == expected


def test_output_size_of_a_transposed_convolution_that_runs(chapter):
    layer = layers.Conv2DTranspose(2, 3, strides=2, padding="valid")
    output = layer(np.zeros((1, 7, 7, 1), "float32"))
    assert output.shape[1:3] == (15, 15)
    assert chapter["conv_output_size"](7, 3, 2, "valid", transposed=True) == 15


@pytest.mark.parametrize("args,message", [
    ((28, 3, 2, "full"), "padding"),
    ((0, 3, 2, "same"), "size"),
    ((28, 3, 0, "same"), "strides"),
    ((28, 2.0, 2, "same"), "kernel_size"),
    ((2, 3, 1, "valid"), "does not fit"),
])
def test_output_size_rejects_bad_input(chapter, args, message):
    with pytest.raises(ValueError, match=message):
        chapter["conv_output_size"](*args)


def test_encoder_decoder_round_trip_gives_the_image_shape_back(chapter):
    keras.utils.set_random_seed(0)
    filters = (8, 16)
    encoder = chapter["build_conv_encoder"](20, filters)
    decoder = chapter["build_conv_decoder"](20, filters)
    images = np.random.default_rng(0).uniform(size=(3, 28, 28, 1)).astype("float32")
    codings = encoder(images)
    assert tuple(codings.shape) == (3, 20)
    assert tuple(decoder(codings).shape) == (3, 28, 28, 1)
    autoencoder = chapter["build_autoencoder"](encoder, decoder, "round_trip")
    assert autoencoder.output_shape == (None, 28, 28, 1)
    assert autoencoder.count_params() == (encoder.count_params()
                                          + decoder.count_params())


def test_dense_comparison_model_has_chapter_2s_size(chapter):
    dense = chapter["build_autoencoder"](chapter["build_dense_encoder"](20),
                                         chapter["build_dense_decoder"](20), "dense")
    assert dense.count_params() == 487_588
    assert dense.output_shape == (None, 28, 28, 1)
