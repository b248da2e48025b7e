"""Canned submissions of lesson 05_cnn: name → edits of the filled-in release.

``EXPECTED`` says what grading each one must give: for every test that must FAIL, the
exact first line of its message; every test not listed must pass with full points.
Notebooks expected to fail train on 2,000 images (``TINY``) when that does not change
the verdict, to keep the suite fast (the graders name that shortcut too: ``SMALL_FIT``).
"""

TINY = [("model.fit(X_train_cnn, y_train,", "model.fit(X_train_cnn[:2000], y_train[:2000],")]

CONV1 = 'layers.Conv2D(16, (3, 3), padding="same", activation="relu"),'
CONV2 = 'layers.Conv2D(32, (3, 3), padding="same", activation="relu"),'
POOL = "    layers.MaxPool2D((2, 2)),\n"

VARIANTS = {
    "correct": {},
    "untouched": "untouched",
    # Mistakes.
    "conv_without_pooling": {
        "part_c_answer": [(POOL, ""), (POOL, ""), (POOL, "")],
        "part_e_answer": TINY,
    },
    "softmax_missing": {
        "part_c_answer": [('layers.Dense(10, activation="softmax"),', "layers.Dense(10),")],
        "part_e_answer": TINY,
    },
    "categorical_ce_on_integer_labels": {
        "part_d_answer": [
            ('loss="sparse_categorical_crossentropy"', 'loss="categorical_crossentropy"')
        ],
    },
    "wrong_shape_and_param_answers": {
        "part_a_answer": [("conv1_shape = (28, 28, 16)", "conv1_shape = (26, 26, 16)")],
        "part_b_answer": [("(3 * 3 * 16 + 1) * 32", "(3 * 3 * 1 + 1) * 32")],
        "part_e_answer": TINY,
    },
    "far_too_few_epochs": {
        "part_e_answer": [("epochs=epochs", "epochs=1"), *TINY],
    },
    # Valid variants: full marks.
    "functional_api": {
        "part_c_answer": [
            (
                "model = keras.Sequential([\n    keras.Input(shape=(28, 28, 1)),",
                "x = inputs = keras.Input(shape=(28, 28, 1))\nfor layer in [",
            ),
            (
                "])\nmodel.summary()",
                "]:\n    x = layer(x)\nmodel = keras.Model(inputs, x)\nmodel.summary()",
            ),
        ],
    },
    "relu_after_batchnorm": {
        "part_c_answer": [
            (CONV1, 'layers.Conv2D(16, (3, 3), padding="same"),'),
            (
                "layers.BatchNormalization(),",
                'layers.BatchNormalization(),\n    layers.Activation("relu"),',
            ),
            (CONV2, 'layers.Conv2D(32, (3, 3), padding="same"),'),
            (
                "layers.BatchNormalization(),\n    layers.MaxPool2D",
                "layers.BatchNormalization(),\n    layers.ReLU(),\n    layers.MaxPool2D",
            ),
        ],
    },
}

SMALL_FIT = "training: not the rows and batch size of fit on all 60,000 training images"

EXPECTED = {
    "correct": {},
    "untouched": {
        "output_shapes": "not implemented yet: `conv1_shape`, `pool1_shape`, `conv2_shape`, "
        "`pool2_shape`, `conv3_shape`, `pool3_shape` and `flatten_size` are not defined",
        "parameter_counts": "not implemented yet: `conv1_params`, `bn1_params`, `conv2_params`, "
        "`conv3_params`, `dense_params` and `output_params` are not defined",
        "architecture": "not implemented yet: `model` is not defined",
        "compile_settings": "not implemented yet: `model` is not defined",
        "test_accuracy": "not implemented yet: `X_train_cnn`, `X_test_cnn`, `model` and "
        "`history` are not defined",
    },
    "conv_without_pooling": {
        "architecture": "3 problems: missing layer: MaxPooling2D (3 times)",
        "test_accuracy": f"2 problems: test accuracy: too low; {SMALL_FIT}",
    },
    "softmax_missing": {
        "architecture": "output layer: wrong activation",
        "test_accuracy": f"2 problems: test accuracy: too low; {SMALL_FIT}",
    },
    "categorical_ce_on_integer_labels": {
        "compile_settings": "compile settings: wrong loss",
        "test_accuracy": "2 problems: test accuracy: too low; `history` is not defined: the cell "
        "starting `history = model.fit(X_train_cnn, y_train, epochs=epochs, bat` raised "
        "ValueError: Arguments `target` and `output` must have the "
        "same rank (ndim). Received: target.shape=(None,), output.shape=(None, 10)",
    },
    "wrong_shape_and_param_answers": {
        "output_shapes": "`conv1_shape`: wrong shape",
        "parameter_counts": "`conv2_params`: wrong value",
        "test_accuracy": f"2 problems: test accuracy: too low; {SMALL_FIT}",
    },
    "far_too_few_epochs": {
        "test_accuracy": "3 problems: test accuracy: too low; training: wrong number of epochs; "
        f"{SMALL_FIT}"
    },
    "functional_api": {},
    "relu_after_batchnorm": {},
}
