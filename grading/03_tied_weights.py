"""Hidden tests of chapter 3's exercises: the grader runs each right after the
student's answer, in the student's kernel (tools/make_labs.py puts them in the
question's test cell, between nbgrader's hidden-test markers).

They read what the student's cells and the chapter computed, never train a
model, and fail by raising through helpers.self_check, whose message is all the
student's feedback shows. Their tolerances hold in quick mode.
"""

QUESTIONS = {
    "Exercise 1": {
        "points": 3,
        # Four kernels and eight biases: the tied layers own only their biases.
        "tests": '''
helpers.self_check(
    "Exercise 1 (hidden tests)",
    lambda: isinstance(deep_tied_model, keras.Model)
    and deep_tied_model.input_shape == (None, 784)
    and deep_tied_model.output_shape == (None, 784)
    and [(layer.units, layer.activation) for layer in deep_tied_model.layers
         if isinstance(layer, layers.Dense)]
    == [(units, keras.activations.tanh) for units in (256, 256, 64, 32)]
    and [layer.activation for layer in deep_tied_model.layers
         if isinstance(layer, DenseTranspose)] == [keras.activations.tanh] * 4
    and sorted(tuple(variable.shape)
               for variable in deep_tied_model.trainable_variables)
    == sorted([(784, 256), (256, 256), (256, 64), (64, 32), (256,), (256,), (64,),
               (32,), (64,), (256,), (256,), (784,)])
    and (lambda mean_image, outputs: abs(float(deep_tied_mse) - float(np.mean(
        (outputs + mean_image - x_test) ** 2))) <= 1e-3 * float(deep_tied_mse)
        # Trained on centred images, it reconstructs them better than raw ones.
        and abs(float(np.mean(outputs))) < 0.02
        and float(deep_tied_mse) < float(np.mean((deep_tied_model.predict(
            x_test, batch_size=2048, verbose=0) - x_test) ** 2)))(
        x_train.mean(axis=0), deep_tied_model.predict(
            x_test - x_train.mean(axis=0), batch_size=2048, verbose=0))
    and float(deep_tied_mse) < 0.8 * mean_image_mse,
    "deep_tied_model should map 784 inputs to 784 outputs through four tanh Dense "
    "layers (256, 256, 64, 32 units) and four tanh DenseTranspose layers, its only "
    "weights the four kernels and eight biases, trained on the centred training "
    "images; deep_tied_mse its test MSE once the mean training image is added "
    "back, well below that of the mean image.",
)
''',
    },
    "Exercise 2": {
        "points": 1,
        # L2(c) is c times the sum of the squared kernel entries, biases excluded.
        "tests": '''
helpers.self_check(
    "Exercise 2 (hidden tests)",
    lambda: np.ndim(penalty_by_hand) == 0
    and (lambda expected: abs(float(penalty_by_hand) - expected) <= 2e-5 * expected)(
        0.0005 * sum(float(np.sum(np.asarray(ops.convert_to_numpy(
            tied_model.get_layer(name).kernel), dtype=float) ** 2))
            for name in ("hidden1", "hidden2"))),
    "penalty_by_hand should be one number: 0.0005 times the sum of the squared "
    "entries of the kernels of hidden1 and hidden2 (each kernel counted once, no "
    "biases).",
)
''',
    },
    "Exercise 3": {
        "points": 2,
        # The decoder owns no kernel: only the biases of hidden3 and outputs.
        "tests": '''
helpers.self_check(
    "Exercise 3 (hidden tests)",
    lambda: isinstance(decoder_model, keras.Model)
    and decoder_model.input_shape == (None, 150)
    and decoder_model.output_shape == (None, 784)
    and decoder_model.get_layer("hidden3") is tied_model.get_layer("hidden3")
    and decoder_model.get_layer("outputs") is tied_model.get_layer("outputs")
    and sorted(tuple(variable.shape)
               for variable in decoder_model.trainable_variables)
    == [(300,), (784,)]
    and np.allclose(
        decoder_model.predict(ops.convert_to_numpy(tied_model.get_layer("hidden2")(
            tied_model.get_layer("hidden1")(x_test[-200:]))), verbose=0),
        tied_reconstructions[-200:], atol=1e-5),
    "decoder_model should take 150 codings through tied_model's own hidden3 and "
    "outputs layers, and decode the encoder's codings of any test image into "
    "tied_model's reconstruction; its trainable variables are the two biases only.",
)
''',
    },
    "Exercise 4": {
        "points": 3,
        # Trained as tied_model was: num_epochs epochs in batches of batch_size.
        "tests": '''
helpers.self_check(
    "Exercise 4 (hidden tests)",
    lambda: isinstance(weak_model, keras.Model) and weak_model is not tied_model
    and weak_model.input_shape == (None, 784)
    and weak_model.output_shape == (None, 784)
    and (lambda denses, tied: [(layer.units, layer.activation,
                                layer.kernel_regularizer.get_config()["l2"])
                               for layer in denses]
         == [(300, keras.activations.elu, 1e-5), (150, keras.activations.elu, 1e-5)]
         and [layer.tied_to for layer in tied] == denses[::-1]
         and [layer.activation for layer in tied]
         == [keras.activations.elu, keras.activations.linear])(
        [layer for layer in weak_model.layers if isinstance(layer, layers.Dense)],
        [layer for layer in weak_model.layers if isinstance(layer, DenseTranspose)])
    and len(weak_model.losses) == 2
    and int(weak_model.optimizer.iterations)
    == num_epochs * -(-len(x_train) // batch_size)
    and abs(float(weak_penalty_mse) - float(np.mean(
        (weak_model.predict(x_test, batch_size=2048, verbose=0) - x_test) ** 2)))
    <= 1e-3 * float(weak_penalty_mse)
    and float(weak_penalty_mse) < 0.8 * mean_image_mse,
    "weak_model should be a new model built like tied_model (ELU Dense layers of "
    "300 and 150 units with L2(1e-5) kernels, two DenseTranspose layers tied to "
    "them), trained for num_epochs epochs in batches of batch_size; "
    "weak_penalty_mse its own test MSE.",
)
''',
    },
}
