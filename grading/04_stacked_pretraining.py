"""Hidden tests of chapter 4's exercises: the grader runs each right after the
student's answer, in the student's kernel (tools/make_labs.py puts them in the
question's test cell, between nbgrader's hidden-test markers).

They read what the student's cells and the chapter computed, never train a
model, and fail by raising through helpers.self_check, whose message is all the
student's feedback shows. Their tolerances hold in quick mode.
"""

QUESTIONS = {
    "Exercise 1": {
        "points": 2,
        # End to end only: the phase models were never compiled; one or two
        # epochs (quick mode trains one) of whole batches of batch_size.
        "tests": '''
helpers.self_check(
    "Exercise 1 (hidden tests)",
    lambda: sorted(no_penalty_stack) == ["hidden1", "hidden2", "hidden3", "outputs"]
    and [(no_penalty_stack[name].units,
          float(no_penalty_stack[name].kernel_regularizer.get_config()["l2"]))
         for name in ("hidden1", "hidden2", "hidden3", "outputs")]
    == [(300, 0.0), (150, 0.0), (300, 0.0), (784, 0.0)]
    and all(no_penalty_models["autoencoder"].get_layer(name)
            is no_penalty_stack[name] and no_penalty_stack[name] is not stack[name]
            for name in no_penalty_stack)
    and not no_penalty_models["phase1"].compiled
    and not no_penalty_models["phase2"].compiled
    and int(no_penalty_models["autoencoder"].optimizer.iterations)
    in [epochs * -(-len(x_train) // batch_size) for epochs in (1, 2)]
    and abs(float(no_penalty_mse)
            - reconstruction_mse(no_penalty_models["autoencoder"]))
    <= 1e-5 * float(no_penalty_mse)
    and float(no_penalty_mse) < mean_image_mse,
    "no_penalty_stack and no_penalty_models should be what train_stack(0, 0, 2, "
    "l2=0.0) returns (fresh layers without penalty, trained end to end only); "
    "no_penalty_mse the test MSE of no_penalty_models['autoencoder'].",
)
''',
    },
    "Exercise 2": {
        "points": 2,
        # Trained on the cached outputs: it reproduces them clearly better than
        # their mean does.
        "tests": '''
helpers.self_check(
    "Exercise 2 (hidden tests)",
    lambda: isinstance(cached_phase2, keras.Model)
    and cached_phase2.input_shape == (None, 300)
    and cached_phase2.output_shape == (None, 300)
    and [(layer.units, layer.activation) for layer in cached_phase2.layers
         if isinstance(layer, layers.Dense)]
    == [(150, keras.activations.elu), (300, keras.activations.elu)]
    and not any(layer is stack_layer for layer in cached_phase2.layers
                for stack_layer in stack.values())
    and int(cached_phase2.optimizer.iterations) > 0
    and np.mean((cached_phase2.predict(hidden1_targets, batch_size=2048, verbose=0)
                 - hidden1_targets) ** 2)
    < 0.8 * np.mean(np.var(hidden1_targets, axis=0)),
    "cached_phase2 should go from keras.Input(shape=(300,)) through fresh ELU "
    "Dense layers of 150 and 300 units, and be trained to reproduce "
    "hidden1_targets from hidden1_targets for phase2_epochs epochs.",
)
''',
    },
    "Exercise 3": {
        "points": 2,
        # Computed again from the two classifiers, class by class.
        "tests": '''
helpers.self_check(
    "Exercise 3 (hidden tests)",
    lambda: np.shape(per_class_gain) == (10,)
    and (lambda pretrained, scratch: np.allclose(
        np.asarray(per_class_gain, dtype=float),
        [np.mean(pretrained[y_test == k] == k) - np.mean(scratch[y_test == k] == k)
         for k in range(10)], atol=1e-9))(
        np.argmax(pretrained_classifier.predict(x_test, batch_size=2048,
                                                verbose=0), axis=1),
        np.argmax(scratch_classifier.predict(x_test, batch_size=2048, verbose=0),
                  axis=1)),
    "per_class_gain[k] should be, for the test images of class k, the share that "
    "pretrained_classifier classifies right minus the share that "
    "scratch_classifier classifies right.",
)
''',
    },
}
