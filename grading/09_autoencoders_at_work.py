"""Hidden tests of chapter 9's exercises: the grader runs each right after the
student's answer, in the student's kernel (tools/make_labs.py puts them in the
question's test cell, between nbgrader's hidden-test markers).

They read what the student's cells and the chapter computed, never train a
model, and fail by raising through helpers.self_check, whose message is all the
student's feedback shows. Their tolerances hold in quick mode.
"""

QUESTIONS = {
    "Exercise 1": {
        "points": 1,
        "tests": '''
helpers.self_check(
    "Exercise 1 (hidden tests)",
    lambda: (lambda normal: np.ndim(strict_threshold) == 0
             and np.quantile(normal, 0.985) <= float(strict_threshold)
             <= np.quantile(normal, 0.995))(
        shown_validation[y_validation != shown_class])
    and abs(float(strict_recall)
            - np.mean(shown_test[test_is_novel] > strict_threshold)) < 1e-9
    and abs(float(strict_false_alarms)
            - np.mean(shown_test[~test_is_novel] > strict_threshold)) < 1e-9
    and float(strict_false_alarms) <= false_alarm_rate,
    "strict_threshold should be the 99th percentile of the autoencoder's scores "
    "of the normal validation images (shown_validation without shown_class); "
    "strict_recall the share of the test bags scored above it, "
    "strict_false_alarms the share of the normal test images.",
)
''',
    },
    "Exercise 2": {
        "points": 2,
        # Computed again, class by class, from the neighbours found in codings.
        "tests": '''
helpers.self_check(
    "Exercise 2 (hidden tests)",
    lambda: np.shape(precision_by_class) == (10,)
    and np.allclose(np.asarray(precision_by_class, dtype=float), [
        np.mean(y_pool[neighbour_indices["codings"][y_test == label]] == label)
        for label in range(10)], atol=1e-9),
    "precision_by_class[c] should be, over the test queries of class c, the mean "
    "share of their 10 nearest neighbours in codings "
    "(neighbour_indices['codings']) that are of class c too.",
)
''',
    },
    "Exercise 3": {
        "points": 3,
        # Trained without bags: as many steps as num_epochs epochs of the nine
        # classes in batches of batch_size.
        "tests": '''
helpers.self_check(
    "Exercise 3 (hidden tests)",
    lambda: isinstance(denoising_autoencoder, Autoencoder)
    and denoising_autoencoder is not autoencoder
    and any(layer is denoising_autoencoder for layer in denoising_trainer.layers)
    and [(layer.stddev, type(layer)) for layer in denoising_trainer.layers
         if not isinstance(layer, Autoencoder)] == [(0.2, layers.GaussianNoise)]
    and int(denoising_trainer.optimizer.iterations) == num_epochs * -(
        -len(leave_one_class_out(y_pool, shown_class)) // batch_size)
    and np.shape(denoising_scores) == (len(x_test),)
    and np.allclose(denoising_scores, reconstruction_errors(
        denoising_autoencoder, x_test)["squared error"], atol=1e-6)
    and abs(float(denoising_auc) - roc_auc_score(test_is_novel, denoising_scores))
    < 1e-9
    and np.median(denoising_scores[~test_is_novel])
    < 2 * np.median(scores["test"][shown_class]["squared error"][~test_is_novel]),
    "denoising_autoencoder should be a new Autoencoder, the only layer of "
    "denoising_trainer besides GaussianNoise(0.2) in front of it, trained for "
    "num_epochs epochs on the pool without bags in batches of batch_size; "
    "denoising_scores its squared errors on the clean test images; "
    "denoising_auc their ROC-AUC for bags.",
)
''',
    },
    "Exercise 4": {
        "points": 3,
        # The cross-entropy of a grey pixel x is at least its entropy, and the KL
        # term is not negative: each score is at least the image's entropy in
        # nats, summed over its pixels.
        "tests": '''
helpers.self_check(
    "Exercise 4 (hidden tests)",
    lambda: np.shape(elbo_scores) == (len(x_test),)
    and np.all(np.isfinite(elbo_scores))
    and (lambda pixels: np.all(np.asarray(elbo_scores, dtype=float) >= np.sum(
        -pixels * np.log(pixels) - (1 - pixels) * np.log(1 - pixels), axis=1)
        - 1e-2))(np.clip(x_test.astype(float), 1e-12, 1 - 1e-12))
    and 100 < np.median(elbo_scores) < 0.8 * 784 * np.log(2)
    and abs(float(elbo_auc) - roc_auc_score(test_is_novel, elbo_scores)) < 1e-9,
    "elbo_scores should hold one negative ELBO per test image, in nats (the "
    "cross-entropy summed over the 784 pixels plus the KL term), of a VAE "
    "trained on the pool without bags; elbo_auc their ROC-AUC for bags.",
)
''',
    },
}
