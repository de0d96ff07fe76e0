"""Plausible wrong answers to chapter 1's exercises; each self-check must reject them.

Each entry replaces the solution cell's source (tests/test_student.py): either
code, or a tuple of (old, new) edits made to the solution. A wrong answer
assigns no name that the solution does not assign again, so that the chapter
goes on as it would without it.
"""

WRONG_ANSWERS = {
    # The tanh forgotten: a linear autoencoder, trained the same way, whose error
    # equals PCA's.
    "Exercise 1": (
        ('tanh_codings = layers.Dense(2, activation="tanh")(tanh_inputs)',
         "tanh_codings = layers.Dense(2)(tanh_inputs)"),
    ),
    # The decoder's rows are not orthonormal: W.T @ W is no projector.
    "Exercise 2": '''
ae_projector = decoder_kernel.T @ decoder_kernel
''',
    # Columns of V^T taken for its rows.
    "Exercise 3": '''
_, singular_values, v_transposed = np.linalg.svd(x_data - x_data.mean(axis=0))
svd_components = v_transposed[:, :2].T
''',
    # The 10 best reconstructed images, not the 10 worst.
    "Exercise 4": '''
errors_per_image = np.mean((ae_test - x_test) ** 2, axis=1)
worst_indices = np.argsort(errors_per_image)[:10]
''',
}
