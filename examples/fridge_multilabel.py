"""Fridge objects: `labels.csv` with space-separated labels, hamming and zero-one accuracy,
and per-class thresholds tuned on validation data.

    python examples/fridge_multilabel.py --data ../shared/data
"""

from __future__ import annotations

import sys

from common import example_parser


def main(argv=None) -> dict:
    args = example_parser(__doc__).parse_args(argv)
    import keras

    import zoo

    keras.utils.set_random_seed(args.seed)
    folder = args.data / "fridge" / "multilabelFridgeObjects"
    df = zoo.data.from_csv(folder / "labels.csv", head="objects")
    heads = zoo.data.heads_from_dataframe(df, {"objects": "multilabel"})
    train, validation = zoo.data.train_validation_split(df, heads, 0.3, seed=args.seed)
    size = (32, 32) if args.quick else (96, 96)
    epochs = 1 if args.quick else 40
    common = dict(directory=folder / "images", image_size=size, batch_size=8, seed=args.seed)
    train_data = zoo.data.make_dataset(train, heads, augment=True, **common)
    validation_data = zoo.data.make_dataset(validation, heads, shuffle=False, **common)

    model = zoo.build("multilabel_small", heads=heads, input_shape=(*size, 3))
    model.fit(train_data, validation_data=validation_data, epochs=epochs, verbose=0 if args.quick else 2)

    predictions = zoo.Predictions.of(model, validation_data)
    before = zoo.evaluate(model, predictions)["objects"]["summary"]
    tuned = zoo.tune_thresholds(model, predictions, metric="exact_match")
    after = zoo.evaluate(model, predictions)["objects"]["summary"]  # with the tuned thresholds
    print(f"classes: {list(heads[0].classes)}; {len(train)} training, {len(validation)} validation images")
    print(f"threshold 0.5:   hamming loss {before['hamming_loss']:.3f}, zero-one loss {1 - before['exact_match']:.3f}")
    print(f"tuned {tuned['objects']}: hamming loss {after['hamming_loss']:.3f}, "
          f"zero-one loss {1 - after['exact_match']:.3f}")
    args.output.mkdir(parents=True, exist_ok=True)
    zoo.save_model(model, args.output / "fridge.keras")
    return {"before": before, "after": after, "thresholds": tuned}


if __name__ == "__main__":
    main(sys.argv[1:])
