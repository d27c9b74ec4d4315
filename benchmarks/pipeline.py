"""images/s of `zoo.data.make_dataset` against tf_keras' ImageDataGenerator, side by side.

Same MIML images, same target size, same augmentation (flip, rotation, zoom, shift),
one epoch each after a warm-up pass that fills the OS file cache. Also compares the
pipeline without augmentation to a bare tf.data decode+resize loop. zoo's rows run the
default full file check first, which picks each file's decoder (timed apart, not in the
rates); one row skips it (`check="none"`), so each image's bytes pick its decoder instead.

    python benchmarks/pipeline.py --images 2000 --size 96
"""

from __future__ import annotations

import argparse
import math
import time

from common import data_dir_argument, images_per_second, miml_scenes, print_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data_dir_argument(parser)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2, help="interleaved repeats, best kept")
    args = parser.parse_args()

    import tensorflow as tf
    import tf_keras

    import zoo

    miml = args.data / "miml"
    df, heads = miml_scenes(args.data, args.images)
    size = (args.size, args.size)
    rotation_degrees, zoom, shift = 18.0, 0.1, 0.1

    legacy_frame = df.assign(labels=[list(t) for t in df["scene"]])
    generator = tf_keras.preprocessing.image.ImageDataGenerator(
        horizontal_flip=True, rotation_range=rotation_degrees, zoom_range=zoom,
        width_shift_range=shift, height_shift_range=shift,
    )

    def legacy():
        flow = generator.flow_from_dataframe(
            legacy_frame, directory=str(miml / "images"), x_col="filename", y_col="labels",
            class_mode="categorical", target_size=size, batch_size=args.batch_size, seed=0, interpolation="bilinear",
        )
        return (flow[i] for i in range(len(flow)))

    augmentation = {"flip": "horizontal", "rotation": rotation_degrees / 360.0, "zoom": zoom, "translation": shift}
    start = time.perf_counter()
    zoo.data.make_dataset(df, heads, directory=miml / "images", image_size=size, batch_size=args.batch_size)
    check_seconds = time.perf_counter() - start

    def ours(augment, cache=False, check="full"):
        return zoo.data.make_dataset(df, heads, directory=miml / "images", image_size=size,
                                     batch_size=args.batch_size, augment=augment, check=check, cache=cache)

    cached = ours(augmentation, cache=True)

    paths = zoo.data.resolve_paths(df, miml / "images")

    def bare():
        def load(path):
            image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
            return tf.image.resize(image, size, antialias=True)

        dataset = tf.data.Dataset.from_tensor_slices(paths).shuffle(len(paths), seed=0)
        return dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE).batch(args.batch_size).prefetch(tf.data.AUTOTUNE)

    def count(batch):
        return int(batch[0].shape[0]) if isinstance(batch, tuple) else int(batch.shape[0])

    pipelines = {
        "ImageDataGenerator, augmented": legacy,
        "zoo make_dataset, augmented": lambda: ours(augmentation),
        "zoo make_dataset, no augmentation": lambda: ours(None),
        'zoo make_dataset, no augmentation, check="none"': lambda: ours(None, check="none"),
        "zoo, augmented, cache=True (2nd epoch)": lambda: cached,
        "bare tf.data decode+resize": bare,
    }
    for make in pipelines.values():  # warm-up: OS file cache, tracing, the in-memory cache
        for _ in make():
            pass
    results = {name: (0.0, 0) for name in pipelines}
    for _ in range(args.repeats):  # interleaved repeats, best kept: the machine is noisy
        for name, make in pipelines.items():
            results[name] = max(results[name], images_per_second(make(), count))
    rows = [{"pipeline": name, "images/s": f"{rate:.0f}", "images": seen} for name, (rate, seen) in results.items()]
    print(f"MIML, {len(df)} images at {args.size}x{args.size}, batch {args.batch_size}, "
          f"{tf.config.threading.get_inter_op_parallelism_threads() or 'all'} threads")
    print_table(rows, ["pipeline", "images/s", "images"])
    augmented_ratio = results["zoo make_dataset, augmented"][0] / results["ImageDataGenerator, augmented"][0]
    bare_ratio = results["zoo make_dataset, no augmentation"][0] / results["bare tf.data decode+resize"][0]
    cached_ratio = results["zoo, augmented, cache=True (2nd epoch)"][0] / results["ImageDataGenerator, augmented"][0]
    print(f"augmented, zoo / ImageDataGenerator: {augmented_ratio:.1f}x   (goal >= 5x)")
    print(f"augmented, cached zoo / ImageDataGenerator: {cached_ratio:.1f}x")
    print(f"no augmentation, zoo / bare loop:    {bare_ratio:.2f}    (goal >= 0.80)")
    print(f"one-off check of all files before training (full decode): {check_seconds:.1f} s "
          f"({len(df) / check_seconds:.0f} images/s)")
    assert math.isfinite(augmented_ratio)


if __name__ == "__main__":
    main()
