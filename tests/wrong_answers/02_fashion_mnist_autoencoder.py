"""Plausible wrong answers to chapter 2's exercises; each self-check must reject them.

Each entry replaces the solution cell's source (tests/test_student.py): either
code, or a tuple of (old, new) edits made to the solution.
"""

WRONG_ANSWERS = {
    # The accuracy on the training codings, not on the test codings.
    "Exercise 1": '''
train_codings = ops.convert_to_numpy(fit_autoencoder.encoder(x_train))
classifier = LinearDiscriminantAnalysis().fit(train_codings, y_train)
codings_accuracy = classifier.score(train_codings, y_train)
''',
    # The nearest coding to image 0 is image 0 itself.
    "Exercise 2": '''
distances = np.linalg.norm(test_codings - test_codings[0], axis=1)
neighbour_indices = np.argsort(distances)[:5]
''',
    # Images blended in pixel space between the two reconstructions, instead of
    # codings blended and then decoded: the ends are right, the middle is not.
    "Exercise 3": '''
weights = np.linspace(0, 1, 8)[:, None]
interpolated_codings = (1 - weights) * test_codings[0] + weights * test_codings[1]
interpolated_images = (1 - weights) * reconstructions[0] + weights * reconstructions[1]
''',
    # Dead units counted as outputs that are exactly zero: right for ReLU, but a
    # leaky ReLU unit is never exactly zero, so none of them would count.
    "Exercise 4": (
        ("int(np.sum(outputs.max(axis=0) <= 0))",
         "int(np.sum(outputs.max(axis=0) == 0))"),
    ),
    # A new run, rightly trained, but compared with the GradientTape loop's test
    # loss instead of fit's.
    "Exercise 5": (
        ('abs(reshuffled_loss - history.history["val_loss"][loop_epochs - 1])',
         "abs(reshuffled_loss - loop_test_losses[-1])"),
    ),
}
