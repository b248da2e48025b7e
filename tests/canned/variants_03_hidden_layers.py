"""Canned submissions of lesson 03_hidden_layers: name → edits of the filled-in release.

``EXPECTED`` says what grading each one must give: for every test that must FAIL, the
exact first line of its message; every test not listed must pass with full points.
"""

VARIANTS = {
    "correct": {},
    "untouched": "untouched",
    "linear_hidden_layers": {
        "part_b_answer": [
            ('layers.Dense(16, activation="relu"),', "layers.Dense(16),"),
            ('layers.Dense(16, activation="relu"),', "layers.Dense(16),"),
        ],
    },
    "params_without_bias": {
        "part_c_answer": [("return n_in * n_units + n_units", "return n_in * n_units")],
    },
    "params_by_keras": {
        "part_c_answer": [
            (
                "hidden_params = dense_params(2, 16) + dense_params(16, 16) + dense_params(16, 1)",
                "hidden_params = hidden_model.count_params()",
            )
        ],
    },
    "sgd_for_adam": {
        "part_d_answer": [
            (
                '"adam": keras.optimizers.Adam(learning_rate=0.01)',
                '"adam": keras.optimizers.SGD(learning_rate=0.01)',
            )
        ],
    },
    "nesterov_forgotten": {
        "part_d_answer": [
            (
                "keras.optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True)",
                "keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)",
            )
        ],
    },
    "dense_params_prints": {
        "part_c_answer": [("return n_in * n_units + n_units", "print(n_in * n_units + n_units)")],
    },
    # Valid variants: must get full marks.
    "functional_api": {
        "part_b_answer": [
            (
                "hidden_model = keras.Sequential([\n    keras.Input(shape=(2,)),\n"
                '    layers.Dense(16, activation="relu"),\n'
                '    layers.Dense(16, activation="relu"),\n'
                '    layers.Dense(1, activation="sigmoid"),\n])',
                "inputs = keras.Input(shape=(2,))\n"
                'x = layers.Dense(16, activation="relu")(inputs)\n'
                'x = layers.Dense(16, activation="relu")(x)\n'
                'outputs = layers.Dense(1, activation="sigmoid")(x)\n'
                "hidden_model = keras.Model(inputs, outputs)",
            )
        ],
    },
    "activation_layers_and_acc": {
        "part_b_answer": [
            (
                'layers.Dense(16, activation="relu"),',
                'layers.Dense(16),\n    layers.Activation("relu"),',
            ),
            ('layers.Dense(16, activation="relu"),', "layers.Dense(16),\n    layers.ReLU(),"),
            ('metrics=["accuracy"]', 'metrics=["acc"]'),
        ],
    },
}

EXPECTED = {
    "correct": {},
    "untouched": {
        "hidden_architecture": "not implemented yet: `hidden_model` is not defined",
        "compile_settings": "not implemented yet: `linear_model` and `hidden_model` are not "
        "defined",
        "quality": "not implemented yet: `hidden_model` and `hidden_history` are not defined",
        "baseline": "not implemented yet: `linear_model` is not defined",
        "parameter_count": "not implemented yet: `dense_params` is not defined",
        "optimizers": "not implemented yet: `optimizers` is not defined",
    },
    "linear_hidden_layers": {
        "hidden_architecture": "2 problems: hidden_model › layer 1 (Dense): a linear hidden "
        "layer adds nothing; hidden_model › layer 2 (Dense): a linear hidden layer adds nothing",
        "quality": "hidden_model: test accuracy: too low",
        "baseline": "baseline: the hidden-layer model does not beat the linear model",
    },
    "params_without_bias": {"parameter_count": "`dense_params(100, 10)`: wrong value"},
    "params_by_keras": {"parameter_count": "`hidden_params`: counted by Keras, not by hand"},
    "sgd_for_adam": {"optimizers": '`optimizers["adam"]`: wrong optimizer class'},
    "nesterov_forgotten": {"optimizers": '`optimizers["nesterov"]`: wrong nesterov'},
    "dense_params_prints": {
        "parameter_count": "`dense_params(100, 10)` returned None: did you `print` instead of "
        "`return`?"
    },
    "functional_api": {},
    "activation_layers_and_acc": {},
}
