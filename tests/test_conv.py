"""Unit tests of chapter 7's blocks: the output-size formula, a decoder that
gives the image's shape back whatever the depth of the encoder, and the spectrum
that measures checkerboards."""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest
from ae_blocks import (Decoder, Encoder, build_autoencoder, build_conv_decoder,
                       build_conv_encoder, conv_output_size, nyquist_peak,
                       power_spectrum)
from keras import layers

CASES = list(itertools.product((5, 7, 14, 28), (1, 2, 3, 4, 5), (1, 2, 3),
                               ("valid", "same")))


@pytest.mark.parametrize("size,kernel_size,strides,padding", CASES)
def test_output_size_agrees_with_keras(size, kernel_size, strides, padding):
    transposed = layers.Conv2DTranspose(1, kernel_size, strides=strides,
                                        padding=padding)
    assert conv_output_size(size, kernel_size, strides, padding, transposed=True) == (
        transposed.compute_output_shape((None, size, size, 1))[1])
    for output_padding in range(strides):
        transposed = layers.Conv2DTranspose(1, kernel_size, strides=strides,
                                            padding=padding,
                                            output_padding=output_padding)
        assert conv_output_size(size, kernel_size, strides, padding, transposed=True,
                                output_padding=output_padding) == (
            transposed.compute_output_shape((None, size, size, 1))[1])
    # Keras builds the shape, and runs the layer, only where the kernel fits.
    if padding == "same" or kernel_size <= size:
        conv = layers.Conv2D(1, kernel_size, strides=strides, padding=padding)
        expected = conv.compute_output_shape((None, size, size, 1))[1]
        assert conv_output_size(size, kernel_size, strides, padding) == expected
        output = conv(np.zeros((1, size, size, 1), "float32"))
        assert output.shape[1] == expected


def test_output_size_of_transposed_convolutions_that_run():
    layer = layers.Conv2DTranspose(2, 3, strides=2, padding="valid")
    output = layer(np.zeros((1, 7, 7, 1), "float32"))
    assert output.shape[1:3] == (15, 15)
    assert conv_output_size(7, 3, 2, "valid", transposed=True) == 15
    for output_padding, expected in ((0, 13), (1, 14)):
        layer = layers.Conv2DTranspose(2, 3, strides=2, padding="same",
                                       output_padding=output_padding)
        assert layer(np.zeros((1, 7, 7, 1), "float32")).shape[1:3] == (
            expected, expected)
        assert conv_output_size(7, 3, 2, "same", transposed=True,
                                output_padding=output_padding) == expected


def test_a_strided_convolution_maps_two_sizes_to_one():
    assert conv_output_size(13, 3, 2, "same") == conv_output_size(14, 3, 2, "same") == 7
    assert [conv_output_size(size, 3, 2, "same") for size in (28, 14, 7)] == [14, 7, 4]


@pytest.mark.parametrize("args,kwargs,message", [
    ((28, 3, 2, "full"), {}, "padding"),
    ((0, 3, 2, "same"), {}, "size"),
    ((28, 3, 0, "same"), {}, "strides"),
    ((28, 2.0, 2, "same"), {}, "kernel_size"),
    ((2, 3, 1, "valid"), {}, "does not fit"),
    ((7, 3, 2, "same"), {"transposed": True, "output_padding": 2}, "output_padding"),
    ((7, 3, 2, "same"), {"transposed": True, "output_padding": -1}, "output_padding"),
    ((7, 3, 2, "same"), {"output_padding": 1}, "output_padding"),
])
def test_output_size_rejects_bad_input(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        conv_output_size(*args, **kwargs)


@pytest.mark.parametrize("filters,sizes,output_paddings", [
    ((8,), [28], [(1, 1)]),
    ((8, 16), [14, 28], [(1, 1), (1, 1)]),
    ((8, 16, 32), [7, 14, 28], [(0, 0), (1, 1), (1, 1)]),
])
def test_decoder_gives_28_by_28_back_for_one_two_and_three_blocks(
        filters, sizes, output_paddings):
    keras.utils.set_random_seed(0)
    encoder = build_conv_encoder(20, filters)
    decoder = build_conv_decoder(encoder)
    transposed = [layer for layer in decoder.layers
                  if isinstance(layer, layers.Conv2DTranspose)]
    assert [layer.output.shape[1] for layer in transposed] == sizes
    assert [tuple(layer.output_padding) for layer in transposed] == output_paddings
    # The decoder starts from the encoder's last feature maps: 4 x 4 for three blocks.
    reshape = next(layer for layer in decoder.layers
                   if isinstance(layer, layers.Reshape))
    assert reshape.output.shape[1:] == encoder.get_layer(f"conv{len(filters)}").output \
        .shape[1:]
    images = np.random.default_rng(0).uniform(size=(3, 28, 28, 1)).astype("float32")
    codings = encoder(images)
    assert tuple(codings.shape) == (3, 20)
    assert tuple(decoder(codings).shape) == (3, 28, 28, 1)
    autoencoder = build_autoencoder(encoder, decoder, "round_trip")
    assert autoencoder.output_shape == (None, 28, 28, 1)
    assert autoencoder.count_params() == (encoder.count_params()
                                          + decoder.count_params())
    assert autoencoder.predict(images, verbose=0).shape == (3, 28, 28, 1)


def test_decoder_of_the_chapter_has_the_channels_of_the_encoder_in_reverse():
    encoder = build_conv_encoder(20, (24, 48))
    decoder = build_conv_decoder(encoder)
    assert [layer.filters for layer in decoder.layers
            if isinstance(layer, layers.Conv2DTranspose)] == [24, 1]
    assert decoder.get_layer("logits").activation is keras.activations.linear
    assert build_autoencoder(encoder, decoder, "conv").count_params() == 117_717


def test_dense_comparison_model_has_chapter_2s_size():
    dense = build_autoencoder(
        keras.Sequential([layers.Flatten(), Encoder(20)]),
        keras.Sequential([Decoder(), layers.Reshape((28, 28, 1))]), "dense")
    assert dense.count_params() == 487_588
    assert dense.output_shape == (None, 28, 28, 1)


def test_a_checkerboard_peaks_at_the_nyquist_frequency():
    rng = np.random.default_rng(0)
    smooth = rng.uniform(size=(50, 1, 1, 1)) * np.ones((50, 28, 28, 1))
    smooth += 0.01 * rng.normal(size=smooth.shape)
    rows, cols = np.indices((28, 28))
    checkerboard = 0.1 * (-1.0) ** (rows + cols)
    plain, patterned = (nyquist_peak(power_spectrum(images))
                        for images in (smooth, smooth + checkerboard[..., None]))
    assert 0.5 < plain < 2 and patterned > 100


def test_power_spectrum_sums_to_the_images_energy():
    images = np.random.default_rng(1).uniform(size=(3, 28, 28))
    # Parseval: the mean squared magnitude of the FFT is 28 * 28 times the
    # mean squared pixel.
    assert np.isclose(power_spectrum(images).sum(),
                      28 * 28 * np.mean(np.sum(images ** 2, axis=(1, 2))))


@pytest.mark.parametrize("bad,message", [
    (np.zeros((28, 28)), "num_images, height, width"),
    (np.zeros((2, 28, 28, 3)), "num_images, height, width"),
])
def test_power_spectrum_rejects_other_shapes(bad, message):
    with pytest.raises(ValueError, match=message):
        power_spectrum(bad)


def test_nyquist_peak_needs_even_sizes():
    with pytest.raises(ValueError, match="even sizes"):
        nyquist_peak(np.ones((27, 28)))
