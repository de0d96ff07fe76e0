"""Plausible wrong answers to chapter 10's exercises; each self-check must reject
them.

Each entry replaces the solution cell's source (tests/test_student.py): either
code, or a tuple of (old, new) edits made to the solution.
"""

WRONG_ANSWERS = {
    # Ordinary TopK per input instead of the batch's k x N largest: every input
    # then has exactly k latents.
    "Exercise 1": '''
batch_topk_latents = ops.convert_to_numpy(topk_sae.encode(acts_test))
batch_topk_l0 = np.sum(batch_topk_latents > 0, axis=1)
batch_topk_nmse = normalised_mse(
    acts_test, ops.convert_to_numpy(topk_sae.decode(batch_topk_latents)))
''',
    # The latent's encoder column added instead of its decoder direction.
    "Exercise 2": (
        ("steer_scale * topk_sae.decoder_weights.numpy()[steer_latent]",
         "steer_scale * topk_sae.encoder_weights.numpy()[:, steer_latent]"),
    ),
    # The default top 20 kept for the neurons: only the latents' changed.
    "Exercise 3": (
        ("class_purity(acts_test, y_test, top=100)",
         "class_purity(acts_test, y_test)"),
    ),
}
