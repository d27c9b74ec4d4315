"""How well a speed probe prices a pretrained fine-tuning step at the input its plan then chooses.

A plan times training epochs at two square sides and draws a line through the two
per-image costs to price any input: a from-scratch plan at 48 and 96 (`PROBE_SIDES`),
a pretrained one, whose inputs are 200-280 pixels a side, at 96 and 160
(`FINE_TUNE_PROBE_SIDES`). This script prices a target input from both pairs, round
by round in alternation, and times the target input directly:
a fine-tuning step (`block7` of `multilabel_efficientnet_lite0` trainable, augmented
images from memory) and a forward pass (`predict`), which the plan charges as a
whole step. Processor seconds per image (all cores together), as the budget counts.

    python benchmarks/speed_probe.py --set movie_posters --target 248 168 --rounds 3
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from common import data_dir_argument, miml_scenes, print_table

BATCH, BATCHES, EPOCHS = 32, 4, 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data_dir_argument(parser)
    parser.add_argument("--set", choices=["miml", "movie_posters"], default="movie_posters")
    parser.add_argument("--target", type=int, nargs=2, default=[248, 168], help="height width priced")
    parser.add_argument("--sides", type=int, nargs="+", default=[48, 96, 96, 160],
                        help="pairs of probe sides (default: 48 96, then 96 160)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import keras

    import zoo
    from zoo.training.finetune import set_trainable
    from zoo.training.speed import _EpochTimer, measure_training_speed

    if args.set == "miml":
        rows, heads = miml_scenes(args.data)
        images = args.data / "miml" / "images"
    else:
        folder = args.data / "movie_posters"
        rows = zoo.data.from_onehot_csv(folder / "labels.csv", file_column="Id", extension=".jpg", head="labels")
        heads, images = zoo.data.heads_from_dataframe(rows, {"labels": "multilabel"}), folder / "images"
    sample = rows.sample(BATCH * BATCHES, random_state=0)
    trainable = {heads[0].name: "block7"}

    def build(shape):
        keras.backend.clear_session(free_memory=False)
        model = zoo.build("multilabel_efficientnet_lite0", heads=heads, input_shape=(*shape, 3), weights=None)
        set_trainable(model, trainable)
        zoo.compile_model(model)
        return model

    def batches(shape):
        return zoo.data.make_dataset(sample, heads, directory=images, image_size=tuple(shape), batch_size=BATCH,
                                     augment=True, seed=0, cache=True, check="header")

    def direct(shape):
        """(step, forward) seconds per image at `shape`: the median of the epochs after the first."""
        model, data = build(shape), batches(shape)
        count = sum(int(x.shape[0]) for x, _ in data)
        timer = _EpochTimer(time.process_time)
        model.fit(data, epochs=EPOCHS, verbose=0, callbacks=[timer])
        plain = data.map(lambda x, y: x)
        model.predict(plain, verbose=0)  # builds the predict step
        began = time.process_time()
        for _ in range(EPOCHS - 1):
            model.predict(plain, verbose=0)
        return float(np.median(timer.seconds[1:])) / count, (time.process_time() - began) / (EPOCHS - 1) / count

    pixels = args.target[0] * args.target[1]
    pairs = [tuple(args.sides[i:i + 2]) for i in range(0, len(args.sides), 2)]
    rows_out = []
    for round_ in range(args.rounds):
        for sides in pairs:
            began = time.process_time()
            slope, overhead, _ = measure_training_speed(lambda side: build((side, side)),
                                                        lambda side: batches((side, side)), sides,
                                                        clock=time.process_time)
            rows_out.append({"round": round_, "priced from": f"sides {sides[0]} and {sides[1]}",
                             "step s/image": f"{slope * pixels + overhead:.4f}", "forward s/image": "",
                             "probe CPU s": f"{time.process_time() - began:.1f}"})
            print_table(rows_out[-1:], list(rows_out[-1]))
        began = time.process_time()
        step, forward = direct(args.target)
        rows_out.append({"round": round_, "priced from": "the target, timed", "step s/image": f"{step:.4f}",
                         "forward s/image": f"{forward:.4f}", "probe CPU s": f"{time.process_time() - began:.1f}"})
        print_table(rows_out[-1:], list(rows_out[-1]))
    print()
    print(f"{args.set}, target {args.target[0]}x{args.target[1]}:")
    print_table(rows_out, list(rows_out[0]))


if __name__ == "__main__":
    main()
