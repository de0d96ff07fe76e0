"""Plausible wrong answers to chapter 7's exercises; each self-check must reject them.

Each entry replaces the solution cell's source (tests/test_student.py).
"""

WRONG_ANSWERS = {
    # An untrained model: the upsampling autoencoder is built, never trained.
    "Exercise 1": '''
def build_upsampling_decoder(latent_dim, filters):
    codings = keras.Input(shape=(latent_dim,))
    x = layers.Dense(7 * 7 * filters[-1], activation="relu")(codings)
    x = layers.Reshape((7, 7, filters[-1]))(x)
    for num_filters in filters[-2::-1]:
        x = layers.UpSampling2D(2)(x)
        x = layers.Conv2D(num_filters, 3, padding="same", activation="relu")(x)
    logits = layers.Conv2D(1, 3, padding="same")(layers.UpSampling2D(2)(x))
    return keras.Model(codings, logits, name="upsampling_decoder")


upsampling_autoencoder = build_autoencoder(
    build_conv_encoder(latent_dim, filters, name="upsampling_encoder"),
    build_upsampling_decoder(latent_dim, filters), "upsampling_autoencoder")
upsampled = reconstruct(upsampling_autoencoder, x_test)
upsampling_test_mse = float(np.mean((upsampled - x_test) ** 2))
''',
    # Untrained models: the sweep measures five freshly built autoencoders.
    "Exercise 2": '''
num_fit = len(x_train) * 5 // 6
x_fit, x_held_out = x_train[:num_fit], x_train[num_fit:]
validation_mse_by_code_size = {}
for code_size in (2, 5, 10, 20, 40):
    sweep_autoencoder = build_autoencoder(
        build_conv_encoder(code_size, filters), build_conv_decoder(code_size, filters),
        f"conv_autoencoder_{code_size}")
    validation_mse_by_code_size[code_size] = float(np.mean(
        (reconstruct(sweep_autoencoder, x_held_out) - x_held_out) ** 2))
''',
    # Off by one: kernel sizes 1 to 5, not 1 to 6.
    "Exercise 3": '''
doubling_choices = {
    (kernel_size, padding)
    for kernel_size in range(1, 6) for padding in ("valid", "same")
    if conv_output_size(7, kernel_size, 2, padding, transposed=True) == 14
}
''',
    # The reconstructions of the shifted images compared with the unshifted ones.
    "Exercise 4": '''
shifted_test = np.roll(x_test, 3, axis=2)
shifted_mse = {
    name: float(np.mean((reconstruct(model, shifted_test) - x_test) ** 2))
    for name, model in (("dense", dense_autoencoder), ("conv", conv_autoencoder))
}
''',
}
