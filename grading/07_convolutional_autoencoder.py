"""Hidden tests of chapter 7's exercises: the grader runs each right after the
student's answer, in the student's kernel (tools/make_labs.py puts them in the
question's test cell, between nbgrader's hidden-test markers).

They read what the student's cells and the chapter computed, never train a
model, and fail by raising through helpers.self_check, whose message is all the
student's feedback shows. Their tolerances hold in quick mode.
"""

QUESTIONS = {
    "Exercise 1": {
        "points": 3,
        # One UpSampling2D + 3 x 3 "same" Conv2D per convolution of the encoder,
        # the last with one filter and no activation; a new encoder; trained for
        # early_epochs epochs of fit_dataset.
        "tests": '''
def hidden_decoder_ok(decoder, encoder):
    convolutions = [layer for layer in encoder.layers
                    if isinstance(layer, layers.Conv2D)]
    decoder_convolutions = [layer for layer in decoder.layers
                            if isinstance(layer, layers.Conv2D)]
    return (len([layer for layer in decoder.layers
                 if isinstance(layer, layers.UpSampling2D)]) == len(convolutions)
            and not any(isinstance(layer, layers.Conv2DTranspose)
                        for layer in decoder.layers)
            and len(decoder_convolutions) == len(convolutions)
            and all(tuple(layer.kernel_size) == (3, 3) and layer.padding == "same"
                    for layer in decoder_convolutions)
            and decoder_convolutions[-1].filters == 1
            and decoder_convolutions[-1].activation is keras.activations.linear
            and decoder.output_shape == (None, 28, 28, 1))


helpers.self_check(
    "Exercise 1 (hidden tests)",
    lambda: hidden_decoder_ok(
        upsampling_autoencoder.get_layer("upsampling_decoder"),
        [layer for layer in upsampling_autoencoder.layers
         if isinstance(layer, keras.Model) and layer.name != "upsampling_decoder"][0])
    and not {id(weight) for weight in upsampling_autoencoder.weights}
    & {id(weight) for weight in conv_autoencoder.weights}
    and int(upsampling_autoencoder.optimizer.iterations)
    == early_epochs * -(-len(x_fit) // batch_size)
    and abs(float(upsampling_test_mse) - float(np.mean(
        (reconstruct(upsampling_autoencoder, x_test) - x_test) ** 2)))
    <= 1e-4 * float(upsampling_test_mse)
    and float(upsampling_test_mse) < 0.8 * mean_image_mse
    and abs(float(early_conv_test_mse) - conv_test_mse_with(early_weights["conv"]))
    <= 1e-4 * float(early_conv_test_mse),
    "upsampling_autoencoder should pair a new encoder from build_conv_encoder with "
    "the decoder 'upsampling_decoder': one UpSampling2D and one 3 x 3 Conv2D with "
    "padding 'same' per convolution of the encoder, the last with 1 filter and no "
    "activation, back to 28 x 28 x 1; trained for early_epochs epochs of "
    "fit_dataset; upsampling_test_mse and early_conv_test_mse the test MSEs.",
)
''',
    },
    "Exercise 2": {
        "points": 3,
        # The models are gone: what can be checked is that the five errors come
        # from trained models and fall with the code size.
        "tests": '''
helpers.self_check(
    "Exercise 2 (hidden tests)",
    lambda: sorted(validation_mse_by_code_size) == [2, 5, 10, 20, 40]
    and all(np.ndim(value) == 0 and 0 < float(value) < mean_image_mse
            for value in validation_mse_by_code_size.values())
    and validation_mse_by_code_size[40] < 0.8 * validation_mse_by_code_size[2]
    and min(validation_mse_by_code_size[20], validation_mse_by_code_size[40])
    < validation_mse_by_code_size[5],
    "validation_mse_by_code_size should map 2, 5, 10, 20 and 40 to the held-out "
    "MSE (one number) of a convolutional autoencoder with that many codings, "
    "trained for 2 epochs; the error should fall as the code grows.",
)
''',
    },
    "Exercise 3": {
        "points": 1,
        # "same" gives 7 * 2 whatever the kernel; "valid" gives 14 + max(k - 2, 0).
        "tests": '''
helpers.self_check(
    "Exercise 3 (hidden tests)",
    lambda: isinstance(doubling_choices, (set, frozenset))
    and doubling_choices == {(1, "valid"), (2, "valid")}
    | {(kernel_size, "same") for kernel_size in range(1, 7)},
    "doubling_choices should be a set of (kernel_size, padding) tuples: all the "
    "pairs, kernel sizes 1 to 6, for which Conv2DTranspose with strides=2 and no "
    "output_padding turns 7 pixels into 14.",
)
''',
    },
    "Exercise 4": {
        "points": 1,
        "tests": '''
helpers.self_check(
    "Exercise 4 (hidden tests)",
    lambda: sorted(shifted_mse) == ["conv", "dense"]
    and all(np.ndim(shifted_mse[name]) == 0 and abs(float(shifted_mse[name])
            - float(np.mean((reconstruct(model, np.roll(x_test, 3, axis=2))
                             - np.roll(x_test, 3, axis=2)) ** 2)))
            <= 1e-4 * float(shifted_mse[name])
            for name, model in (("dense", dense_autoencoder),
                                ("conv", conv_autoencoder))),
    "shifted_mse['dense'] and shifted_mse['conv'] should each be one number: the "
    "MSE of that autoencoder's reconstructions of the test images rolled 3 pixels "
    "to the right (axis 2), against those rolled images.",
)
''',
    },
}
