"""Training images/s of `multilabel_resnet50` on a GPU: float32, mixed precision, and mixed
precision + XLA, over a batch-size sweep, on synthetic data and on the real pipeline.

Published anchors: ResNet-50 training with mixed precision + XLA is about 2,375 images/s
on one A100 (NVIDIA's TensorFlow example) and about 2,600-2,800 on one H100.

Runs on Keras' TensorFlow backend (all modes, and the real `zoo.data` pipeline) or its JAX
backend (`KERAS_BACKEND=jax`: synthetic data only; every mode compiles with XLA there).

    python benchmarks/gpu_throughput.py                      # on a GPU machine
    KERAS_BACKEND=jax python benchmarks/gpu_throughput.py    # without TensorFlow
    python benchmarks/gpu_throughput.py --tiny               # CPU smoke run (tests)
"""

from __future__ import annotations

import argparse
import time

from common import data_dir_argument, print_table

MODES = {  # name: (dtype policy, XLA on TensorFlow)
    "float32": ("float32", False),
    "mixed": ("mixed_float16", False),
    "mixed+XLA": ("mixed_float16", True),
    "bfloat16+XLA": ("mixed_bfloat16", True),
}


def synthetic(shape, batch_size, classes):
    """One host-resident batch, served again every step (copied to the device each time)."""
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (batch_size, *shape)).astype("float32")
    targets = {"tags": rng.integers(0, 2, (batch_size, classes)).astype("float32")}
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.data.Dataset.from_tensors((images, targets)).repeat()

    def batches():
        while True:
            yield images, targets

    return batches()


def measure(model_name, heads, shape, batch_size, mode, data, steps, warmup):
    """(images/s of `model.fit` over `steps` batches after `warmup` batches of compilation, XLA used)."""
    import keras
    import numpy as np

    import zoo

    policy, xla = MODES[mode]
    keras.backend.clear_session()
    with zoo.training.scale.mixed_precision(policy):
        model = zoo.build(model_name, heads=heads, input_shape=shape, weights=None, compile=False)
    optimizer = keras.optimizers.SGD(0.01, momentum=0.9)  # compile adds loss scaling for mixed_float16
    zoo.compile_model(model, optimizer=optimizer, jit_compile=xla or None)  # None: the backend's default
    model.fit(data, steps_per_epoch=warmup, epochs=1, shuffle=False, verbose=0)  # tracing and compilation
    start = time.perf_counter()
    history = model.fit(data, steps_per_epoch=steps, epochs=1, shuffle=False, verbose=0)  # logs read back: synchronised
    seconds = time.perf_counter() - start
    if not np.isfinite(history.history["loss"][-1]):
        raise RuntimeError(f"{mode} training at batch {batch_size} diverged: loss {history.history['loss'][-1]}")
    return steps * batch_size / seconds, model.jit_compile


def accelerators() -> str:
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        names = [d.name for d in tf.config.list_physical_devices("GPU")]
    else:
        import jax

        names = [str(d) for d in jax.devices() if d.platform != "cpu"]
    return ", ".join(names) or "CPU only"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data_dir_argument(parser)
    parser.add_argument("--model", default="multilabel_resnet50")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--modes", nargs="+", choices=list(MODES),
                        help="default: float32 mixed mixed+XLA (TensorFlow), float32 mixed (JAX)")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--tiny", action="store_true", help="multilabel_small, 32x32, batch 4, 2 steps, float32")
    args = parser.parse_args()
    if args.tiny:
        args.model, args.size, args.batch_sizes, args.steps, args.warmup = "multilabel_small", 32, [4], 2, 1
        args.modes = ["float32"]

    import keras

    import zoo

    backend = keras.backend.backend()
    on_tensorflow = backend == "tensorflow"
    args.modes = args.modes or (["float32", "mixed", "mixed+XLA"] if on_tensorflow else ["float32", "mixed"])
    shape = (args.size, args.size, 3)
    heads = [zoo.Head("tags", ["desert", "mountains", "sea", "sunset", "trees"])]
    rows = []

    def record(data, batch_size, mode, measured):
        rate, xla = measured
        rows.append({"data": data, "batch": batch_size, "precision": MODES[mode][0], "XLA": "yes" if xla else "no",
                     "images/s": f"{rate:.0f}"})
        print(rows[-1], flush=True)

    for batch_size in args.batch_sizes:
        for mode in args.modes:
            data = synthetic(shape, batch_size, len(heads[0].classes))
            record("synthetic", batch_size, mode,
                   measure(args.model, heads, shape, batch_size, mode, data, args.steps, args.warmup))
    miml = args.data / "miml"
    if not on_tensorflow:
        print(f"MIML make_dataset row skipped: zoo.data builds on tf.data, and the backend is {backend}.")
    elif miml.is_dir():
        df = zoo.data.from_onehot_csv(miml / "miml_labels_1.csv", file_column="Filenames", head="tags")
        batch_size, mode = args.batch_sizes[-1], args.modes[-1]
        pipeline = zoo.data.make_dataset(df, heads, directory=miml / "images", image_size=shape[:2],
                                         batch_size=batch_size, augment={"flip": "horizontal"},
                                         cache=True, drop_remainder=True).repeat()
        record("MIML make_dataset", batch_size, mode,
               measure(args.model, heads, shape, batch_size, mode, pipeline, args.steps, args.warmup))
    print(f"{args.model} at {args.size}x{args.size}, training, Keras {keras.__version__} "
          f"on {backend}, on {accelerators()}")
    print_table(rows, ["data", "batch", "precision", "XLA", "images/s"])


if __name__ == "__main__":
    main()
