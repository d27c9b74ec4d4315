"""Overhead of a zoo-built model against the same network written by hand in Keras, and of
the Predictor against hand-written load + `model.predict`, measured side by side.

    python benchmarks/overhead.py --rounds 20 --steps 5
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from common import data_dir_argument, print_table


def hand_written(heads, input_shape):
    """`multilabel_small`'s network, by hand: compact_resnet trunk, pooling, dropout, sigmoid heads."""
    import keras

    from zoo.models.backbones.compact_resnet import build_compact_resnet

    inputs = keras.Input(input_shape)
    x = build_compact_resnet(input_shape)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.3)(x)
    outputs = {h.name: keras.layers.Dense(h.units, activation="sigmoid", name=h.name)(x) for h in heads}
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(1e-3), {h.name: "binary_crossentropy" for h in heads},
                  metrics={h.name: ["binary_accuracy"] for h in heads}, jit_compile=False)
    return model


def seconds_per_call(function, repeats):
    start = time.perf_counter()
    for _ in range(repeats):
        function()
    return (time.perf_counter() - start) / repeats


def paired_ratios(first, second, rounds, repeats):
    """Median and quartiles of `first`/`second` time ratios over alternating-order rounds.

    Each round times both back to back (A B, then B A the next round), so slow
    spells of a shared machine hit both sides of a ratio alike.
    """
    first(), second()  # warm-up: tracing
    ratios, best = [], [np.inf, np.inf]
    for round_ in range(rounds):
        order = (0, 1) if round_ % 2 == 0 else (1, 0)
        seconds = [0.0, 0.0]
        for side in order:
            seconds[side] = seconds_per_call((first, second)[side], repeats)
            best[side] = min(best[side], seconds[side])
        ratios.append(seconds[0] / seconds[1])
    return np.percentile(ratios, [25, 50, 75]), best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data_dir_argument(parser)
    parser.add_argument("--steps", type=int, default=5, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--images", type=int, default=256, help="images for the Predictor comparison")
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    import zoo

    shape = (args.size, args.size, 3)
    heads = [zoo.Head("scene", ["desert", "mountains", "sea", "sunset", "trees"])]
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (32, *shape)).astype("float32")
    targets = {"scene": rng.integers(0, 2, (32, 5)).astype("float32")}
    ours = zoo.build("multilabel_small", heads=heads, input_shape=shape, compile=False)
    # Same loss and metrics for both, so the step does the same work.
    ours.compile(keras.optimizers.Adam(1e-3), {"scene": "binary_crossentropy"},
                 metrics={"scene": ["binary_accuracy"]}, jit_compile=False)
    theirs = hand_written(heads, shape)
    control = hand_written(heads, shape)
    rows = []
    for what, call in (("train step", lambda m: lambda: m.train_on_batch(images, targets)),
                       ("predict", lambda m: lambda: m.predict_on_batch(images))):
        for label, first, second in (("zoo / hand-written", ours, theirs),
                                     ("hand-written / hand-written (control)", control, theirs)):
            (low, median, high), best = paired_ratios(call(first), call(second), args.rounds, args.steps)
            rows.append({"step": what, "comparison": label, "ms": f"{best[0] * 1000:.1f} / {best[1] * 1000:.1f}",
                         "median ratio": f"{median:.3f}", "quartiles": f"{low:.3f}-{high:.3f}"})
    print(f"multilabel_small at {args.size}x{args.size}, batch 32, CPU; {args.rounds} rounds of {args.steps} steps")
    print_table(rows, ["step", "comparison", "ms", "median ratio", "quartiles"])
    print("goal: zoo / hand-written <= 1.03; the control shows how far two identical networks differ here")

    miml = args.data / "miml" / "images"
    files = sorted(str(p) for p in miml.iterdir())[: args.images]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        zoo.save_model(ours, path)

        def by_hand():
            model = keras.models.load_model(path, compile=False)
            batch = np.stack([
                tf.image.resize(tf.io.decode_image(tf.io.read_file(f), channels=3, expand_animations=False),
                                shape[:2], antialias=True).numpy()
                for f in files
            ])
            return model.predict(batch, batch_size=32, verbose=0)

        def predictor():
            return zoo.Predictor(path).predict(files)

        best = {"by hand": np.inf, "Predictor": np.inf}
        for _ in range(2):
            for name, function in (("by hand", by_hand), ("Predictor", predictor)):
                start = time.perf_counter()
                function()
                best[name] = min(best[name], time.perf_counter() - start)
    print(f"\n{len(files)} MIML files to predictions, including loading the model")
    print_table([{"way": k, "seconds": f"{v:.2f}"} for k, v in best.items()], ["way", "seconds"])
    print(f"Predictor / by hand = {best['Predictor'] / best['by hand']:.3f} (goal <= 1.10)")


if __name__ == "__main__":
    main()
