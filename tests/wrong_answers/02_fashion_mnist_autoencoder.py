"""Plausible wrong answers to chapter 2's exercises; each self-check must reject them.

Each entry replaces the solution cell's source (tests/test_student.py).
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
    # The decoder's logits, without the sigmoid that turns them into pixels.
    "Exercise 3": '''
weights = np.linspace(0, 1, 8)[:, None]
interpolated_codings = (1 - weights) * test_codings[0] + weights * test_codings[1]
interpolated_images = ops.convert_to_numpy(
    fit_autoencoder.decoder(interpolated_codings.astype("float32")))
''',
    # Untrained models: both autoencoders are built, never trained.
    "Exercise 4": '''
(mnist_train, _), (mnist_test, _) = helpers.load_mnist()


def build_undercomplete(activation):
    inputs = keras.Input(shape=(784,))
    x = inputs
    for units in (256, 128, 64, 128, 256):
        x = layers.Dense(units, activation=activation)(x)
    return keras.Model(inputs, layers.Dense(784, activation="sigmoid")(x))


undercomplete_models, dead_counts, mnist_mse = {}, {}, {}
for activation in ("relu", "leaky_relu"):
    undercomplete = build_undercomplete(activation)
    hidden_model = keras.Model(undercomplete.inputs,
                               [layer.output for layer in undercomplete.layers[1:-1]])
    dead_counts[activation] = sum(
        int(np.sum(outputs.max(axis=0) <= 0))
        for outputs in hidden_model.predict(mnist_test, verbose=0))
    mnist_mse[activation] = float(np.mean(
        (undercomplete.predict(mnist_test, verbose=0) - mnist_test) ** 2))
    undercomplete_models[activation] = undercomplete
''',
    # The model trained with fit measured again, instead of a new one.
    "Exercise 5": '''
reshuffled_autoencoder = fit_autoencoder
reshuffled_loss = test_loss_of(reshuffled_autoencoder)
reshuffle_gap = abs(reshuffled_loss - history.history["val_loss"][loop_epochs - 1])
''',
}
