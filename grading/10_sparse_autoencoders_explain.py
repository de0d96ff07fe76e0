"""Hidden tests of chapter 10's exercises: the grader runs each right after the
student's answer, in the student's kernel (tools/make_labs.py puts them in the
question's test cell, between nbgrader's hidden-test markers).

They read what the student's cells and the chapter computed, never train a
model, and fail by raising through helpers.self_check, whose message is all the
student's feedback shows. Their tolerances hold in quick mode.
"""

QUESTIONS = {
    "Exercise 1": {
        "points": 3,
        # BatchTopK computed again: the k x N largest pre-activations of the
        # whole test set, the others 0, then a ReLU.
        "tests": '''
def hidden_batch_topk():
    pre = ops.convert_to_numpy(topk_sae.pre_activations(acts_test))
    threshold = np.sort(pre, axis=None)[-topk_key[1] * len(acts_test)]
    return np.maximum(np.where(pre >= threshold, pre, 0.0), 0.0)


helpers.self_check(
    "Exercise 1 (hidden tests)",
    lambda: (lambda expected: np.shape(batch_topk_latents) == expected.shape
             and np.allclose(np.asarray(batch_topk_latents, dtype=float), expected,
                             atol=1e-5)
             and np.array_equal(np.asarray(batch_topk_l0),
                                np.sum(expected > 0, axis=1))
             and abs(float(batch_topk_nmse) - normalised_mse(
                 acts_test, ops.convert_to_numpy(topk_sae.decode(
                     expected.astype("float32"))))) <= 1e-3 * float(batch_topk_nmse))(
        hidden_batch_topk()),
    "batch_topk_latents should keep the k x N largest pre-activations of topk_sae "
    "over the whole test set (N test inputs, k of the chosen TopK SAE) at their "
    "values, every other latent 0, then a ReLU; batch_topk_l0 the number of "
    "non-zero latents of each input; batch_topk_nmse the normalised MSE of "
    "topk_sae's decoding of them.",
)
''',
    },
    "Exercise 2": {
        "points": 2,
        # Every choice made again: the first purest live latent, its top class,
        # and both shares.
        "tests": '''
def hidden_steering():
    purities, kept = class_purity(topk_latents, y_test)
    latent = int(kept[np.argmax(purities)])
    top = np.argsort(-topk_latents[:, latent], kind="stable")[:20]
    label = int(np.bincount(y_test[top], minlength=10).argmax())
    before = float(np.mean(head.predict(acts_test, batch_size=4096, verbose=0)
                           .argmax(axis=1) == label))
    return latent, label, before, steered_share(latent, label)


helpers.self_check(
    "Exercise 2 (hidden tests)",
    lambda: (lambda expected: int(steer_latent) == expected[0]
             and int(steer_class) == expected[1]
             and abs(float(share_before) - expected[2]) < 1e-9
             and abs(float(share_after) - expected[3]) < 1e-9)(hidden_steering()),
    "steer_latent should be the live TopK latent of highest class purity (the "
    "first if several tie), steer_class the most common class of its top 20 test "
    "images; share_before and share_after the shares of test images that head "
    "predicts as steer_class before and after adding 3 x the latent's largest "
    "test activation x its decoder direction to acts_test.",
)
''',
    },
    "Exercise 3": {
        "points": 1,
        "tests": '''
helpers.self_check(
    "Exercise 3 (hidden tests)",
    lambda: np.ndim(neuron_purity_100) == np.ndim(latent_purity_100) == 0
    and abs(float(neuron_purity_100)
            - float(class_purity(acts_test, y_test, top=100)[0].mean())) < 1e-9
    and abs(float(latent_purity_100)
            - float(class_purity(topk_latents, y_test, top=100)[0].mean())) < 1e-9,
    "neuron_purity_100 and latent_purity_100 should each be one number: the mean "
    "class purity over the top 100 test images of the live neurons (acts_test) "
    "and of the live latents of the chosen TopK SAE (topk_latents).",
)
''',
    },
}
