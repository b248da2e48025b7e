"""Train the course's pretrained network (lesson 07's base), reproducibly.

``python -m course_lib.admin.pretrain`` (``make base-weights``) trains
:func:`course_lib.pretrained.MiniVGG` from a fixed seed with deterministic TensorFlow ops on
every MNIST training image of the digits 0-4, padded to 32 × 32 and repeated over 3 channels,
then compares the weights file it wrote with the SHA-256 recorded in
:data:`course_lib.pretrained.WEIGHTS`. ``--write`` replaces the shipped file (then record the
printed SHA-256). The same software on the same kind of CPU gives the same bytes; another CPU
or TensorFlow version may round differently, which is why the file itself is committed and
checked, and never retrained at run time.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from course_lib import data, pretrained, transfer_checks

SEED = 0
EPOCHS = 4
BATCH_SIZE = 64
LEARNING_RATE = 0.002


@dataclass(frozen=True)
class TrainedBase:
    path: Path
    sha256: str
    test_accuracy: float


def train_base(out: Path, *, seed: int = SEED, epochs: int = EPOCHS) -> TrainedBase:
    """Train MiniVGG on the source digits and save its weights (top included) to ``out``."""
    import keras
    import numpy as np
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    source = data.load_transfer_source()
    x_train = transfer_checks.base_input(source.x_train)
    x_test = transfer_checks.base_input(source.x_test)
    model = pretrained.MiniVGG(include_top=True, weights=None)
    steps = epochs * int(np.ceil(len(x_train) / BATCH_SIZE))
    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(LEARNING_RATE, decay_steps=steps)
        ),
        metrics=["accuracy"],
    )
    model.fit(x_train, source.y_train, epochs=epochs, batch_size=BATCH_SIZE, verbose=2)
    accuracy = float(model.evaluate(x_test, source.y_test, verbose=0)[1])
    # An uncompiled copy: the file holds the network's weights only, not Adam's moment estimates.
    weights_only = pretrained.MiniVGG(include_top=True, weights=None)
    weights_only.set_weights(model.get_weights())
    weights_only.save_weights(out)
    return TrainedBase(Path(out), pretrained.sha256_of(Path(out)), accuracy)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument(
        "--write", action="store_true", help="replace the shipped weights file with the result"
    )
    args = parser.parse_args(argv)
    filename, recorded = pretrained.WEIGHTS[pretrained.DIGITS_0_4]
    with tempfile.TemporaryDirectory(prefix="course-pretrain-") as tmp:
        trained = train_base(Path(tmp) / filename, seed=args.seed, epochs=args.epochs)
        print(f"test accuracy on the digits 0-4: {trained.test_accuracy:.4f}")
        print(f"SHA-256 {trained.sha256}  ({trained.path.stat().st_size:,} bytes)")
        if args.write:
            pretrained.WEIGHTS_DIR.mkdir(exist_ok=True)
            shutil.copyfile(trained.path, pretrained.WEIGHTS_DIR / filename)
            print(f"wrote {pretrained.WEIGHTS_DIR / filename}")
            if trained.sha256 != recorded:
                print(f"record it: WEIGHTS[{pretrained.DIGITS_0_4!r}] in course_lib/pretrained.py")
            return 0
    if trained.sha256 == recorded:
        print("reproduced: identical to the shipped weights")
        return 0
    print(f"differs from the shipped weights (SHA-256 {recorded})")
    return 1


if __name__ == "__main__":
    sys.exit(main())
