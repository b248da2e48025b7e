"""Canned submissions of lesson 01_regression: name → edits of the filled-in release."""

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
