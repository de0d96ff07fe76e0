"""Hidden tests of chapter 5's exercises: the grader runs each right after the
student's answer, in the student's kernel (tools/make_labs.py puts them in the
question's test cell, between nbgrader's hidden-test markers).

They read what the student's cells and the chapter computed, never train a
model, and fail by raising through helpers.self_check, whose message is all the
student's feedback shows. Their tolerances hold in quick mode.
"""

QUESTIONS = {
    "Exercise 1": {
        "points": 3,
        # The norms are computed again for every test image from the coding
        # layer's kernel and activations, checked by central differences on
        # other images than the self-check's; the loss that the layer adds must
        # be 0.01 times their mean over the batch.
        "tests": '''
def hidden_expected_norms(autoencoder, images):
    kernels = [weight for weight in autoencoder.get_layer("codings").weights
               if tuple(weight.shape) == (784, coding_units)]
    codings = encoder_of(autoencoder).predict(images, batch_size=2048, verbose=0)
    return np.sum((codings * (1 - codings)) ** 2
                  * np.sum(ops.convert_to_numpy(kernels[0]) ** 2, axis=0), axis=1)


def hidden_added_loss(autoencoder, images):
    autoencoder(images)
    return float(sum(ops.convert_to_numpy(loss) for loss in autoencoder.losses))


helpers.self_check(
    "Exercise 1 (hidden tests)",
    lambda: np.shape(contractive_jacobian) == np.shape(plain_jacobian)
    == (len(x_test),)
    and np.allclose(contractive_jacobian,
                    hidden_expected_norms(contractive_autoencoder, x_test),
                    rtol=1e-3, atol=1e-6)
    and np.allclose(plain_jacobian, hidden_expected_norms(plain_autoencoder, x_test),
                    rtol=1e-3, atol=1e-6)
    and np.allclose(contractive_jacobian[-3:],
                    norms_by_differences(contractive_autoencoder, x_test[-3:]),
                    rtol=0.05)
    and np.isclose(hidden_added_loss(contractive_autoencoder, x_test[:500]),
                   0.01 * np.mean(hidden_expected_norms(contractive_autoencoder,
                                                        x_test[:500])), rtol=1e-3)
    and int(contractive_autoencoder.optimizer.iterations) > 0
    and float(np.mean((contractive_autoencoder.predict(
        x_test, batch_size=2048, verbose=0) - x_test) ** 2))
    < float(np.mean((x_train.mean(axis=0) - x_test) ** 2)),
    "The layer named 'codings' should add, with add_loss, 0.01 times the batch "
    "mean of sum_j (h_j (1 - h_j))^2 * sum_i W_ij^2, and contractive_autoencoder "
    "be trained with it; contractive_jacobian and plain_jacobian should hold that "
    "norm for every test image, of each autoencoder.",
)
''',
    },
    "Exercise 2": {
        "points": 1,
        "tests": '''
helpers.self_check(
    "Exercise 2 (hidden tests)",
    lambda: np.shape(unit_means) == (coding_units,)
    and np.allclose(unit_means, activations["KL sparse"].mean(axis=0), atol=1e-6)
    and isinstance(units_near_target, (int, np.integer))
    and units_near_target == int(np.sum(
        np.abs(activations["KL sparse"].mean(axis=0) - sparsity_target) <= 0.05)),
    "unit_means should hold, for each coding unit of the KL-sparse autoencoder, "
    "its mean activation over the test images; units_near_target the whole "
    "number of units whose mean lies within 0.05 of sparsity_target.",
)
''',
    },
    "Exercise 3": {
        "points": 2,
        # The gains are computed again from the denoiser's outputs.
        "tests": '''
helpers.self_check(
    "Exercise 3 (hidden tests)",
    lambda: (lambda gains: np.shape(gain_per_image) == (len(x_test),)
             and np.allclose(gain_per_image, gains, atol=1e-3)
             and np.ndim(least_improved) == 1 and len(least_improved) == 10
             and np.issubdtype(np.asarray(least_improved).dtype, np.integer)
             and len(set(np.asarray(least_improved).tolist())) == 10
             and gains[np.asarray(least_improved)].max()
             <= np.sort(gains)[9] + 1e-6)(
        10 * np.log10(1 / np.mean((gaussian_autoencoder.predict(
            noisy_test[0.3], batch_size=2048, verbose=0) - x_test) ** 2, axis=1))
        - 10 * np.log10(1 / np.mean(
            (np.clip(noisy_test[0.3], 0, 1) - x_test) ** 2, axis=1))),
    "gain_per_image should hold, for every test image, the PSNR (in dB) of "
    "gaussian_autoencoder's output for noisy_test[0.3] minus the PSNR of the "
    "noisy image clipped to [0, 1]; least_improved the 10 different indices of "
    "the smallest gains.",
)
''',
    },
    "Exercise 4": {
        "points": 2,
        # A fresh draw of the noise at each level gives the same mean PSNRs to
        # well within 0.1 dB.
        "tests": '''
def hidden_psnrs(sigma, rng):
    noisy = x_test + sigma * rng.normal(size=x_test.shape).astype("float32")
    return (helpers.psnr(x_test, gaussian_autoencoder.predict(
                noisy, batch_size=2048, verbose=0)),
            helpers.psnr(x_test, np.clip(noisy, 0, 1)))


helpers.self_check(
    "Exercise 4 (hidden tests)",
    lambda: (lambda rng: list(by_level(psnr_by_sigma))
             == list(by_level(noisy_psnr_by_sigma))
             == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
             and all(abs(by_level(psnr_by_sigma)[sigma] - expected[0]) < 0.1
                     and abs(by_level(noisy_psnr_by_sigma)[sigma] - expected[1])
                     < 0.1
                     for sigma in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
                     for expected in [hidden_psnrs(sigma, rng)]))(
        np.random.default_rng(12345)),
    "psnr_by_sigma should map each noise level 0.1, 0.2, ..., 0.8 to the mean "
    "PSNR of gaussian_autoencoder's outputs for the test images with Gaussian "
    "noise of that sigma, and noisy_psnr_by_sigma to the mean PSNR of those noisy "
    "images clipped to [0, 1].",
)
''',
    },
}
