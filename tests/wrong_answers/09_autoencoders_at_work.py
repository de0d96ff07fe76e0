"""Plausible wrong answers to chapter 9's exercises; each self-check must reject them.

Each entry replaces the solution cell's source (tests/test_student.py).
"""

WRONG_ANSWERS = {
    # The 0.01 quantile: a threshold that flags 99 % of the normal images.
    "Exercise 1": '''
normal_validation_scores = shown_validation[y_validation != shown_class]
strict_threshold = np.quantile(normal_validation_scores, 0.01)
strict_flags = shown_test > strict_threshold
strict_recall = float(np.mean(strict_flags[test_is_novel]))
strict_false_alarms = float(np.mean(strict_flags[~test_is_novel]))
''',
    # The search in pixels, not in codings.
    "Exercise 2": '''
pixel_hits = y_pool[neighbour_indices["pixels"]] == y_test[:, None]
precision_by_class = np.array([pixel_hits[y_test == label].mean()
                               for label in range(10)])
''',
    # An untrained model: the denoising autoencoder is built, never trained.
    "Exercise 3": '''
denoising_autoencoder, _ = build_autoencoder(latent_dim)
noisy_pixels = keras.Input(shape=(784,))
denoising_trainer = keras.Model(
    noisy_pixels,
    denoising_autoencoder(layers.GaussianNoise(0.2, seed=3)(noisy_pixels)))
denoising_scores = reconstruction_errors(denoising_autoencoder,
                                         x_test)["squared error"]
denoising_auc = roc_auc_score(test_is_novel, denoising_scores)
''',
    # An untrained model: the VAE is built and scored, never trained.
    "Exercise 4": '''
class Sampling(layers.Layer):
    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        mean, log_var = inputs
        noise = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
        return mean + ops.exp(0.5 * log_var) * noise


class KLDivergence(layers.Layer):
    def call(self, inputs):
        mean, log_var = inputs
        kl = -0.5 * ops.sum(1 + log_var - ops.square(mean) - ops.exp(log_var),
                            axis=-1)
        self.add_loss(ops.mean(kl) / 784)
        return kl


vae_pixels = keras.Input(shape=(784,))
hidden = vae_pixels
for units in (256, 128, 64):
    hidden = layers.Dense(units, activation="relu")(hidden)
vae_mean = layers.Dense(latent_dim)(hidden)
vae_log_var = layers.Dense(latent_dim)(hidden)
vae_kl = KLDivergence()([vae_mean, vae_log_var])
vae_encoder = keras.Model(vae_pixels, [vae_mean, vae_log_var, vae_kl])
vae_codings = keras.Input(shape=(latent_dim,))
hidden = vae_codings
for units in (64, 128, 256):
    hidden = layers.Dense(units, activation="relu")(hidden)
vae_decoder = keras.Model(vae_codings, layers.Dense(784)(hidden))

sampler = Sampling(seed=5)
test_mean, test_log_var, test_kl = vae_encoder(x_test, training=False)
reconstruction_nats = np.zeros(len(x_test))
num_samples = 5
for _ in range(num_samples):
    logits = vae_decoder(sampler([test_mean, test_log_var]), training=False)
    reconstruction_nats += 784 * ops.convert_to_numpy(ops.mean(
        ops.binary_crossentropy(x_test, logits, from_logits=True), axis=-1))
elbo_scores = reconstruction_nats / num_samples + ops.convert_to_numpy(test_kl)
elbo_auc = roc_auc_score(test_is_novel, elbo_scores)
''',
}
