"""`zoo demo`: the two-branch color/type network, end to end, on synthetic garments.

Example:
    >>> from zoo.demo import run_demo
    >>> summary = run_demo("zoo-demo")  # doctest: +SKIP
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from zoo.data import decode_predictions, heads_from_dataframe, make_dataset, make_garments, train_validation_split
from zoo.finetune import Stage, fit_staged
from zoo.metadata import heads_of
from zoo.models import build
from zoo.plots import plot_history
from zoo.saving import load_model, save_model


def _predict(model, df, image_size):
    dataset = make_dataset(df, None, image_size=image_size, batch_size=64, shuffle=False)
    return model.predict(dataset, verbose=0)


def _accuracy(model, df, probabilities) -> dict:
    return {
        head.name: float(np.mean([p == t for p, t in zip(decode_predictions(probabilities[head.name], head), df[head.name])]))
        for head in heads_of(model)
    }


def run_demo(
    output="zoo-demo",
    image_size: int = 64,
    images_per_pair: int = 40,
    epochs=(8, 8),
    seed: int = 0,
    verbose: int = 2,
    log=print,
) -> dict:
    """Generates the data, trains `color_type` in two stages, saves, reloads, predicts.

    Args:
        output: Folder for the data, the model, the history and the predictions.
        image_size: Square image side.
        images_per_pair: Training images per color/type pair.
        epochs: Epochs of (stage 1: type branch frozen, stage 2: type branch
            unfrozen from `block4_conv1` at a lower learning rate; with random
            rather than ImageNet weights, two blocks must learn, not one).
        seed: Seed for data, split and training.
        verbose: Keras `fit` verbosity.
        log: Where progress lines go.

    Returns:
        A summary: validation and held-out accuracy per head, file paths, time.
    """
    import keras

    start = time.time()
    output = Path(output)
    keras.utils.set_random_seed(seed)
    log(f"Writing synthetic garments to {output / 'data'} ...")
    garments, held_out = make_garments(output / "data", images_per_pair, (image_size, image_size), seed=seed)
    heads = heads_from_dataframe(garments, {"color": "multiclass", "type": "multiclass"})
    train, validation = train_validation_split(garments, heads, 0.2, seed=seed)
    pairs = sorted({f"{c[0]} {t[0]}" for c, t in zip(held_out["color"], held_out["type"])})
    log(f"{len(train)} training, {len(validation)} validation images; never seen in training: {', '.join(pairs)}")

    size = (image_size, image_size)
    train_data = make_dataset(train, heads, image_size=size, batch_size=16, augment={"flip": "horizontal"}, seed=seed)
    validation_data = make_dataset(validation, heads, image_size=size, batch_size=64, shuffle=False)
    model = build("color_type", heads=heads, input_shape=(*size, 3), weights=None)
    history = fit_staged(
        model,
        train_data,
        validation_data,
        stages=[
            Stage(epochs=epochs[0], trainable={"type": "none"}, learning_rate=1e-3, name="frozen type branch"),
            Stage(epochs=epochs[1], trainable={"type": "block4_conv1"}, learning_rate=2e-4,
                  loss_weights={"color": 0.1, "type": 1.0}, name="fine-tune block5"),
        ],
        verbose=verbose,
    )
    output.mkdir(parents=True, exist_ok=True)
    history.to_dataframe().to_csv(output / "history.csv", index=False)
    plot_history(history, output / "history.png")

    model_path = output / "color_type.h5"
    save_model(model, model_path)
    reloaded = load_model(model_path)
    validation_accuracy = _accuracy(reloaded, validation, _predict(reloaded, validation, size))
    probabilities = _predict(reloaded, held_out, size)
    held_out_accuracy = _accuracy(reloaded, held_out, probabilities)
    before = _predict(model, held_out, size)
    same = all(np.allclose(before[k], probabilities[k], atol=1e-5) for k in before)

    rows = pd.DataFrame({"file": held_out["filename"]})
    for head in heads_of(reloaded):
        rows[f"true_{head.name}"] = [labels[0] for labels in held_out[head.name]]
        rows[head.name] = [labels[0] for labels in decode_predictions(probabilities[head.name], head)]
        rows[f"{head.name}_probability"] = probabilities[head.name].max(axis=1).round(3)
    rows.to_csv(output / "predictions.csv", index=False)

    log("")
    log("Accuracy per head      color   type")
    log(f"  validation           {validation_accuracy['color']:.2f}    {validation_accuracy['type']:.2f}")
    log(f"  unseen pairs         {held_out_accuracy['color']:.2f}    {held_out_accuracy['type']:.2f}")
    log(f"Saved {model_path}; reloaded model predicts {'identically' if same else 'DIFFERENTLY'}.")
    log("Predictions on color/type pairs never seen in training:")
    sample = rows.groupby(["true_color", "true_type"]).head(2)
    for row in sample.itertuples():
        log(f"  {Path(row.file).name:<24} true: {row.true_color:<5} {row.true_type:<6} "
            f"predicted: {row.color:<5} ({row.color_probability:.2f}) {row.type:<6} ({row.type_probability:.2f})")
    seconds = time.time() - start
    log(f"Outputs in {output}/ (model, history.csv and .png, predictions.csv); {seconds:.0f} s.")
    return {
        "validation_accuracy": validation_accuracy,
        "held_out_accuracy": held_out_accuracy,
        "reload_identical": same,
        "model": str(model_path),
        "seconds": seconds,
    }
