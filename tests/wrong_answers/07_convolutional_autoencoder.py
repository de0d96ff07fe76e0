"""Plausible wrong answers to chapter 7's exercises; each self-check must reject them.

Each entry replaces the solution cell's source (tests/test_student.py): either
code, or a tuple of (old, new) edits made to the solution.
"""

WRONG_ANSWERS = {
    # An untrained model: the upsampling autoencoder is built, never trained.
    "Exercise 1": (
        ("""upsampling_history = upsampling_autoencoder.fit(
    fit_dataset, epochs=early_epochs, verbose=0,
    validation_data=(x_validation, x_validation),
    callbacks=[ShortProgress(num_lines=early_epochs)])
""", ""),
        ("""print(f"after {early_epochs} epochs each: validation loss upsampling "
      f"{upsampling_history.history['val_loss'][-1]:.4f}, transposed convolutions "
""", """print(f"after {early_epochs} epochs each: "
"""),
    ),
    # Untrained models: the sweep measures five freshly built autoencoders.
    "Exercise 2": (
        ("""    sweep_autoencoder.fit(sweep_dataset, epochs=2, verbose=0,
                          callbacks=[sweep_progress])
""", ""),
    ),
    # Off by one: kernel sizes 1 to 5, not 1 to 6.
    "Exercise 3": (
        ("range(1, 7)", "range(1, 6)"),
    ),
    # The reconstructions of the shifted images compared with the unshifted ones.
    "Exercise 4": (
        ("(reconstruct(model, shifted_test) - shifted_test) ** 2",
         "(reconstruct(model, shifted_test) - x_test) ** 2"),
    ),
}
