"""Clothing color and type: folder names split into two heads, the two-branch network
(small_cnn color branch beside a VGG16 type branch), augmentation, staged fine-tuning
from `block5_conv1` with per-head loss weights, training plots, and predictions on the
example photos.

    python examples/clothing_color_type.py --data ../shared/data --weights imagenet
"""

from __future__ import annotations

import sys

import numpy as np

from common import example_parser, weights_argument


def main(argv=None) -> dict:
    args = example_parser(__doc__).parse_args(argv)
    import keras

    import zoo
    from zoo.training.finetune import pretrained_branches

    keras.utils.set_random_seed(args.seed)
    df = zoo.data.from_folders(args.data / "clothing", heads=("color", "type"), separator="_")
    heads = zoo.data.heads_from_dataframe(df, {"color": "multiclass", "type": "multiclass"})
    train, validation = zoo.data.train_validation_split(df, heads, 0.2, seed=args.seed)
    size = (32, 32) if args.quick else (96, 96)
    epochs = (1, 1) if args.quick else (10, 10)
    augment = {"flip": "horizontal", "rotation": 0.07, "zoom": 0.2, "translation": 0.1}
    train_data = zoo.data.make_dataset(train, heads, image_size=size, batch_size=16, augment=augment, seed=args.seed)
    validation_data = zoo.data.make_dataset(validation, heads, image_size=size, batch_size=32, shuffle=False)

    weights = weights_argument(args.weights)
    model = zoo.build("color_type", heads=heads, input_shape=(*size, 3), weights=weights)
    pretrained = any(pretrained_branches(model).values())
    history = zoo.fit_staged(model, train_data, validation_data, verbose=0 if args.quick else 2, stages=[
        # "auto": the VGG16 branch is frozen only when it holds ImageNet weights.
        zoo.Stage(epochs=epochs[0], trainable="auto", learning_rate=1e-3, name="heads"),
        zoo.Stage(epochs=epochs[1], trainable={"type": "block5_conv1"} if pretrained else "all",
                  learning_rate=1e-5 if pretrained else 1e-4, loss_weights={"color": 0.1, "type": 1.0},
                  name="block5" if pretrained else "all"),
    ])
    args.output.mkdir(parents=True, exist_ok=True)
    zoo.evaluation.plots.plot_history(history, args.output / "history.png")
    report = zoo.evaluate(model, validation_data)
    print(zoo.summary_table(report).to_string())
    zoo.save_model(model, args.output / "clothing.h5")

    predictor = zoo.Predictor(args.output / "clothing.h5")
    examples = predictor.predict(args.data / "clothing_examples")
    print(examples[["file", "color", "type"]].to_string(index=False))
    photos = zoo.data.make_dataset(examples.rename(columns={"file": "filename"})[["filename"]], None,
                                   image_size=size, shuffle=False, batch_size=64)
    zoo.evaluation.plots.plot_predictions(np.concatenate(list(photos)), [None] * len(examples),
                               (examples["color"] + " " + examples["type"]).tolist(), args.output / "predictions.png")
    return {"report": report, "predictions": examples}


if __name__ == "__main__":
    main(sys.argv[1:])
