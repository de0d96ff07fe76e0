"""Plausible wrong answers to chapter 4's exercises; each self-check must reject them.

Each entry replaces the solution cell's source (tests/test_student.py): either
code, or a tuple of (old, new) edits made to the solution.
"""

WRONG_ANSWERS = {
    # The epochs given to the two phases instead of end-to-end training: the
    # penalty is off, but the assembled autoencoder itself was never trained.
    "Exercise 1": '''
no_penalty_stack, no_penalty_models, _ = train_stack(1, 1, 0, l2=0.0)
no_penalty_mse = reconstruction_mse(no_penalty_models["autoencoder"])
''',
    # An untrained model: the right shapes, never trained on hidden1_targets.
    "Exercise 2": (
        ("""cached_progress = ShortProgress()
cached_phase2.fit(training_dataset(hidden1_targets, hidden1_targets),
                  epochs=phase2_epochs, verbose=0, callbacks=[cached_progress])
print(f"phase 2 on cached outputs: {cached_progress.seconds:.1f} s; "
      f"phase 2 above: {phase2_progress.seconds:.1f} s")
""", ""),
    ),
    # The difference taken the wrong way round: scratch minus pretrained.
    "Exercise 3": '''
pretrained_predictions = np.argmax(
    pretrained_classifier.predict(x_test, batch_size=2048, verbose=0), axis=1)
scratch_predictions = np.argmax(
    scratch_classifier.predict(x_test, batch_size=2048, verbose=0), axis=1)
per_class_gain = np.array([
    np.mean(scratch_predictions[y_test == class_index] == class_index)
    - np.mean(pretrained_predictions[y_test == class_index] == class_index)
    for class_index in range(10)
])
''',
}
