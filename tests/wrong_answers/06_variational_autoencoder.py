"""Plausible wrong answers to chapter 6's exercises; each self-check must reject them.

Each entry replaces the solution cell's source (tests/test_student.py).
"""

WRONG_ANSWERS = {
    # The VAE trained with beta = 1, evaluated again: no model with beta = 4.
    "Exercise 1": '''
beta_vae = vae
beta_metrics = beta_vae.evaluate(x_test_binary, batch_size=500, verbose=0,
                                 return_dict=True)
beta_reconstruction = float(beta_metrics["reconstruction_loss"])
beta_kl = float(beta_metrics["kl_loss"])
''',
    # The unconditional VAE: its decoder knows nothing of labels.
    "Exercise 2": '''
conditional_vae = vae
draws = keras.random.normal((100, latent_dim), seed=15)
conditional_digits = ops.convert_to_numpy(
    ops.sigmoid(vae.decoder(draws))).reshape(10, 10, 784)
''',
    # One importance sample whatever K: the three estimates are the same.
    "Exercise 3": '''
nll_by_num_samples = {
    num_samples: float(-importance_sampled_log_likelihood(
        x_test_binary[:200], vae_encode, vae_log_likelihood, 1, seed=16
    ).mean())
    for num_samples in (1, 10, 100)
}
''',
    # The average of each coding's mean, not its variance over the digits.
    "Exercise 4": '''
test_means, test_log_vars, _ = (ops.convert_to_numpy(output)
                                 for output in encoder(x_test_binary))
num_active_codings = int(np.sum(np.abs(test_means.mean(axis=0)) > 0.01))
''',
}
