"""Plausible wrong answers to chapter 5's exercises; each self-check must reject them.

Each entry replaces the solution cell's source (tests/test_student.py): either
code, or a tuple of (old, new) edits made to the solution.
"""

WRONG_ANSWERS = {
    # The factor h (1 - h) not squared: per-image norms of the wrong formula.
    "Exercise 1": (
        ("ops.square(h * (1 - h)) * column_norms", "h * (1 - h) * column_norms"),
        ("(h * (1 - h)) ** 2 * np.sum(kernel**2, axis=0)",
         "h * (1 - h) * np.sum(kernel**2, axis=0)"),
    ),
    # The tolerance misread: units within 0.005 of the target, not 0.05.
    "Exercise 2": '''
unit_means = activations["KL sparse"].mean(axis=0)
units_near_target = int(np.sum(np.abs(unit_means - sparsity_target) <= 0.005))
''',
    # The noisy images not clipped to [0, 1] before their PSNR is measured.
    "Exercise 3": (
        ("psnr_per_image(x_test, np.clip(noisy_test[0.3], 0, 1)))",
         "psnr_per_image(x_test, noisy_test[0.3]))"),
    ),
    # The noisy images' PSNR measured without clipping them to [0, 1].
    "Exercise 4": (
        ("helpers.psnr(x_test, np.clip(noisy_images, 0, 1))",
         "helpers.psnr(x_test, noisy_images)"),
    ),
}
