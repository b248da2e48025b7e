"""Canned submissions of lesson 02_classification: name → edits of the filled-in release.

``EXPECTED`` says what grading each one must give: for every test that must FAIL, the
exact first line of its message; every test not listed must pass with full points.
"""

VARIANTS = {
    "correct": {},
    "untouched": "untouched",
    "softmax_one_unit": {
        "part_a_answer": [
            ('layers.Dense(1, activation="sigmoid"),', 'layers.Dense(1, activation="softmax"),')
        ],
    },
    "sigmoid_categorical": {
        "part_c_answer": [
            (
                'layers.Dense(n_classes, activation="softmax"),',
                'layers.Dense(n_classes, activation="sigmoid"),',
            )
        ],
    },
    "onehot_with_sparse_loss": {
        "part_c_answer": [
            ('loss="categorical_crossentropy"', 'loss="sparse_categorical_crossentropy"')
        ],
    },
    "integers_with_categorical_loss": {
        "part_d_answer": [
            ('loss="sparse_categorical_crossentropy"', 'loss="categorical_crossentropy"')
        ],
    },
    "probabilities_not_labels": {
        "part_b_answer": [
            (
                'binary_pred = (binary_probabilities > 0.5).astype("int64")',
                "binary_pred = binary_probabilities",
            )
        ],
    },
    "labels_not_flat": {
        "part_b_answer": [("verbose=0).ravel()", "verbose=0)")],
    },
    "table_sparse_loss": {
        "part_e_answer": [
            ('"loss": "categorical_crossentropy"', '"loss": "sparse_categorical_crossentropy"'),
        ],
    },
    # Valid variants: must get full marks.
    "functional_api": {
        "part_a_answer": [
            (
                "binary_model = keras.Sequential([\n    keras.Input(shape=(30,)),\n"
                '    layers.Dense(1, activation="sigmoid"),\n])',
                "inputs = keras.Input(shape=(30,))\n"
                'outputs = layers.Dense(1, activation="sigmoid")(inputs)\n'
                "binary_model = keras.Model(inputs, outputs)",
            )
        ],
    },
    "activation_layer": {
        "part_c_answer": [
            (
                'layers.Dense(n_classes, activation="softmax"),',
                'layers.Dense(n_classes),\n    layers.Activation("softmax"),',
            )
        ],
    },
    "objects_and_acc": {
        "part_a_answer": [
            (
                'binary_model.compile(loss="binary_crossentropy", optimizer="adam", '
                'metrics=["accuracy"])',
                "binary_model.compile(loss=keras.losses.BinaryCrossentropy(), "
                'optimizer=keras.optimizers.Adam(), metrics=["acc"])',
            )
        ],
        "part_d_answer": [('metrics=["accuracy"]', 'metrics=["acc"]')],
    },
    "table_spellings": {
        "part_e_answer": [
            (
                '{"activation": "linear", "loss": "mse", "metric": "mae"}',
                '{"activation": None, "loss": "mean_squared_error", '
                '"metric": "mean_absolute_error"}',
            ),
            ('"metric": "accuracy",', '"metric": "acc",'),
        ],
    },
}

EXPECTED = {
    "correct": {},
    "untouched": {
        "binary_architecture": "not implemented yet: `binary_model` is not defined",
        "binary_compile": "not implemented yet: `binary_model` is not defined",
        "multiclass_architecture": "not implemented yet: `onehot_model` and `sparse_model` are "
        "not defined",
        "multiclass_compile": "not implemented yet: `y_wine_train_onehot` is not defined",
        "predictions": "not implemented yet: `binary_pred` and `wine_pred` are not defined",
        "decision_table": "not implemented yet: `decision_table` is not defined",
        "quality": "not implemented yet: `binary_model`, `onehot_model`, `sparse_model`, "
        "`binary_history`, `onehot_history` and `sparse_history` are not defined",
    },
    "softmax_one_unit": {
        "binary_architecture": "binary_model › output layer: softmax on a single unit",
        "quality": "binary_model: test accuracy: too low",
    },
    "sigmoid_categorical": {
        "multiclass_architecture": "onehot_model › output layer: wrong activation",
    },
    "onehot_with_sparse_loss": {
        "multiclass_compile": "onehot_model › compile settings: "
        "sparse_categorical_crossentropy on one-hot targets",
        "quality": "2 problems: onehot_model: test accuracy: too low; `onehot_history` is not "
        "defined: the cell starting `keras.backend.clear_session()` raised ValueError: Argument "
        "`output` must have rank (ndim) `target.ndim - 1`. Received: target.shape=(None, 3), "
        "output.shape=(None, 3)",
    },
    "integers_with_categorical_loss": {
        "multiclass_compile": "sparse_model › compile settings: "
        "categorical_crossentropy on integer targets",
        "quality": "2 problems: sparse_model: test accuracy: too low; `sparse_history` is not "
        "defined: the cell starting `keras.backend.clear_session()` raised ValueError: Arguments "
        "`target` and `output` must have the same rank (ndim). Received: target.shape=(None,), "
        "output.shape=(None, 3)",
    },
    "probabilities_not_labels": {"predictions": "`binary_pred`: not integer labels"},
    "labels_not_flat": {"predictions": "`binary_pred`: wrong shape"},
    "table_sparse_loss": {"decision_table": '`decision_table["multiclass"]["loss"]`: wrong answer'},
    "functional_api": {},
    "activation_layer": {},
    "objects_and_acc": {},
    "table_spellings": {},
}
