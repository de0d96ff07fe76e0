"""Plausible wrong answers to chapter 6's exercises; each self-check must reject them.

Each entry replaces the solution cell's source (tests/test_student.py): either
code, or a tuple of (old, new) edits made to the solution.
"""

WRONG_ANSWERS = {
    # A beta-VAE, but its terms read from the training history: training
    # digits, averaged over the last epoch, not the test digits.
    "Exercise 1": '''
beta_vae = VAE(build_encoder(latent_dim, seed=11), build_decoder(latent_dim),
               beta=4.0, seed=12, name="beta_vae")
beta_vae.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3))
beta_history = beta_vae.fit(train_dataset, epochs=num_epochs, verbose=0,
                            callbacks=[progress])
beta_reconstruction = float(beta_history.history["reconstruction_loss"][-1])
beta_kl = float(beta_history.history["kl_loss"][-1])
''',
    # The unconditional VAE: its decoder knows nothing of labels.
    "Exercise 2": '''
conditional_vae = vae
draws = keras.random.normal((100, latent_dim), seed=15)
conditional_digits = ops.convert_to_numpy(
    ops.sigmoid(vae.decoder(draws))).reshape(10, 10, 784)
''',
    # One importance sample whatever K: the three estimates are the same.
    "Exercise 3": (
        ("vae_log_likelihood, num_samples, seed=16", "vae_log_likelihood, 1, seed=16"),
    ),
    # The average of each coding's mean, not its variance over the digits.
    "Exercise 4": '''
test_means, test_log_vars, _ = (ops.convert_to_numpy(output)
                                 for output in encoder(x_test_binary))
num_active_codings = int(np.sum(test_means.mean(axis=0) > 0.01))
''',
}
