"""Hidden tests of chapter 8's exercises: the grader runs each right after the
student's answer, in the student's kernel (tools/make_labs.py puts them in the
question's test cell, between nbgrader's hidden-test markers).

They read what the student's cells and the chapter computed, never train a
model, and fail by raising through helpers.self_check, whose message is all the
student's feedback shows. Their tolerances hold in quick mode.
"""

QUESTIONS = {
    "Exercise 1": {
        "points": 2,
        # Twenty independent pairs: twenty different distances, whose mean and
        # spread match those of other pairs drawn here.
        "tests": '''
def hidden_null_distances(num_pairs, seed):
    rng = np.random.default_rng(seed)
    return np.array([mmd(rng.normal(size=(len(x_test), 2)),
                         rng.normal(size=(len(x_test), 2)))
                     for _ in range(num_pairs)])


helpers.self_check(
    "Exercise 1 (hidden tests)",
    lambda: np.shape(null_distances) == (20,)
    and np.all(np.isfinite(np.asarray(null_distances, dtype=float)))
    and len(set(np.round(np.asarray(null_distances, dtype=float), 12))) == 20
    and (lambda reference: 0.75 < np.mean(null_distances) / reference.mean() < 1.3
         and 0.3 < np.std(null_distances) / reference.std() < 3)(
        hidden_null_distances(40, 2024)),
    "null_distances should hold 20 different MMDs, each between two independent "
    "samples of N(0, I) in 2 dimensions with len(x_test) points each.",
)
''',
    },
    "Exercise 2": {
        "points": 3,
        # A subclass of AAE that changes the prior only, trained as aae was.
        "tests": '''
helpers.self_check(
    "Exercise 2 (hidden tests)",
    lambda: isinstance(uniform_aae, AAE) and type(uniform_aae) is not AAE
    and uniform_aae is not aae and uniform_aae.encoder is not aae.encoder
    and type(uniform_aae).sample_prior is not AAE.sample_prior
    and (lambda steps: steps > 0 and steps % steps_per_epoch == 0)(
        int(ops.convert_to_numpy(uniform_aae.optimizer.iterations)))
    and check_uniform(uniform_aae, uniform_codings, uniform_distance)
    and abs(float(uniform_distance) - mmd(
        np.asarray(uniform_codings),
        np.random.default_rng(2024).uniform(-2, 2, size=(1000, 2)))) < 0.05,
    "uniform_aae should be an instance of a subclass of AAE that overrides only "
    "sample_prior, uniform on [-2, 2]^2, trained like aae (whole epochs of "
    "fit_dataset); uniform_codings its encoder's codings of x_test; "
    "uniform_distance their MMD to 1,000 draws of that prior.",
)
''',
    },
    "Exercise 3": {
        "points": 3,
        # The model is not named by the exercise: it is found among the
        # notebook's variables, an AAE whose decoder takes a label too.
        "tests": '''
def hidden_supervised_models():
    return [value for value in list(globals().values())
            if isinstance(value, AAE) and len(value.decoder.inputs) == 2
            and int(ops.convert_to_numpy(value.optimizer.iterations)) > 0]


helpers.self_check(
    "Exercise 3 (hidden tests)",
    lambda: np.shape(style_digits) == (10, 784)
    and 0 <= np.min(style_digits) and np.max(style_digits) <= 1
    and np.min([np.mean(np.abs(np.asarray(style_digits)[i]
                               - np.asarray(style_digits)[j]))
                for i in range(10) for j in range(i)]) > 0.01
    and np.mean(ops.convert_to_numpy(classifier.predict(
        np.asarray(style_digits, dtype="float32"), verbose=0)).argmax(axis=1)
        == np.arange(10)) >= 0.7
    and any(np.mean(ops.convert_to_numpy(classifier.predict(ops.convert_to_numpy(
        ops.sigmoid(model.decoder([np.zeros((10, latent_dim), "float32"),
                                   np.eye(10, dtype="float32")[::-1]]))),
        verbose=0)).argmax(axis=1) == np.arange(10)[::-1]) >= 0.7
        for model in hidden_supervised_models()),
    "style_digits should hold 10 different images, the digits 0 to 9 in this "
    "order (pixel values in [0, 1]), decoded from one coding with the ten one-hot "
    "labels by a trained AAE subclass whose decoder takes [codings, one-hot "
    "label] and follows the label.",
)
''',
    },
    "Exercise 4": {
        "points": 3,
        # The labels reach the discriminator, and the digits land in their own
        # petal far more often than chance (one in ten); the share recomputed.
        "tests": '''
helpers.self_check(
    "Exercise 4 (hidden tests)",
    lambda: isinstance(guided_aae, AAE) and guided_aae is not mixture_aae
    and len(guided_aae.discriminator.inputs) == 2
    and int(ops.convert_to_numpy(guided_aae.optimizer.iterations)) > 0
    and np.allclose(guided_aae.centres, mixture_prior["centres"], atol=1e-6)
    and np.shape(guided_codings) == (len(x_test), 2)
    and np.allclose(guided_codings,
                    ops.convert_to_numpy(guided_aae.encoder(x_test)), atol=1e-5)
    and abs(float(guided_agreement) - float(np.mean(mixture_distances(
        guided_codings, **mixture_prior).argmin(axis=1) == y_test))) < 1e-9
    and float(guided_agreement) >= 0.3,
    "guided_aae should be a trained AAE on mixture_prior whose discriminator "
    "takes [coding, one-hot label]; guided_codings its encoder's codings of "
    "x_test; guided_agreement the share of them nearest (mixture_distances) to "
    "the component of their own label, at least three times chance.",
)
''',
    },
}
