"""Plausible wrong answers to chapter 3's exercises; each self-check must reject them.

Each entry replaces the solution cell's source (tests/test_student.py).
"""

WRONG_ANSWERS = {
    # A decoder of Dense layers with kernels of their own: trained, but not tied.
    "Exercise 1": '''
mean_image = x_train.mean(axis=0)
deep_inputs = keras.Input(shape=(784,))
x = deep_inputs
for units in (256, 256, 64, 32, 64, 256, 256, 784):
    x = layers.Dense(units, activation="tanh")(x)
deep_tied_model = keras.Model(deep_inputs, x, name="deep_tied")
deep_tied_model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
x_train_centered = x_train - mean_image
helpers.train(deep_tied_model, x_train_centered, x_train_centered,
              num_epochs=helpers.per_mode(full=5, quick=2), batch_size=128)
deep_reconstructions = deep_tied_model.predict(x_test - mean_image, verbose=0)
deep_tied_mse = float(np.mean((deep_reconstructions + mean_image - x_test) ** 2))
''',
    # The sum of squared weights, without L2's factor 0.0005.
    "Exercise 2": '''
penalty_by_hand = sum(
    float(np.sum(ops.convert_to_numpy(tied_model.get_layer(name).kernel) ** 2))
    for name in ("hidden1", "hidden2")
)
''',
    # New layers tied to the same kernels: right shapes, but fresh, untrained
    # biases instead of those of tied_model's hidden3 and outputs.
    "Exercise 3": '''
codings_input = keras.Input(shape=(150,))
new_hidden3 = DenseTranspose(tied_model.get_layer("hidden2"), activation="elu")
new_outputs = DenseTranspose(tied_model.get_layer("hidden1"))
decoder_model = keras.Model(codings_input, new_outputs(new_hidden3(codings_input)),
                            name="tied_decoder")
''',
    # The weakly penalised model is trained, but the error reported is that of
    # tied_model, with the strong penalty.
    "Exercise 4": '''
weak_penalty = keras.regularizers.L2(1e-5)
weak_inputs = keras.Input(shape=(784,))
weak_hidden1 = layers.Dense(300, activation="elu", kernel_initializer="he_normal",
                            kernel_regularizer=weak_penalty)
weak_hidden2 = layers.Dense(150, activation="elu", kernel_initializer="he_normal",
                            kernel_regularizer=weak_penalty)
weak_codings = weak_hidden2(weak_hidden1(weak_inputs))
weak_outputs = DenseTranspose(weak_hidden1)(
    DenseTranspose(weak_hidden2, activation="elu")(weak_codings)
)
weak_model = keras.Model(weak_inputs, weak_outputs, name="tied_weak_penalty")
weak_model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="mse")
helpers.train(weak_model, x_train, x_train, num_epochs=num_epochs,
              batch_size=batch_size)
weak_reconstructions = weak_model.predict(x_test, batch_size=2048, verbose=0)
weak_penalty_mse = tied_mse
''',
}
