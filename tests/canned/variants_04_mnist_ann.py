"""Canned submissions of lesson 04_mnist_ann: name → edits of the filled-in release.

``EXPECTED`` says what grading each one must give: for every test that must FAIL, the
exact first line of its message; every test not listed must pass with full points.
Notebooks expected to fail train on a small budget where that does not change the verdict.
"""

FIT = "X_train_scaled, y_train,\n    validation_split=0.2,"

VARIANTS = {
    "correct": {},
    "untouched": "untouched",
    # Mistakes.
    "no_scaling": {
        "part_a_answer": [
            ('x_train.astype("float32") / 255.0', 'x_train.astype("float32")'),
            ('x_test.astype("float32") / 255.0', 'x_test.astype("float32")'),
        ],
    },
    "softmax_missing": {
        "part_b_answer": [('layers.Dense(10, activation="softmax"),', "layers.Dense(10),")],
    },
    "categorical_ce_on_integer_labels": {
        "part_c_answer": [
            ('loss="sparse_categorical_crossentropy"', 'loss="categorical_crossentropy"')
        ],
    },
    "no_restore_best_weights": {
        "part_d_answer": [("restore_best_weights=True", "restore_best_weights=False")],
    },
    "no_validation_split": {
        "part_e_answer": [("epochs = 100", "epochs = 1"), ("validation_split=0.2, ", "")],
    },
    "test_set_validation_and_logits": {
        "part_c_answer": [
            (
                'loss="sparse_categorical_crossentropy"',
                "loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)",
            )
        ],
        "part_e_answer": [
            ("epochs = 100", "epochs = 3"),
            ("validation_split=0.2,", "validation_data=(X_test_scaled, y_test),"),
        ],
    },
    # Valid variants: full marks.
    "functional_api": {
        "part_b_answer": [
            (
                "model = keras.Sequential([\n"
                "    keras.Input(shape=(28, 28)),\n"
                "    layers.Flatten(),\n"
                '    layers.Dense(256, activation="relu"),\n'
                "    layers.Dropout(0.3),\n"
                '    layers.Dense(10, activation="softmax"),\n'
                "])",
                "inputs = keras.Input(shape=(28, 28))\n"
                "x = layers.Flatten()(inputs)\n"
                "x = layers.Dense(256)(x)\n"
                'x = layers.Activation("relu")(x)\n'
                "x = layers.Dropout(0.3)(x)\n"
                'outputs = layers.Dense(10, activation="softmax")(x)\n'
                "model = keras.Model(inputs, outputs)",
            )
        ],
        "part_f_answer": [
            ("model.save(model_path)", "keras.saving.save_model(model, model_path)"),
            ("keras.models.load_model(model_path)", "keras.saving.load_model(model_path)"),
        ],
    },
    "two_hidden_layers_flat_input": {
        "part_a_answer": [
            (
                'x_train.astype("float32") / 255.0',
                '(x_train.astype("float32") / 255.0).reshape(-1, 784)',
            ),
            (
                'x_test.astype("float32") / 255.0',
                '(x_test.astype("float32") / 255.0).reshape(-1, 784)',
            ),
        ],
        "part_b_answer": [
            ("keras.Input(shape=(28, 28)),\n    layers.Flatten(),", "keras.Input(shape=(784,)),"),
            (
                'layers.Dense(256, activation="relu"),',
                'layers.Dense(256, activation="relu"),\n    layers.Dropout(0.3),\n'
                '    layers.Dense(128, activation="relu"),',
            ),
        ],
    },
}

NOT_DEFINED_HISTORY = (
    "`history` is not defined: the cell starting `epochs = 100` raised ValueError: "
    "Arguments `target` and `output` must have the same rank (ndim). "
    "Received: target.shape=(128,), output.shape=(128, 10)"
)

EXPECTED = {
    "correct": {},
    "untouched": {
        "preprocessing": "not implemented yet: `X_train_scaled` and `X_test_scaled` are not "
        "defined",
        "architecture": "not implemented yet: `model` is not defined",
        "compile_settings": "not implemented yet: `model` is not defined",
        "callback_settings": "not implemented yet: `early_stopping` is not defined",
        "training": "not implemented yet: `history` is not defined",
        "test_accuracy": "not implemented yet: `model` is not defined",
        "saved_model": "not implemented yet: `model` is not defined",
    },
    "no_scaling": {
        "preprocessing": "2 problems: `X_train_scaled`: pixels not scaled to [0, 1]; "
        "`X_test_scaled`: pixels not scaled to [0, 1]",
        "test_accuracy": "test accuracy: too low",
    },
    "softmax_missing": {
        "architecture": "output layer: wrong activation",
        "test_accuracy": "test accuracy: too low",
    },
    "categorical_ce_on_integer_labels": {
        "compile_settings": "compile settings: wrong loss",
        "training": NOT_DEFINED_HISTORY,
        "test_accuracy": "test accuracy: too low",
    },
    "no_restore_best_weights": {
        "callback_settings": "EarlyStopping: best weights not restored",
        "training": "training: the model does not have the best epoch's weights",
    },
    "no_validation_split": {
        "training": "3 problems: training: epoch budget too small for early stopping; "
        "training: no validation data; training: not the rows and batch size of the fit call "
        "given",
        "test_accuracy": "test accuracy: too low",
    },
    "test_set_validation_and_logits": {
        "compile_settings": "compile settings: from_logits=True on a softmax output",
        "training": "4 problems: training: validation data is the test set; training: epoch "
        "budget too small for early stopping; training: not the rows and batch size of the fit "
        "call given; training: did not stop early",
        "test_accuracy": "test accuracy: too low",
    },
    "functional_api": {},
    "two_hidden_layers_flat_input": {},
}
