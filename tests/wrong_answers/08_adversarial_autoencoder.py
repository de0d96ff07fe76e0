"""Plausible wrong answers to chapter 8's exercises; each self-check must reject them.

Each entry replaces the solution cell's source (tests/test_student.py): either
code, or a tuple of (old, new) edits made to the solution.
"""

WRONG_ANSWERS = {
    # The generator is created again inside the loop: twenty copies of one MMD.
    "Exercise 1": '''
null_distances = np.array([
    mmd(np.random.default_rng(5).normal(size=(len(x_test), 2)),
        np.random.default_rng(6).normal(size=(len(x_test), 2)))
    for _ in range(20)
])
''',
    # An untrained model: the uniform-prior AAE is compiled, never trained.
    "Exercise 2": (
        ("uniform_aae.fit(fit_dataset, epochs=exercise_epochs, verbose=0,\n"
         "                callbacks=[progress])\n", ""),
    ),
    # The unsupervised model's decoder, which takes no label: one digit ten times.
    "Exercise 3": '''
one_style = np.repeat(np.random.default_rng(9).normal(size=(1, 2)), 10, axis=0)
style_digits = ops.convert_to_numpy(ops.sigmoid(aae.decoder(one_style)))
''',
    # Prior samples from random components: the label beside a prior sample no
    # longer names its petal, so the labels cannot guide the codings.
    "Exercise 4": (
        ("prior_codings = self.sample_prior_for(labels)\n",
         "prior_codings = self.sample_prior(ops.shape(labels)[0])\n"),
    ),
}
