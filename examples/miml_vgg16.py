"""MIML scenes with a frozen VGG16 at 64x64 through tf.data, and the activation/loss study:
sigmoid, softmax and no activation against binary and categorical cross-entropy. Only
sigmoid + binary cross-entropy treats the five labels as five independent yes/no answers.

    python examples/miml_vgg16.py --data ../shared/data --weights imagenet
"""

from __future__ import annotations

import sys

import pandas as pd

from common import example_parser, weights_argument


def main(argv=None) -> pd.DataFrame:
    args = example_parser(__doc__).parse_args(argv)
    import keras
    from sklearn import metrics

    import zoo

    miml = args.data / "miml"
    df = zoo.data.from_onehot_csv(miml / "miml_labels_1.csv", file_column="Filenames", head="scene")
    if args.quick:
        df = df.head(120)
    heads = zoo.data.heads_from_dataframe(df, {"scene": "multilabel"})
    train, validation = zoo.data.train_validation_split(df, heads, 0.2, seed=args.seed)
    size, epochs = ((32, 32), 1) if args.quick else ((64, 64), 10)
    common = dict(directory=miml / "images", image_size=size, batch_size=32, seed=args.seed, cache=True)
    train_data = zoo.data.make_dataset(train, heads, **common)
    validation_data = zoo.data.make_dataset(validation, heads, shuffle=False, **common)

    rows = []
    for activation in ("sigmoid", "softmax", "linear"):
        for loss in ("binary_crossentropy", "categorical_crossentropy"):
            keras.utils.set_random_seed(args.seed)
            base = zoo.build("multilabel_vgg16", heads=heads, input_shape=(*size, 3),
                             weights=weights_argument(args.weights), compile=False)  # frozen only if pretrained
            logits = base.get_layer("scene_logits").output
            output = keras.layers.Activation(activation, dtype="float32", name="scene")(logits)
            model = keras.Model(base.inputs, {"scene": output})
            zoo.models.card.set_card(model, zoo.models.card.card_of(base))
            model.compile(keras.optimizers.Adam(1e-3), {"scene": loss})
            model.fit(train_data, epochs=epochs, verbose=0)
            predictions = zoo.Predictions.of(model, validation_data)
            probabilities, targets = predictions.probabilities, predictions.targets
            predicted = (probabilities["scene"] > 0.5).astype(int)
            rows.append({
                "activation": activation, "loss": loss,
                "binary_accuracy": 1 - metrics.hamming_loss(targets["scene"], predicted),
                "exact_match": metrics.accuracy_score(targets["scene"], predicted),
                "micro_f1": metrics.f1_score(targets["scene"], predicted, average="micro", zero_division=0),
            })
            print(rows[-1])
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format="%.3f"))
    args.output.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.output / "activation_study.csv", index=False)
    return table


if __name__ == "__main__":
    main(sys.argv[1:])
