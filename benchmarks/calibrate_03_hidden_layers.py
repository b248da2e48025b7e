"""Calibrate the accuracy thresholds of 03_hidden_layers: reference solution, seeds 0-4."""

import sys
import time

import keras
import numpy as np
from keras import layers

from course_lib import data


def run(seed: int) -> dict:
    moons = data.load_moons_split()
    out = {}
    keras.utils.set_random_seed(seed)
    linear = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(1, activation="sigmoid")])
    keras.utils.set_random_seed(seed)
    hidden = keras.Sequential(
        [
            keras.Input(shape=(2,)),
            layers.Dense(16, activation="relu"),
            layers.Dense(16, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    for name, model in (("linear", linear), ("hidden", hidden)):
        model.compile(
            loss="binary_crossentropy",
            optimizer=keras.optimizers.Adam(learning_rate=0.01),
            metrics=["accuracy"],
        )
        model.fit(
            moons.X_train, moons.y_train, epochs=30, batch_size=32, validation_split=0.2, verbose=0
        )
        out[name] = float(
            ((model.predict(moons.X_test, verbose=0).ravel() > 0.5) == moons.y_test).mean()
        )
    return out


if __name__ == "__main__":
    seeds = [int(a) for a in sys.argv[1:]] or [0, 1, 2, 3, 4]
    results = []
    for seed in seeds:
        start = time.time()
        results.append(run(seed))
        print(seed, results[-1], f"{time.time() - start:.1f}s", flush=True)
    for key in results[0]:
        values = sorted(r[key] for r in results)
        print(f"{key}: min {values[0]:.4f} median {np.median(values):.4f} max {values[-1]:.4f}")
