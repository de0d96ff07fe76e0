"""Plausible wrong answers to chapter 5's exercises; each self-check must reject them.

Each entry replaces the solution cell's source (tests/test_student.py).
"""

WRONG_ANSWERS = {
    # The factor h (1 - h) not squared: per-image norms of the wrong formula.
    "Exercise 1": '''
class ContractiveCodings(layers.Layer):
    def __init__(self, units, weight, name=None):
        super().__init__(name=name)
        self.units, self.weight = units, weight

    def build(self, input_shape):
        self.dense = layers.Dense(self.units, activation="sigmoid")
        self.dense.build(input_shape)

    def call(self, inputs):
        h = self.dense(inputs)
        column_norms = ops.sum(ops.square(self.dense.kernel), axis=0)
        self.add_loss(self.weight * ops.mean(
            ops.sum(h * (1 - h) * column_norms, axis=-1)))
        return h


def jacobian_norms(kernel, h):
    return np.sum(h * (1 - h) * np.sum(kernel**2, axis=0), axis=1)


contractive_in = keras.Input(shape=(784,))
contractive_layer = ContractiveCodings(coding_units, weight=0.01, name="codings")
contractive_autoencoder = keras.Model(
    contractive_in,
    layers.Dense(784, activation="sigmoid")(contractive_layer(contractive_in)))
contractive_autoencoder.compile(optimizer=keras.optimizers.Adam(3e-3),
                                loss="binary_crossentropy")
contractive_autoencoder.fit(x_train, x_train, batch_size=128, verbose=0,
                            epochs=helpers.per_mode(full=2, quick=1))
contractive_jacobian = jacobian_norms(
    contractive_layer.dense.kernel.numpy(),
    ops.convert_to_numpy(contractive_layer.dense(x_test)))
plain_jacobian = jacobian_norms(
    plain_autoencoder.get_layer("codings").kernel.numpy(), activations["plain"])
''',
    # The tolerance misread: units within 0.005 of the target, not 0.05.
    "Exercise 2": '''
unit_means = activations["KL sparse"].mean(axis=0)
units_near_target = int(np.sum(np.abs(unit_means - sparsity_target) <= 0.005))
''',
    # The noisy images not clipped to [0, 1] before their PSNR is measured.
    "Exercise 3": '''
def psnr_per_image(clean, images):
    return 10 * np.log10(1.0 / np.mean((clean - images) ** 2, axis=1))


denoised_03 = helpers.outputs_of(gaussian_autoencoder, noisy_test[0.3])
gain_per_image = (psnr_per_image(x_test, denoised_03)
                  - psnr_per_image(x_test, noisy_test[0.3]))
least_improved = np.argsort(gain_per_image)[:10]
''',
    # The noisy images' PSNR measured without clipping them to [0, 1].
    "Exercise 4": '''
sweep_sigmas = np.round(np.arange(0.1, 0.81, 0.1), 1)
sweep_rng = np.random.default_rng(1)
psnr_by_sigma, noisy_psnr_by_sigma = {}, {}
for sigma in sweep_sigmas:
    noisy_images = x_test + sigma * sweep_rng.normal(size=x_test.shape).astype(
        "float32")
    noisy_psnr_by_sigma[sigma] = helpers.psnr(x_test, noisy_images)
    psnr_by_sigma[sigma] = helpers.psnr(
        x_test, helpers.outputs_of(gaussian_autoencoder, noisy_images))
''',
}
