"""The processor time of a training epoch with validation, as `zoo train` ran it before and runs it now.

Before: `fit` predicted the validation images for its loss and compiled metrics,
then the validation metrics callback predicted them again, one eager call per
batch. Now: the callback predicts them once with the compiled predict function
and logs the loss and compiled metrics from the same predictions (`fit` gets no
`validation_data`). Each round trains one epoch of each on real MIML images, in
alternating order, so slow spells of a shared machine hit both alike.

    python benchmarks/validation_pass.py --side 56 --rounds 6
"""

from __future__ import annotations

import argparse
import time

import keras
import numpy as np

import zoo
from common import data_dir_argument, miml_scenes, print_table
from zoo import data
from zoo.training.callbacks import ValidationMetrics


class EagerValidationMetrics(ValidationMetrics):
    """The validation metrics callback as it predicted before: one eager model call per batch."""

    def on_epoch_end(self, epoch, logs=None):
        compiled = self.model.predict_on_batch
        self.model.predict_on_batch = lambda images: self.model(images, training=False)
        try:
            super().on_epoch_end(epoch, logs)
        finally:
            self.model.predict_on_batch = compiled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data_dir_argument(parser)
    parser.add_argument("--side", type=int, default=56)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()

    miml = args.data / "miml"
    rows, heads = miml_scenes(args.data)
    train_rows, validation_rows = data.train_validation_split(rows, heads, 0.2, seed=0)
    common = dict(directory=miml / "images", image_size=(args.side, args.side), batch_size=32, seed=0, cache=True)
    train = data.make_dataset(train_rows, heads, augment=True, **common)
    validation = data.make_dataset(validation_rows, heads, shuffle=False, **common)
    for dataset in (train, validation):
        for _ in dataset:  # decode once: the rounds time training, not decoding
            pass

    def runner(two_passes: bool):
        keras.utils.set_random_seed(0)
        model = zoo.build("multilabel_small", heads=heads, input_shape=(args.side, args.side, 3), weights=None)
        zoo.compile_model(model, optimizer=keras.optimizers.AdamW(1e-3))
        if two_passes:
            callback, validation_data = EagerValidationMetrics(validation), validation
        else:
            callback, validation_data = ValidationMetrics(validation, compiled_metrics=True), None
        epoch = [0]

        def one_epoch():
            model.fit(train, validation_data=validation_data, initial_epoch=epoch[0], epochs=epoch[0] + 1,
                      callbacks=[callback], verbose=0)
            epoch[0] += 1

        return one_epoch

    sides = {"before: fit's validation pass + eager metrics pass": runner(True),
             "now: one compiled pass": runner(False)}
    for one_epoch in sides.values():
        one_epoch()  # the first epoch traces the steps
    seconds = {name: {"cpu": [], "wall": []} for name in sides}
    names = list(sides)
    for round_ in range(args.rounds):
        for name in names if round_ % 2 == 0 else names[::-1]:
            cpu, wall = time.process_time(), time.perf_counter()
            sides[name]()
            seconds[name]["cpu"].append(time.process_time() - cpu)
            seconds[name]["wall"].append(time.perf_counter() - wall)
    before = np.asarray(seconds[names[0]]["cpu"])
    rows = [{"epoch": name, "processor s (median)": f"{np.median(s['cpu']):.2f}",
             "wall s (median)": f"{np.median(s['wall']):.2f}",
             "processor time / before (median of rounds)": f"{np.median(np.asarray(s['cpu']) / before):.3f}"}
            for name, s in seconds.items()]
    print(f"{len(train_rows)} training and {len(validation_rows)} validation MIML images at "
          f"{args.side}x{args.side}, batch 32, {args.rounds} rounds")
    print_table(rows, list(rows[0]))


if __name__ == "__main__":
    main()
