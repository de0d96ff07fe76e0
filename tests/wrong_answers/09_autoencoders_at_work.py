"""Plausible wrong answers to chapter 9's exercises; each self-check must reject them.

Each entry replaces the solution cell's source (tests/test_student.py): either
code, or a tuple of (old, new) edits made to the solution.
"""

WRONG_ANSWERS = {
    # The 0.01 quantile: a threshold that flags 99 % of the normal images.
    "Exercise 1": (
        ("np.quantile(normal_validation_scores, 0.99)",
         "np.quantile(normal_validation_scores, 0.01)"),
    ),
    # The search in pixels, not in codings.
    "Exercise 2": (
        ('codings_hits = y_pool[neighbour_indices["codings"]]',
         'codings_hits = y_pool[neighbour_indices["pixels"]]'),
    ),
    # An untrained model: the denoising autoencoder is built, never trained.
    "Exercise 3": (
        ("""denoising_trainer.compile(
    optimizer=keras.optimizers.Adam(learning_rate=1e-3),
    loss=keras.losses.BinaryCrossentropy(from_logits=True),
    steps_per_execution=32,
)
""", ""),
        ("""denoising_trainer.fit(training_dataset(x_pool[no_bags]), epochs=num_epochs,
                      verbose=0, callbacks=[ShortProgress(num_lines=1)])
""", ""),
    ),
    # An untrained model: the VAE is built and scored, never trained.
    "Exercise 4": (
        ("""vae.fit(training_dataset(x_pool[no_bags]), epochs=num_epochs, verbose=0,
        callbacks=[ShortProgress(num_lines=1)])
""", ""),
    ),
}
