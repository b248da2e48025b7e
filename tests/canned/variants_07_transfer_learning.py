"""Canned submissions of lesson 07_transfer_learning: name → edits of the filled-in release.

``EXPECTED`` says what grading each one must give: for every test that must FAIL, the
exact first line of its message; every test not listed must pass with full points.
Notebooks expected to fail train for 2 + 1 epochs (``TINY``; from scratch 3) when that
does not change the verdict asked about, to keep the suite fast.
"""

TINY = [("epochs_head = 20", "epochs_head = 2")]  # in part_d_answer
TINY_FINE = [("epochs_fine = 10", "epochs_fine = 1")]  # in part_e_answer

SOFTMAX_HEAD = 'layers.Dense(5, activation="softmax")(x)'

VARIANTS = {
    "correct": {},
    "untouched": "untouched",
    # Mistakes.
    "base_not_frozen": {
        "part_b_answer": [("base.trainable = False\n", "")],
        "part_d_answer": TINY,
        "part_e_answer": TINY_FINE,
    },
    "grayscale_one_channel": {
        "part_a_answer": [
            (
                "rgb = np.repeat(padded[..., np.newaxis], 3, axis=-1)",
                "rgb = padded[..., np.newaxis]",
            )
        ],
    },
    "top_not_removed": {
        "part_b_answer": [("include_top=False", "include_top=True")],
        "part_d_answer": TINY,
        "part_e_answer": TINY_FINE,
    },
    "fine_tuning_with_the_large_learning_rate": {
        "part_d_answer": TINY,
        "part_e_answer": [("Adam(learning_rate=1e-4)", "Adam(learning_rate=1e-3)"), *TINY_FINE],
    },
    "head_without_softmax": {
        "part_c_answer": [(SOFTMAX_HEAD, "layers.Dense(5)(x)")],
        "part_d_answer": TINY,
        "part_e_answer": TINY_FINE,
        "part_f_answer": [(SOFTMAX_HEAD, "layers.Dense(5)(x)")],
    },
    "scratch_trained_less_and_faster": {
        "part_d_answer": TINY,
        "part_e_answer": TINY_FINE,
        "part_f_answer": [
            ("Adam(learning_rate=1e-3)", "Adam(learning_rate=1e-2)"),
            ("epochs=epochs_head + epochs_fine,", "epochs=epochs_head,"),
        ],
    },
    # Valid variants: full marks.
    "sequential_api": {
        "part_c_answer": [
            (
                "inputs = keras.Input(shape=(32, 32, 3))\n"
                "features = base(inputs, training=False)\n"
                "x = layers.Flatten()(features)\n"
                "x = layers.Dropout(0.3)(x)\n"
                f"outputs = {SOFTMAX_HEAD}\n"
                "model = keras.Model(inputs, outputs)\n",
                "model = keras.Sequential([\n"
                "    keras.Input(shape=(32, 32, 3)),\n"
                "    base,\n"
                "    layers.Flatten(),\n"
                "    layers.Dropout(0.3),\n"
                '    layers.Dense(5, activation="softmax"),\n'
                "])\n",
            )
        ],
        "part_f_answer": [
            (
                "inputs = keras.Input(shape=(32, 32, 3))\n"
                "x = layers.Flatten()(scratch_base(inputs, training=False))\n"
                "x = layers.Dropout(0.3)(x)\n"
                f"outputs = {SOFTMAX_HEAD}\n"
                "model_scratch = keras.Model(inputs, outputs)\n",
                "model_scratch = keras.Sequential([\n"
                "    keras.Input(shape=(32, 32, 3)),\n"
                "    scratch_base,\n"
                "    layers.Flatten(),\n"
                "    layers.Dropout(0.3),\n"
                '    layers.Dense(5, activation="softmax"),\n'
                "])\n",
            )
        ],
    },
    "base_layers_inline": {
        "part_c_answer": [
            (
                "inputs = keras.Input(shape=(32, 32, 3))\n"
                "features = base(inputs, training=False)\n"
                "x = layers.Flatten()(features)\n",
                "x = layers.Flatten()(base.output)\n",
            ),
            ("model = keras.Model(inputs, outputs)", "model = keras.Model(base.input, outputs)"),
        ],
        "part_f_answer": [
            (
                "inputs = keras.Input(shape=(32, 32, 3))\n"
                "x = layers.Flatten()(scratch_base(inputs, training=False))\n",
                "x = layers.Flatten()(scratch_base.output)\n",
            ),
            (
                "model_scratch = keras.Model(inputs, outputs)",
                "model_scratch = keras.Model(scratch_base.input, outputs)",
            ),
        ],
    },
}

EXPECTED = {
    "correct": {},
    "untouched": {
        "rgb_input": "not implemented yet: `X_train` is not defined",
        "base_without_top": "not implemented yet: `base` is not defined",
        "head": "not implemented yet: `model` is not defined",
        "head_parameters": "not implemented yet: `feature_shape` is not defined",
        "frozen_base": "not implemented yet: `model_head` is not defined",
        "fine_tuning": "not implemented yet: `model` is not defined",
        "target_accuracy": "not implemented yet: `model` is not defined",
        "transfer_beats_scratch": "not implemented yet: `model` is not defined",
    },
    "base_not_frozen": {
        "frozen_base": "`model_head`: the base is not frozen",
        "target_accuracy": "test accuracy: too low",
    },
    "grayscale_one_channel": {
        "rgb_input": "`X_train`: 1 channel, the network needs 3",
        # fit refuses 1-channel images: nothing trains, model_head is never saved
        "frozen_base": "`model_head` is not defined: the cell starting "
        '`transfer_checks.check_base_input("X_train", X_train, target.` raised CheckFailure: '
        "`X_train`: 1 channel, the network needs 3",
        "fine_tuning": "`model_head` is not defined: the cell starting "
        '`transfer_checks.check_base_input("X_train", X_train, target.` raised CheckFailure: '
        "`X_train`: 1 channel, the network needs 3",
        "target_accuracy": "test accuracy: too low",
        "transfer_beats_scratch": "`history_scratch` is not defined: the cell starting "
        '`transfer_checks.check_base_input("X_train", X_train, target.` raised CheckFailure: '
        "`X_train`: 1 channel, the network needs 3",
    },
    "top_not_removed": {
        "base_without_top": "`base`: the base's top is still there",
        "target_accuracy": "test accuracy: too low",
        "transfer_beats_scratch": "comparison: transfer does not beat training from scratch",
    },
    "fine_tuning_with_the_large_learning_rate": {
        "fine_tuning": "`model`: fine-tuning learning rate too large",
        "target_accuracy": "test accuracy: too low",
    },
    "head_without_softmax": {
        "head": "output layer: wrong activation",
        "target_accuracy": "test accuracy: too low",
        "transfer_beats_scratch": "comparison: transfer does not beat training from scratch",
    },
    "scratch_trained_less_and_faster": {
        "target_accuracy": "test accuracy: too low",
        "transfer_beats_scratch": "2 problems: model_scratch › compile settings: wrong learning "
        "rate; `history_scratch`: not as many epochs as the transfer",
    },
    "sequential_api": {},
    "base_layers_inline": {},
}
