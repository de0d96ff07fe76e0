"""Plausible wrong answers to chapter 7's exercises; each self-check must reject them.

Each entry replaces the solution cell's source (tests/test_student.py): either
code, or a tuple of (old, new) edits made to the solution.
"""

WRONG_ANSWERS = {
    # An untrained model: the upsampling autoencoder is built, never trained.
    "Exercise 1": (
        ("""upsampling_history = helpers.train(upsampling_autoencoder, x_train, x_train,
                                   num_epochs=upsampling_epochs, batch_size=batch_size)
""", ""),
        ("""print(f"training loss after {upsampling_epochs} epochs: upsampling "
      f"{upsampling_history.history['loss'][-1]:.4f}, transposed convolutions "
      f"{histories['conv'].history['loss'][upsampling_epochs - 1]:.4f}")
""", ""),
    ),
    # Untrained models: the sweep measures five freshly built autoencoders.
    "Exercise 2": (
        ("""    helpers.train(sweep_autoencoder, x_fit, x_fit, num_epochs=2,
                  batch_size=batch_size)
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
