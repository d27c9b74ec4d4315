"""VOC-style multi-label: a frozen ResNet50 with a sigmoid head, positive weights against
class imbalance, an epoch-end F1/precision/recall callback, and per-class confusion
matrices.

    python examples/voc_resnet50.py --voc VOC2012/Annotations --images VOC2012/JPEGImages
"""

from __future__ import annotations

import sys
from pathlib import Path

from common import example_parser, weights_argument


def main(argv=None) -> dict:
    parser = example_parser(__doc__)
    parser.add_argument("--voc", type=Path, required=True, help="the Annotations/ folder")
    parser.add_argument("--images", type=Path, help="the JPEGImages/ folder (default: beside Annotations)")
    args = parser.parse_args(argv)
    import keras

    import zoo
    from zoo.training.callbacks import ValidationMetrics
    from zoo.training.losses import WeightedBinaryCrossentropy

    keras.utils.set_random_seed(args.seed)
    df = zoo.data.from_voc(args.voc, images_dir=args.images)
    heads = zoo.data.heads_from_dataframe(df, {"objects": "multilabel"})
    train, validation = zoo.data.train_validation_split(df, heads, 0.25, seed=args.seed)
    size, epochs = ((32, 32), 1) if args.quick else ((224, 224), 10)
    common = dict(image_size=size, batch_size=16, seed=args.seed)
    train_data = zoo.data.make_dataset(train, heads, augment={"flip": "horizontal"}, **common)
    validation_data = zoo.data.make_dataset(validation, heads, shuffle=False, **common)

    targets = zoo.data.encode(train, heads).targets["objects"]
    pos_weight = zoo.data.positive_weights(targets, max_weight=10.0)
    model = zoo.build("multilabel_resnet50", heads=heads, input_shape=(*size, 3),
                      weights=weights_argument(args.weights), compile=False)  # frozen only if pretrained
    zoo.compile_model(model, losses={"objects": WeightedBinaryCrossentropy(pos_weight)})
    model.fit(train_data, validation_data=validation_data, epochs=epochs, verbose=0 if args.quick else 2,
              callbacks=[ValidationMetrics(validation_data, verbose=True)])
    report = zoo.evaluate(model, validation_data)
    args.output.mkdir(parents=True, exist_ok=True)
    zoo.evaluation.plots.plot_confusion(report["objects"], args.output / "confusion.png")
    print(report["objects"]["per_class"].to_string(index=False))
    return {"report": report, "pos_weight": dict(zip(heads[0].classes, pos_weight.tolist()))}


if __name__ == "__main__":
    main(sys.argv[1:])
