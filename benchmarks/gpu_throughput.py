"""Training images/s of `multilabel_resnet50` on a GPU: float32, mixed precision, and mixed
precision + XLA, over a batch-size sweep, on synthetic data and on the real pipeline.

Published anchors: ResNet-50 training with mixed precision + XLA is about 2,375 images/s
on one A100 (NVIDIA's TensorFlow example) and about 2,600-2,800 on one H100.

    python benchmarks/gpu_throughput.py                      # on a GPU machine
    python benchmarks/gpu_throughput.py --tiny               # CPU smoke run (tests)
"""

from __future__ import annotations

import argparse
import time

from common import data_dir_argument, print_table

MODES = {
    "float32": ("float32", False),
    "mixed": ("mixed_float16", False),
    "mixed+XLA": ("mixed_float16", True),
}


def synthetic(shape, batch_size, classes, steps):
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (batch_size, *shape)).astype("float32")
    targets = {"tags": rng.integers(0, 2, (batch_size, classes)).astype("float32")}
    return tf.data.Dataset.from_tensors((images, targets)).repeat(steps)


def measure(model_name, heads, shape, batch_size, mode, data, steps, warmup):
    import keras

    import zoo

    policy, xla = MODES[mode]
    keras.backend.clear_session()
    with zoo.scale.mixed_precision(policy):
        model = zoo.build(model_name, heads=heads, input_shape=shape, weights=None, compile=False)
    optimizer = keras.optimizers.SGD(0.01, momentum=0.9)
    if policy != "float32":
        optimizer = keras.mixed_precision.LossScaleOptimizer(optimizer)
    zoo.compile_model(model, optimizer=optimizer, jit_compile=xla)
    model.fit(data.take(warmup), epochs=1, verbose=0)  # tracing and compilation
    start = time.perf_counter()
    model.fit(data.take(steps), epochs=1, verbose=0)
    return steps * batch_size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data_dir_argument(parser)
    parser.add_argument("--model", default="multilabel_resnet50")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--tiny", action="store_true", help="multilabel_small, 32x32, batch 4, 2 steps, float32")
    args = parser.parse_args()
    if args.tiny:
        args.model, args.size, args.batch_sizes, args.steps, args.warmup = "multilabel_small", 32, [4], 2, 1
        args.modes = ["float32"]

    import tensorflow as tf

    import zoo

    shape = (args.size, args.size, 3)
    devices = [d.name for d in tf.config.list_physical_devices("GPU")] or ["CPU only"]
    heads = [zoo.Head("tags", ["desert", "mountains", "sea", "sunset", "trees"])]
    rows = []
    for batch_size in args.batch_sizes:
        for mode in args.modes:
            rate = measure(args.model, heads, shape, batch_size, mode,
                           synthetic(shape, batch_size, 5, args.steps + args.warmup), args.steps, args.warmup)
            rows.append({"data": "synthetic", "batch": batch_size, "mode": mode, "images/s": f"{rate:.0f}"})
            print(rows[-1], flush=True)
    miml = args.data / "miml"
    if miml.is_dir():
        df = zoo.data.from_onehot_csv(miml / "miml_labels_1.csv", file_column="Filenames", head="tags")
        batch_size, mode = args.batch_sizes[-1], args.modes[-1]
        pipeline = zoo.data.make_dataset(df, heads, directory=miml / "images", image_size=shape[:2],
                                         batch_size=batch_size, augment={"flip": "horizontal"},
                                         cache=True, drop_remainder=True).repeat()
        rate = measure(args.model, heads, shape, batch_size, mode, pipeline, args.steps, args.warmup)
        rows.append({"data": "MIML make_dataset", "batch": batch_size, "mode": mode, "images/s": f"{rate:.0f}"})
    print(f"{args.model} at {args.size}x{args.size}, training, on {', '.join(devices)}")
    print_table(rows, ["data", "batch", "mode", "images/s"])


if __name__ == "__main__":
    main()
