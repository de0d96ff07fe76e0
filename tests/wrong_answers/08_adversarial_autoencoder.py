"""Plausible wrong answers to chapter 8's exercises; each self-check must reject them.

Each entry replaces the solution cell's source (tests/test_student.py).
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
    "Exercise 2": '''
class UniformAAE(AAE):
    def sample_prior(self, num_samples):
        return keras.random.uniform((num_samples, latent_dim), minval=-2.0,
                                    maxval=2.0, seed=self.prior_seed)


uniform_aae = UniformAAE(build_encoder(latent_dim), build_decoder(latent_dim),
                         build_discriminator(latent_dim), seed=6, name="uniform_aae")
uniform_aae.compile(**adversarial_optimizers(decay=True))
uniform_codings = ops.convert_to_numpy(uniform_aae.encoder(x_test))
uniform_distance = mmd(uniform_codings,
                       np.random.default_rng(7).uniform(-2, 2, size=(1000, 2)))
''',
    # The unsupervised model's decoder, which takes no label: one digit ten times.
    "Exercise 3": '''
one_style = np.repeat(np.random.default_rng(9).normal(size=(1, 2)), 10, axis=0)
style_digits = ops.convert_to_numpy(ops.sigmoid(aae.decoder(one_style)))
''',
}
