"""Per-head accuracy of the `color_type` recipe from scratch on the clothing folders.

93 images in 6 color/type folders (no black dress): a small set, so the held-out split
has about 19 images and each accuracy moves in steps of about 5 points. The figures
show the recipe works on real photos, not a precise quality level.

    python benchmarks/quality_clothing.py --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from common import data_dir_argument


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data_dir_argument(parser)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--epochs", type=int, nargs=2, default=(15, 10))
    args = parser.parse_args()

    import keras

    import zoo

    df = zoo.data.from_folders(args.data / "clothing", heads=("color", "type"), separator="_")
    heads = zoo.data.heads_from_dataframe(df, {"color": "multiclass", "type": "multiclass"})
    size = (args.size, args.size)
    rows = []
    for seed in args.seeds:
        keras.utils.set_random_seed(seed)
        train, test = zoo.data.train_validation_split(df, heads, 0.2, seed=seed)
        start = time.perf_counter()
        train_data = zoo.data.make_dataset(train, heads, image_size=size, batch_size=16, seed=seed, cache=True,
                                           augment={"flip": "horizontal", "rotation": 0.05, "zoom": 0.15,
                                                    "translation": 0.1})
        test_data = zoo.data.make_dataset(test, heads, image_size=size, batch_size=32, shuffle=False)
        model = zoo.build("color_type", heads=heads, input_shape=(*size, 3), weights=None)
        zoo.fit_staged(model, train_data, stages=[
            zoo.Stage(epochs=args.epochs[0], trainable={"type": "none"}, learning_rate=1e-3),
            zoo.Stage(epochs=args.epochs[1], trainable={"type": "block4_conv1"}, learning_rate=2e-4,
                      loss_weights={"color": 0.1, "type": 1.0}),
        ], verbose=0)
        report = zoo.evaluate(model, test_data)
        rows.append({"seed": seed, "train images": len(train), "test images": len(test),
                     "color accuracy": report["color"]["summary"]["accuracy"],
                     "type accuracy": report["type"]["summary"]["accuracy"],
                     "minutes": (time.perf_counter() - start) / 60})
        print(rows[-1], flush=True)
    frame = pd.DataFrame(rows)
    print(f"\ncolor_type from scratch at {args.size}x{args.size}, stratified 80/20 split per seed")
    print(frame.to_string(index=False, float_format="%.3f"))
    print(f"mean color accuracy {frame['color accuracy'].mean():.3f} +- {frame['color accuracy'].std(ddof=0):.3f}, "
          f"type accuracy {frame['type accuracy'].mean():.3f} +- {frame['type accuracy'].std(ddof=0):.3f}")


if __name__ == "__main__":
    main()
