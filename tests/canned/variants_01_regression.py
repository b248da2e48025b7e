"""Canned submissions of lesson 01_regression: name → edits of the filled-in release.

``EXPECTED`` says what grading each one must give: for every test that must FAIL, the
exact first line of its message; every test not listed must pass with full points.
``OPTIONS`` sets grading limits for a variant (e.g. a short cell timeout).
"""

VARIANTS = {
    "correct": {},
    "untouched": "untouched",
    "wrong_activation": {
        "part_b_answer": [("layers.Dense(1),", 'layers.Dense(1, activation="relu"),')],
    },
    "wrong_loss": {
        "part_d_answer": [('loss="mse"', 'loss="binary_crossentropy"')],
    },
    "missing_input_shape": {
        "part_b_answer": [("    keras.Input(shape=(n_features,)),\n", "")],
    },
    "unscaled_features": {
        "part_a_answer": [
            ("X_train_scaled = (X_train - feature_mean) / feature_std", "X_train_scaled = X_train"),
            ("X_test_scaled = (X_test - feature_mean) / feature_std", "X_test_scaled = X_test"),
        ],
    },
    "exception": {
        "part_b_answer": [("layers.Dense(1),", 'layers.Dense(1, activaton="linear"),')],
    },
    "infinite_loop": {
        "part_e_answer": [("history = model.fit(", "while True:\n    pass\nhistory = model.fit(")],
    },
    "kernel_crash": {
        "part_e_answer": [("history = model.fit(", "import os\nos._exit(3)\nhistory = model.fit(")],
    },
    "memory_hog": {
        "part_e_answer": [
            ("history = model.fit(", "hog = [np.ones(2**27) for _ in range(64)]\nhistory = model.fit(")
        ],
    },
    "scaled_predictions_and_keras_count": {
        "part_c_answer": [("n_params = n_features * 1 + 1", "n_params = model.count_params()")],
        "part_e_answer": [
            (
                "y_pred = model.predict(X_test_scaled, verbose=0).ravel() * y_std + y_mean",
                "y_pred = model.predict(X_test_scaled, verbose=0).ravel()",
            )
        ],
    },
    # Valid variants: must get full marks.
    "functional_api": {
        "part_b_answer": [
            (
                "model = keras.Sequential([\n    keras.Input(shape=(n_features,)),\n    layers.Dense(1),\n])",
                "inputs = keras.Input(shape=(n_features,))\n"
                "outputs = layers.Dense(1, activation=\"linear\")(inputs)\n"
                "model = keras.Model(inputs, outputs)",
            )
        ],
    },
    "objects_not_strings": {
        "part_d_answer": [
            (
                'model.compile(loss="mse", optimizer="adam", metrics=["mae"])',
                "model.compile(loss=keras.losses.MeanSquaredError(), "
                "optimizer=keras.optimizers.Adam(), "
                "metrics=[keras.metrics.MeanAbsoluteError()])",
            )
        ],
    },
}

NOT_DEFINED_MODEL = (
    "`model` is not defined: the cell starting `keras.backend.clear_session()` raised "
    "ValueError: Unrecognized keyword arguments passed to Dense: {'activaton': 'linear'}"
)

EXPECTED = {
    "correct": {},
    "untouched": {
        "preprocessing": "not implemented yet: `X_train_scaled`, `X_test_scaled`, "
        "`y_train_scaled`, `y_mean` and `y_std` are not defined",
        "architecture": "not implemented yet: `model` is not defined",
        "parameter_count": "not implemented yet: `n_params` and `model` are not defined",
        "compile_settings": "not implemented yet: `model` is not defined",
        "quality": "not implemented yet: `model` is not defined",
    },
    "wrong_activation": {
        "architecture": "output layer: wrong activation",
        "quality": "test mean absolute error: too high",
    },
    "wrong_loss": {
        "compile_settings": "compile settings: wrong loss",
        "quality": "test mean absolute error: too high",
    },
    "missing_input_shape": {"architecture": "input shape: missing"},
    "unscaled_features": {
        "preprocessing": "2 problems: `X_train_scaled`: not standardised; "
        "`X_test_scaled`: not standardised",
        "quality": "test mean absolute error: too high",
    },
    "exception": {
        "architecture": NOT_DEFINED_MODEL,
        "parameter_count": NOT_DEFINED_MODEL,
        "compile_settings": NOT_DEFINED_MODEL,
        "quality": NOT_DEFINED_MODEL,
    },
    "infinite_loop": {
        "quality": "2 problems: test mean absolute error: too high; `history` is not defined: "
        "the cell starting `epochs = 100` raised CellTimeoutError: the cell ran longer than 20 s "
        "and was stopped"
    },
    "kernel_crash": {
        "quality": "2 problems: test mean absolute error: too high; `history` is not defined: "
        "the cell starting `epochs = 100` raised KernelDied: the kernel died (exit status 3)"
    },
    "memory_hog": {
        "quality": "2 problems: test mean absolute error: too high; `history` is not defined: "
        "the cell starting `epochs = 100` raised KernelDied: the kernel used more than 2048 MB "
        "of memory and was stopped"
    },
    "scaled_predictions_and_keras_count": {
        "parameter_count": "`n_params`: counted by Keras, not by hand",
        "quality": "`y_pred`: in standardised units",
    },
    "functional_api": {},
    "objects_not_strings": {},
}

OPTIONS = {"infinite_loop": {"cell_timeout": 20}, "memory_hog": {"memory_mb": 2048}}
