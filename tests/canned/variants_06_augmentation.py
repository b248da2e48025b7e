"""Canned submissions of lesson 06_augmentation: name → edits of the filled-in release.

``EXPECTED`` says what grading each one must give: for every test that must FAIL, the
exact first line of its message; every test not listed must pass with full points.
Notebooks expected to fail train for 1 epoch (``TINY``) when that does not change the
verdict, to keep the suite fast.
"""

TINY = [("epochs=epochs", "epochs=1"), ("epochs=epochs", "epochs=1")]  # in part_c_answer

VARIANTS = {
    "correct": {},
    "untouched": "untouched",
    # Mistakes.
    "flip_augmentation": {
        "part_a_answer": [
            (
                "layers.RandomRotation(0.05),",
                'layers.RandomFlip("horizontal"),\n        layers.RandomRotation(0.05),',
            )
        ],
        "part_c_answer": TINY,
    },
    "rotation_too_large": {
        "part_a_answer": [("layers.RandomRotation(0.05),", "layers.RandomRotation(0.5),")],
        "part_c_answer": TINY,
    },
    "augmented_once_outside_the_model": {
        "part_c_answer": [
            (
                "model_augmented = build_cnn(augmentation)",
                "X_augmented = np.asarray(augmentation(X_small, training=True))\n"
                "model_augmented = build_cnn()",
            ),
            (
                "model_augmented.fit(\n    X_small,",
                "model_augmented.fit(\n    X_augmented,",
            ),
            *TINY,
        ],
    },
    "far_too_few_epochs": {"part_c_answer": [("epochs=epochs", "epochs=2"), ("epochs=epochs", "epochs=2")]},
    # Valid variants: full marks.
    "rescaling_layer": {
        "prepare_answer": [
            ('(x_small.astype("float32") / 255.0)', 'x_small.astype("float32")'),
            ('(x_test.astype("float32") / 255.0)', 'x_test.astype("float32")'),
        ],
        "part_b_answer": [
            (
                "keras.Input(shape=(28, 28, 1)),",
                "keras.Input(shape=(28, 28, 1)),\n        layers.Rescaling(1 / 255),",
            ),
        ],
    },
    "functional_api": {
        "part_b_answer": [
            (
                "model = keras.Sequential([\n"
                "        keras.Input(shape=(28, 28, 1)),\n        *front,",
                "x = inputs = keras.Input(shape=(28, 28, 1))\n    for layer in [\n        *front,",
            ),
            (
                "    ])\n    learning_rate",
                "    ]:\n        x = layer(x)\n"
                "    model = keras.Model(inputs, x)\n    learning_rate",
            ),
        ],
    },
}

SHORT = (
    "4 problems: augmented model: test accuracy: too low; comparison: augmentation did not "
    "help; `history_plain`: wrong number of epochs; `history_augmented`: wrong number of epochs"
)
"""What a training cut short (``TINY``, or the far-too-few epochs) is told."""

EXPECTED = {
    "correct": {},
    "untouched": {
        "augmentation_layers": "not implemented yet: `model_augmented` is not defined",
        "same_cnn": "not implemented yet: `model_plain` is not defined",
        "inference": "not implemented yet: `model_augmented` is not defined",
        "comparison": "not implemented yet: `model_plain` is not defined",
    },
    "flip_augmentation": {
        "augmentation_layers": "augmentation: RandomFlip on digits",
        "comparison": SHORT,
    },
    "rotation_too_large": {
        "augmentation_layers": "augmentation: rotation range not sensible",
        "comparison": SHORT,
    },
    "augmented_once_outside_the_model": {
        "augmentation_layers": "augmentation: RandomRotation missing",
        "comparison": SHORT,
    },
    "far_too_few_epochs": {"comparison": SHORT},
    "rescaling_layer": {},
    "functional_api": {},
}
