"""Seconds per epoch of a heads-only stage on a frozen VGG16, cached features vs the slow way.

MIML images at 160x128, `multilabel_vgg16` with its backbone frozen, same data,
same seed, side by side in one run. The cached run's first epoch includes the one
pass of the backbone over the training and validation images.

    python benchmarks/feature_cache.py --images 400 --epochs 3
"""

from __future__ import annotations

import argparse
import time

from common import data_dir_argument, miml_scenes, print_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data_dir_argument(parser)
    parser.add_argument("--images", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()

    import keras

    import zoo

    miml = args.data / "miml"
    df, heads = miml_scenes(args.data, args.images)
    train, validation = zoo.data.train_validation_split(df, heads, 0.2, seed=0)

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)

    def run(cache: bool):
        keras.utils.set_random_seed(0)
        model = zoo.build("multilabel_vgg16", heads=heads, input_shape=(160, 128, 3), weights=None,
                          freeze_backbone=True)
        data = [zoo.data.make_dataset(part, heads, directory=miml / "images", image_size=(160, 128), batch_size=32)
                for part in (train, validation)]
        timer = EpochTimer()
        start = time.perf_counter()
        # `fit_staged` skips caching when callbacks are given, so time the epochs through Keras' own hook.
        original_fit = keras.Model.fit

        def timed_fit(self, *fit_args, **fit_kwargs):
            fit_kwargs["callbacks"] = [timer]
            return original_fit(self, *fit_args, **fit_kwargs)

        keras.Model.fit = timed_fit
        try:
            zoo.fit_staged(model, data[0], data[1], stages=[zoo.Stage(epochs=args.epochs, trainable="heads")],
                           cache_features=cache, verbose=0)
        finally:
            keras.Model.fit = original_fit
        total = time.perf_counter() - start
        return timer.seconds, total, model.get_layer("scene_logits").kernel.numpy()

    slow_epochs, slow_total, slow_kernel = run(cache=False)
    fast_epochs, fast_total, fast_kernel = run(cache=True)
    extraction = fast_total - sum(fast_epochs)
    rows = []
    for i, (slow, fast) in enumerate(zip(slow_epochs, fast_epochs), start=1):
        rows.append({"epoch": i, "slow s": f"{slow:.2f}", "cached s": f"{fast:.3f}", "speed-up": f"{slow / fast:.0f}x"})
    print(f"multilabel_vgg16, frozen backbone, {len(train)} training / {len(validation)} validation MIML images "
          f"at 160x128")
    print_table(rows, ["epoch", "slow s", "cached s", "speed-up"])
    later = slice(1, None)
    ratio = (sum(slow_epochs[later]) / len(slow_epochs[later])) / (sum(fast_epochs[later]) / len(fast_epochs[later]))
    print(f"one backbone pass to cache the features: {extraction:.1f} s")
    print(f"per epoch after the first: {ratio:.0f}x faster (goal >= 10x); whole stage: "
          f"{slow_total:.1f} s vs {fast_total:.1f} s")
    print(f"largest difference of the trained head kernels: {abs(slow_kernel - fast_kernel).max():.2e}")


if __name__ == "__main__":
    main()
