"""Plausible wrong answers to chapter 4's exercises; each self-check must reject them.

Each entry replaces the solution cell's source (tests/test_student.py).
"""

WRONG_ANSWERS = {
    # The epochs given to the two phases instead of end-to-end training: the
    # penalty is off, but the assembled autoencoder itself was never trained.
    "Exercise 1": '''
no_penalty_stack, no_penalty_models, _ = train_stack(1, 1, 0, l2=0.0)
no_penalty_mse = reconstruction_mse(no_penalty_models["autoencoder"])
''',
    # An untrained model: the right shapes, never trained on hidden1_targets.
    "Exercise 2": '''
cached_inputs = keras.Input(shape=(300,), name="hidden1_outputs")
cached_codings = layers.Dense(150, activation="elu",
                              kernel_initializer="he_normal")(cached_inputs)
cached_phase2 = keras.Model(
    cached_inputs,
    layers.Dense(300, activation="elu", kernel_initializer="he_normal")(
        cached_codings),
)
cached_phase2.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
''',
    # The difference taken the wrong way round: scratch minus pretrained.
    "Exercise 3": '''
pretrained_predictions = np.argmax(
    helpers.outputs_of(pretrained_classifier, x_test), 1)
scratch_predictions = np.argmax(helpers.outputs_of(scratch_classifier, x_test), 1)
per_class_gain = np.array([
    np.mean(scratch_predictions[y_test == class_index] == class_index)
    - np.mean(pretrained_predictions[y_test == class_index] == class_index)
    for class_index in range(10)
])
''',
}
