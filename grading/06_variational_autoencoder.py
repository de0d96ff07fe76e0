"""Hidden tests of chapter 6's exercises: the grader runs each right after the
student's answer, in the student's kernel (tools/make_labs.py puts them in the
question's test cell, between nbgrader's hidden-test markers).

They read what the student's cells and the chapter computed, never train a
model, and fail by raising through helpers.self_check, whose message is all the
student's feedback shows. Their tolerances hold in quick mode.
"""

QUESTIONS = {
    "Exercise 1": {
        "points": 2,
        # The KL term of the test digits has no sampling noise: it is computed
        # again from the encoder's means and log-variances.
        "tests": '''
helpers.self_check(
    "Exercise 1 (hidden tests)",
    lambda: isinstance(beta_vae, VAE) and beta_vae is not vae
    and float(beta_vae.beta) == 4.0
    and beta_vae.encoder is not encoder and beta_vae.decoder is not decoder
    and beta_vae.encoder.outputs[0].shape[-1] == latent_dim
    and int(beta_vae.optimizer.iterations)
    == num_epochs * -(-len(x_train) // batch_size)
    and (lambda outputs: np.isclose(float(beta_kl), np.mean(0.5 * np.sum(
        np.exp(outputs[1]) + outputs[0] ** 2 - 1 - outputs[1], axis=1)),
        rtol=1e-3))([ops.convert_to_numpy(output)
                     for output in beta_vae.encoder(x_test_binary)])
    and np.isclose(float(beta_reconstruction),
                   test_terms(beta_vae)["reconstruction_loss"], rtol=0.03)
    and float(beta_kl) < test_kl and float(beta_reconstruction) > test_reconstruction,
    "beta_vae should be a new VAE with beta=4 and 20 codings, trained like vae "
    "(num_epochs epochs of train_dataset); beta_kl and beta_reconstruction its "
    "mean KL and reconstruction terms, in nats, on the binarised test digits.",
)
''',
    },
    "Exercise 2": {
        "points": 3,
        # Only encode_decode is overridden; the decoder follows the label it is
        # given, in any order, and most generated digits look like their row's.
        "tests": '''
helpers.self_check(
    "Exercise 2 (hidden tests)",
    lambda: isinstance(conditional_vae, VAE) and conditional_vae is not vae
    and all(getattr(type(conditional_vae), name) is getattr(VAE, name)
            for name in ("train_step", "test_step", "compute_terms"))
    and type(conditional_vae).encode_decode is not VAE.encode_decode
    and [tuple(tensor.shape) for tensor in conditional_vae.decoder.inputs]
    == [(None, latent_dim), (None, 10)]
    and len(conditional_vae.encoder.inputs) == 2
    and int(conditional_vae.optimizer.iterations) > 0
    and np.shape(conditional_digits) == (10, 10, 784)
    and 0 <= np.min(conditional_digits) and np.max(conditional_digits) <= 1
    and len(np.unique(np.round(np.asarray(conditional_digits)[3], 4), axis=0)) > 1
    and np.mean(nearest_class_means(ops.convert_to_numpy(ops.sigmoid(
        conditional_vae.decoder([ops.zeros((10, latent_dim)),
                                 ops.eye(10)[::-1]])))) == np.arange(10)[::-1])
    >= 0.8
    # Quick mode's short training makes about a quarter of the draws look like
    # their row's digit (chance: a tenth).
    and (lambda nearest: np.mean(nearest == np.repeat(np.arange(10), 10)) >= 0.15
         and np.mean(nearest == np.repeat(np.arange(10), 10))
         > np.mean(nearest == np.tile(np.arange(10), 10)))(
        nearest_class_means(np.asarray(conditional_digits).reshape(100, 784))),
    "conditional_vae should subclass VAE, overriding only encode_decode, with an "
    "encoder and a decoder that both take the one-hot label as a second input, "
    "trained with fit on images and labels; conditional_digits[d] 10 different "
    "images (pixel probabilities) that it generated for digit d.",
)
''',
    },
    "Exercise 3": {
        "points": 2,
        # Estimated again with other draws: with 200 digits the averages move by
        # much less than the tolerances, which are smaller than the gaps
        # between K = 1, 10 and 100.
        "tests": '''
helpers.self_check(
    "Exercise 3 (hidden tests)",
    lambda: sorted(nll_by_num_samples) == [1, 10, 100]
    and all(abs(float(nll_by_num_samples[num_samples]) - float(
        -importance_sampled_log_likelihood(x_test_binary[:200], vae_encode,
                                           vae_log_likelihood, num_samples,
                                           seed=1234).mean())) < tolerance
            for num_samples, tolerance in ((1, 2.0), (10, 1.0), (100, 0.6))),
    "nll_by_num_samples[K] should be the mean, over the first 200 binarised test "
    "digits, of minus the importance-sampled log-likelihood of vae with K "
    "samples, for K = 1, 10 and 100.",
)
''',
    },
    "Exercise 4": {
        "points": 1,
        "tests": '''
helpers.self_check(
    "Exercise 4 (hidden tests)",
    lambda: isinstance(num_active_codings, (int, np.integer))
    and 0 < num_active_codings <= latent_dim
    and num_active_codings == int(np.sum(np.var(ops.convert_to_numpy(
        encoder.predict(x_test_binary, batch_size=2000, verbose=0)[0]), axis=0)
        > 0.01)),
    "num_active_codings should be the whole number of the 20 codings whose mean "
    "(the first output of encoder) has a variance above 0.01 over the binarised "
    "test digits.",
)
''',
    },
}
