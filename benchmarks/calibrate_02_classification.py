"""Calibrate the accuracy thresholds of 02_classification: reference solution, seeds 0-4."""

import sys
import time

import keras
import numpy as np
from keras import layers

from course_lib import data


def run(seed: int) -> dict:
    cancer, wine = data.load_breast_cancer_split(), data.load_wine_split()
    m, s = cancer.X_train.mean(axis=0), cancer.X_train.std(axis=0)
    Xc_tr, Xc_te = (cancer.X_train - m) / s, (cancer.X_test - m) / s
    m, s = wine.X_train.mean(axis=0), wine.X_train.std(axis=0)
    Xw_tr, Xw_te = (wine.X_train - m) / s, (wine.X_test - m) / s
    out = {}
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(shape=(30,)), layers.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(Xc_tr, cancer.y_train, epochs=30, batch_size=16, validation_split=0.2, verbose=0)
    out["binary"] = float(((model.predict(Xc_te, verbose=0).ravel() > 0.5) == cancer.y_test).mean())
    for loss in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        keras.utils.set_random_seed(seed)
        model = keras.Sequential([keras.Input(shape=(13,)), layers.Dense(3, activation="softmax")])
        model.compile(
            loss=loss, optimizer=keras.optimizers.Adam(learning_rate=0.01), metrics=["accuracy"]
        )
        target = (
            keras.utils.to_categorical(wine.y_train, 3) if loss.startswith("cat") else wine.y_train
        )
        model.fit(Xw_tr, target, epochs=30, batch_size=16, validation_split=0.2, verbose=0)
        out[loss] = float((model.predict(Xw_te, verbose=0).argmax(axis=1) == wine.y_test).mean())
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
