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
    # Images blended in pixel space between the two reconstructions, instead of
    # codings blended and then decoded: the ends are right, the middle is not.
    "Exercise 3": '''
weights = np.linspace(0, 1, 8)[:, None]
interpolated_codings = (1 - weights) * test_codings[0] + weights * test_codings[1]
interpolated_images = (1 - weights) * reconstructions[0] + weights * reconstructions[1]
''',
    # Dead units counted as outputs that are exactly zero: right for ReLU, but a
    # leaky ReLU unit is never exactly zero, so none of them would count.
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
    keras.utils.set_random_seed(42)
    undercomplete = build_undercomplete(activation)
    undercomplete.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    helpers.train(undercomplete, mnist_train, mnist_train,
                  num_epochs=helpers.per_mode(full=10, quick=3), batch_size=128)
    hidden_model = keras.Model(undercomplete.inputs,
                               [layer.output for layer in undercomplete.layers[1:-1]])
    dead_counts[activation] = sum(
        int(np.sum(outputs.max(axis=0) == 0))
        for outputs in hidden_model.predict(mnist_test, verbose=0))
    mnist_mse[activation] = float(np.mean(
        (undercomplete.predict(mnist_test, verbose=0) - mnist_test) ** 2))
    undercomplete_models[activation] = undercomplete
''',
    # A new run, rightly trained, but compared with the GradientTape loop's test
    # loss instead of fit's.
    "Exercise 5": '''
keras.utils.set_random_seed(1)
reshuffled_autoencoder = Autoencoder(latent_dim, name="reshuffled_autoencoder")
reshuffled_autoencoder(x_train[:1])
reshuffled_autoencoder.set_weights(initial_weights)
reshuffled_autoencoder.compile(
    optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss=reconstruction_loss
)
helpers.train(reshuffled_autoencoder, x_train, x_train, num_epochs=loop_epochs,
              batch_size=batch_size)
reshuffled_loss = test_loss_of(reshuffled_autoencoder)
reshuffle_gap = abs(reshuffled_loss - loop_test_losses[-1])
''',
}
