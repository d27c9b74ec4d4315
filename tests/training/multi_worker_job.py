"""One worker of the two-worker test (or the single-process reference): trains a tiny model, prints its weights."""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import zoo  # noqa: E402
from zoo.training import distributed  # noqa: E402

GLOBAL_BATCH = 8


def tiny_model():
    import keras

    heads = [zoo.Head("tags", ["a", "b", "c"]), zoo.Head("kind", ["x", "y"], kind="multiclass")]
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs / 255.0)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, {h.name: h.build(x) for h in heads})
    return zoo.compile_model(model, heads=heads, learning_rate=0.05)


def data():
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (32, 8, 8, 3)).astype("float32")
    targets = {"tags": rng.integers(0, 2, (32, 3)).astype("float32"),
               "kind": np.eye(2, dtype="float32")[rng.integers(0, 2, 32)]}
    return tf.data.Dataset.from_tensor_slices((images, targets)).batch(GLOBAL_BATCH)


def main(mode, output, tf_config=None, timeout="60"):
    import keras

    keras.utils.set_random_seed(0)
    if mode == "single":
        model = tiny_model()
        dataset = data()
    else:
        try:
            strategy = distributed.multi_worker_strategy(json.loads(tf_config), timeout=float(timeout))
        except TimeoutError as error:
            print(error, flush=True)
            sys.exit(1)
        with strategy.scope():
            model = tiny_model()
        dataset = distributed.shard(data())
    print("INITIAL " + json.dumps([w.tolist() for w in model.get_weights()]), flush=True)
    if mode == "single":
        model.fit(dataset, epochs=2, verbose=0)
    else:
        distributed.fit(model, dataset, epochs=2)
    if distributed.is_chief():
        zoo.save_model(model, os.path.join(output, "model.keras"))
    print("WEIGHTS " + json.dumps([w.tolist() for w in model.get_weights()]), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
