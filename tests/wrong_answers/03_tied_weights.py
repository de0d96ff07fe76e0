"""Plausible wrong answers to chapter 3's exercises; each self-check must reject them.

Each entry replaces the solution cell's source (tests/test_student.py): either
code, or a tuple of (old, new) edits made to the solution.
"""

WRONG_ANSWERS = {
    # A decoder of Dense layers with kernels of their own: trained, but not tied.
    "Exercise 1": (
        ("""encoder_layers = []
for units in (256, 256, 64, 32):
    encoder_layers.append(layers.Dense(units, activation="tanh"))
    x = encoder_layers[-1](x)
for dense in reversed(encoder_layers):
    x = DenseTranspose(dense, activation="tanh")(x)
""", """for units in (256, 256, 64, 32, 64, 256, 256, 784):
    x = layers.Dense(units, activation="tanh")(x)
"""),
    ),
    # The sum of squared weights, without L2's factor 0.0005.
    "Exercise 2": (
        ("penalty_by_hand = 0.0005 * sum(", "penalty_by_hand = sum("),
    ),
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
    "Exercise 4": (
        ("weak_penalty_mse = float(np.mean((weak_reconstructions - x_test) ** 2))",
         "weak_penalty_mse = tied_mse"),
    ),
}
