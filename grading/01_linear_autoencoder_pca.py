"""Hidden tests of chapter 1's exercises: the grader runs each right after the
student's answer, in the student's kernel (tools/make_labs.py puts them in the
question's test cell, between nbgrader's hidden-test markers).

They read what the student's cells and the chapter computed, never train a
model, and fail by raising through helpers.self_check, whose message is all the
student's feedback shows. Their tolerances hold in quick mode.
"""

QUESTIONS = {
    "Exercise 1": {
        "points": 2,
        # A linear decoder maps every coding into a plane, and no plane
        # reconstructs better than PCA's: the tanh model cannot beat pca_mse.
        "tests": '''
helpers.self_check(
    "Exercise 1 (hidden tests)",
    lambda: isinstance(tanh_autoencoder, keras.Model)
    and [(layer.units, layer.activation) for layer in tanh_autoencoder.layers
         if isinstance(layer, layers.Dense)]
    == [(2, keras.activations.tanh), (3, keras.activations.linear)]
    and (lambda reconstructions: reconstructions.shape == x_data.shape
         and abs(float(tanh_mse) - float(np.mean((reconstructions - x_data) ** 2)))
         <= 1e-4 * float(tanh_mse) + 1e-7)(
        np.asarray(tanh_autoencoder.predict(x_data, verbose=0)))
    and float(tanh_mse) < 0.5 * mean_mse
    and float(tanh_mse) >= (1 - 1e-3) * pca_mse,
    "tanh_autoencoder should be a trained 3-2-3 model, a Dense encoder of 2 tanh "
    "units and a linear Dense decoder of 3 units, and tanh_mse the mean squared "
    "error of its reconstructions of x_data.",
)
''',
    },
    "Exercise 2": {
        "points": 2,
        # An orthogonal projector onto the decoder's plane: symmetric, idempotent,
        # of rank 2, and it leaves the decoder's directions where they are.
        "tests": '''
helpers.self_check(
    "Exercise 2 (hidden tests)",
    lambda: np.shape(ae_projector) == (3, 3)
    and np.allclose(ae_projector, np.transpose(ae_projector), atol=1e-5)
    and np.allclose(np.asarray(ae_projector, dtype=float) @ ae_projector,
                    ae_projector, atol=1e-5)
    and abs(float(np.trace(ae_projector)) - 2) < 1e-4
    and (lambda kernel: np.allclose(
        kernel @ np.asarray(ae_projector, dtype=float), kernel,
        atol=1e-4 * max(1.0, np.abs(kernel).max())))(
        np.asarray(autoencoder.get_layer("decoder").kernel.numpy(), dtype=float)),
    "ae_projector should be the orthogonal projector onto the decoder's plane: a "
    "symmetric 3 x 3 matrix P with P @ P = P, of rank 2, that leaves the rows of "
    "decoder_kernel unchanged.",
)
''',
    },
    "Exercise 3": {
        "points": 2,
        # Orthonormal rows, PCA's plane, and in PCA's order (up to their signs).
        "tests": '''
helpers.self_check(
    "Exercise 3 (hidden tests)",
    lambda: np.shape(svd_components) == (2, 3)
    and np.allclose(np.asarray(svd_components, dtype=float)
                    @ np.transpose(svd_components), np.eye(2), atol=1e-4)
    and np.degrees(subspace_angles(np.transpose(svd_components),
                                   pca.components_.T)).max() < 1e-2
    and np.all(np.abs(np.sum(np.asarray(svd_components, dtype=float)
                             * pca.components_, axis=1)) > 1 - 1e-4),
    "svd_components should hold, as its two rows, the unit directions of largest "
    "and second-largest variance of the centred x_data, in that order.",
)
''',
    },
    "Exercise 4": {
        "points": 1,
        "tests": '''
helpers.self_check(
    "Exercise 4 (hidden tests)",
    lambda: np.ndim(worst_indices) == 1 and len(worst_indices) == 10
    and np.issubdtype(np.asarray(worst_indices).dtype, np.integer)
    and len(set(np.asarray(worst_indices).tolist())) == 10
    and (lambda errors: errors[np.asarray(worst_indices)].min()
         >= np.sort(errors)[-10])(np.mean((ae_test - x_test) ** 2, axis=1)),
    "worst_indices should hold 10 different integer indices into x_test: those of "
    "the images with the largest mean squared reconstruction error.",
)
''',
    },
}
