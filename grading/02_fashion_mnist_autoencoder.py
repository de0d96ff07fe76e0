"""Hidden tests of chapter 2's exercises: the grader runs each right after the
student's answer, in the student's kernel (tools/make_labs.py puts them in the
question's test cell, between nbgrader's hidden-test markers).

They read what the student's cells and the chapter computed, never train a
model, and fail by raising through helpers.self_check, whose message is all the
student's feedback shows. Their tolerances hold in quick mode.
"""

QUESTIONS = {
    "Exercise 1": {
        "points": 1,
        # The codings of the test images are computed again from the encoder.
        "tests": '''
helpers.self_check(
    "Exercise 1 (hidden tests)",
    lambda: classifier.n_features_in_ == latent_dim
    and 0.5 < float(codings_accuracy) <= 1
    and abs(float(codings_accuracy) - float(np.mean(classifier.predict(
        ops.convert_to_numpy(fit_autoencoder.encoder(x_test))) == y_test))) < 1e-6,
    "classifier should be fitted on the codings of the training images; "
    "codings_accuracy should be its accuracy on the codings of the test images "
    "(x_test and y_test), a fraction between 0 and 1.",
)
''',
    },
    "Exercise 2": {
        "points": 1,
        "tests": '''
helpers.self_check(
    "Exercise 2 (hidden tests)",
    lambda: np.ndim(neighbour_indices) == 1 and len(neighbour_indices) == 5
    and np.issubdtype(np.asarray(neighbour_indices).dtype, np.integer)
    and len(set(np.asarray(neighbour_indices).tolist())) == 5
    and 0 not in np.asarray(neighbour_indices).tolist()
    and (lambda distances: distances[np.asarray(neighbour_indices)].max()
         <= np.sort(distances)[5] + 1e-6)(
        np.linalg.norm(test_codings - test_codings[0], axis=1)),
    "neighbour_indices should hold 5 different integer indices into x_test, not 0: "
    "those of the images whose codings are nearest to the codings of image 0.",
)
''',
    },
    "Exercise 3": {
        "points": 2,
        # Evenly spaced: every step is a seventh of the way from image 0 to 1.
        "tests": '''
helpers.self_check(
    "Exercise 3 (hidden tests)",
    lambda: np.shape(interpolated_codings) == (8, latent_dim)
    and np.shape(interpolated_images) == (8, 784)
    and (lambda ends, scale: np.allclose(
        np.asarray(interpolated_codings, dtype=float)[[0, -1]], ends,
        atol=1e-5 * scale)
        and np.allclose(np.diff(np.asarray(interpolated_codings, dtype=float),
                                axis=0), (ends[1] - ends[0]) / 7, atol=1e-5 * scale))(
        np.asarray(test_codings[:2], dtype=float), 1 + np.abs(test_codings[:2]).max())
    and 0 <= np.min(interpolated_images) and np.max(interpolated_images) <= 1
    and np.allclose(interpolated_images, ops.convert_to_numpy(ops.sigmoid(
        fit_autoencoder.decoder(np.asarray(interpolated_codings, "float32")))),
        atol=1e-4),
    "interpolated_codings should be the 8 codings at equal steps from those of "
    "test image 0 to those of test image 1, both included; interpolated_images "
    "what fit_autoencoder's decoder draws from them, passed through the sigmoid.",
)
''',
    },
    "Exercise 4": {
        "points": 3,
        # recount() is defined by the visible self-check, just above in this cell.
        "tests": '''
helpers.self_check(
    "Exercise 4 (hidden tests)",
    lambda: sorted(undercomplete_models) == sorted(dead_counts) == sorted(mnist_mse)
    == ["leaky_relu", "relu"]
    and undercomplete_models["relu"] is not undercomplete_models["leaky_relu"]
    and np.ndim(mnist_test) == 2 and np.shape(mnist_test)[1] == 784
    and 0 <= np.min(mnist_test) and np.max(mnist_test) <= 1
    and 0 < len(mnist_train) <= helpers.per_mode(full=10_000, quick=4_000)
    and all(
        [(layer.units, layer.activation)
         for layer in undercomplete_models[name].layers
         if isinstance(layer, layers.Dense)]
        == [(units, getattr(keras.activations, name))
            for units in (256, 128, 64, 128, 256)]
        + [(784, keras.activations.sigmoid)]
        and isinstance(dead_counts[name], (int, np.integer))
        and (lambda counted: counted[0] == dead_counts[name]
             and abs(float(mnist_mse[name]) - counted[1]) <= 1e-3 * counted[1])(
            recount(undercomplete_models[name], mnist_test))
        for name in ("relu", "leaky_relu")
    ),
    "undercomplete_models should hold two different trained models; dead_counts, "
    "for each, the whole number of hidden units whose output is at most 0 on every "
    "image of mnist_test; mnist_mse its mean squared error on mnist_test.",
)
''',
    },
    "Exercise 5": {
        "points": 2,
        # fit counts its steps in the optimizer: loop_epochs epochs of batch_size.
        "tests": '''
helpers.self_check(
    "Exercise 5 (hidden tests)",
    lambda: isinstance(reshuffled_autoencoder, Autoencoder)
    and reshuffled_autoencoder is not fit_autoencoder
    and reshuffled_autoencoder is not loop_autoencoder
    and int(reshuffled_autoencoder.optimizer.iterations)
    == loop_epochs * math.ceil(len(x_train) / batch_size)
    and (lambda loss: abs(float(reshuffle_gap) - abs(
        loss - history.history["val_loss"][loop_epochs - 1])) <= 1e-5
        and loss < history.history["val_loss"][0])(
        test_loss_of(reshuffled_autoencoder)),
    "reshuffled_autoencoder should be a new Autoencoder trained with fit for "
    "loop_epochs epochs, in batches of batch_size; reshuffle_gap the absolute "
    "difference between its test loss and fit_autoencoder's after loop_epochs "
    "epochs (history.history['val_loss']).",
)
''',
    },
}
