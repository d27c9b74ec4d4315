"""The two-branch color/type recipe end to end on synthetic garments: what `zoo demo` runs.

Example:
    >>> from zoo.examples.demo import run_demo
    >>> summary = run_demo("zoo-demo")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from zoo.data import decode_predictions, heads_from_dataframe, make_dataset, make_garments, train_validation_split
from zoo.training.finetune import Stage, fit_staged
from zoo.training.trainable import set_trainable
from zoo.models.card import heads_of
from zoo.models.architectures import build
from zoo.evaluation.plots import plot_history, plot_prediction_sheet
from zoo.io.progress import format_duration
from zoo.io.progress_callbacks import EpochProgress
from zoo.io.saving import load_model, save_model

STEPS = 4
DEFAULT_IMAGE_SIZE = 48
DEFAULT_IMAGES_PER_PAIR = 40
DEFAULT_EPOCHS = (8, 8)


def _predict(model, df, image_size):
    dataset = make_dataset(df, None, image_size=image_size, batch_size=64, shuffle=False)
    return model.predict(dataset, verbose=0)


def _accuracy(model, df, probabilities) -> dict:
    return {
        head.name: float(np.mean([guess == truth for guess, truth in
                                  zip(decode_predictions(probabilities[head.name], head), df[head.name])]))
        for head in heads_of(model)
    }


def _step(log, number: int, text: str, start: float) -> None:
    log(f"[{number}/{STEPS}] {text}  (elapsed {format_duration(time.monotonic() - start)})")


def _fit(model, train_data, validation_data, epochs, total, verbose, log):
    return fit_staged(
        model,
        train_data,
        validation_data,
        stages=[
            Stage(epochs=epochs[0], trainable={"type": "none"}, learning_rate=1e-3, name="frozen type branch"),
            Stage(epochs=epochs[1], trainable={"type": "block4_conv1"}, learning_rate=2e-4,
                  loss_weights={"color": 0.1, "type": 1.0}, name="fine-tune block4"),
        ],
        callbacks=None if verbose else [EpochProgress(total, ("loss", "val_color_accuracy", "val_type_accuracy"),
                                                      stream=_LogStream(log), prefix="      ")],
        verbose=verbose,
    )


def run_demo(
    output="zoo-demo",
    image_size: int = DEFAULT_IMAGE_SIZE,
    images_per_pair: int = DEFAULT_IMAGES_PER_PAIR,
    epochs=DEFAULT_EPOCHS,
    seed: int = 0,
    verbose: int = 0,
    log=print,
) -> dict:
    """Generates the data, trains `color_type` in two stages, saves and reloads it as `.keras`
    and `.h5`, predicts color/type pairs never seen in training.

    Prints a line per step and per epoch with the elapsed time and an estimate of the time left.

    Args:
        output: Folder for the data, the models, the history and the predictions.
        image_size: Square image side.
        images_per_pair: Training images per color/type pair.
        epochs: Epochs of (stage 1: the color branch and both heads train, on the
            fixed features of the type branch, stage 2: the type branch unfrozen
            from `block4_conv1` at a lower learning rate). Offline the VGG16 type
            branch has random weights: kept fixed in stage 1 it serves as a
            random-feature extractor, a deliberate choice of this demo, since
            VGG16 trained from random weights on 224 images in 8 epochs fails
            about half the time. `zoo train` never freezes a random backbone.
        seed: Seed for data, split and training.
        verbose: Keras `fit` verbosity (0: one line per epoch from zoo instead).
        log: Where progress lines go.

    Returns:
        A summary: validation and held-out accuracy per head, whether each reloaded model
        predicts like the trained one, file paths, seconds.

    Example:
        >>> summary = run_demo("zoo-demo")  # doctest: +SKIP
        >>> summary["reload_identical"]  # doctest: +SKIP
        {'keras': True, 'h5': True}
    """
    import keras

    start = time.monotonic()
    output = Path(output)
    keras.utils.set_random_seed(seed)
    _step(log, 1, f"Writing synthetic garments to {output / 'data'}", start)
    garments, held_out = make_garments(output / "data", images_per_pair, (image_size, image_size), seed=seed)
    heads = heads_from_dataframe(garments, {"color": "multiclass", "type": "multiclass"})
    train, validation = train_validation_split(garments, heads, 0.2, seed=seed)
    pairs = sorted({f"{c[0]} {t[0]}" for c, t in zip(held_out["color"], held_out["type"])})
    log(f"      {len(train)} training, {len(validation)} validation images; never seen in training: "
        f"{', '.join(pairs)}")

    size = (image_size, image_size)
    train_data = make_dataset(train, heads, image_size=size, batch_size=16, augment={"flip": "horizontal"}, seed=seed)
    validation_data = make_dataset(validation, heads, image_size=size, batch_size=64, shuffle=False)
    model = build("color_type", heads=heads, input_shape=(*size, 3), weights=None)
    total = sum(epochs)
    _step(log, 2, f"Training color_type in two stages, {total} epochs: stage 1 trains the color branch with the "
                  f"type branch frozen, stage 2 fine-tunes the type branch from block4", start)
    trainable_log = logging.getLogger(set_trainable.__module__)
    level = trainable_log.level
    trainable_log.setLevel(logging.ERROR)  # its warning about a frozen random backbone: stage 1 means it
    try:
        history = _fit(model, train_data, validation_data, epochs, total, verbose, log)
    finally:
        trainable_log.setLevel(level)
    output.mkdir(parents=True, exist_ok=True)
    history.to_dataframe().to_csv(output / "history.csv", index=False)
    plot_history(history, output / "history.png")

    _step(log, 3, "Saving as .keras and .h5, reloading both", start)
    before = _predict(model, held_out, size)
    paths = {"keras": output / "color_type.keras", "h5": output / "color_type.h5"}
    same, reloaded = {}, None
    for fmt, path in paths.items():
        save_model(model, path)
        reloaded = load_model(path, compile=False)
        after = _predict(reloaded, held_out, size)
        same[fmt] = all(np.allclose(before[k], after[k], atol=1e-5) for k in before)
    log(f"      {', '.join(f'{p.name} reloads and predicts {_same(same[f])}' for f, p in paths.items())}")

    _step(log, 4, "Predicting the validation images and the unseen color/type pairs with the reloaded .h5 model",
          start)
    validation_probabilities = _predict(reloaded, validation, size)
    validation_accuracy = _accuracy(reloaded, validation, validation_probabilities)
    probabilities = _predict(reloaded, held_out, size)
    held_out_accuracy = _accuracy(reloaded, held_out, probabilities)

    rows = pd.DataFrame({"file": held_out["filename"]})
    for head in heads_of(reloaded):
        rows[f"true_{head.name}"] = [labels[0] for labels in held_out[head.name]]
        rows[head.name] = [labels[0] for labels in decode_predictions(probabilities[head.name], head)]
        rows[f"{head.name}_probability"] = probabilities[head.name].max(axis=1).round(3)
    rows.to_csv(output / "predictions.csv", index=False)
    sample = rows.groupby(["true_color", "true_type"]).head(5)
    plot_prediction_sheet(
        _images(sample["file"], size), sample["file"],
        {h: sample[f"true_{h}"].tolist() for h in ("color", "type")},
        {h: sample[h].tolist() for h in ("color", "type")},
        output / "predictions.png", title="color/type pairs never seen in training",
    )

    log("")
    log("Accuracy per head      color   type")
    log(f"  validation           {validation_accuracy['color']:.2f}    {validation_accuracy['type']:.2f}")
    log(f"  unseen pairs         {held_out_accuracy['color']:.2f}    {held_out_accuracy['type']:.2f}")
    log("Predictions on color/type pairs never seen in training:")
    for row in rows.groupby(["true_color", "true_type"]).head(2).itertuples():
        log(f"  {Path(row.file).name:<24} true: {row.true_color:<5} {row.true_type:<6} "
            f"predicted: {row.color:<5} ({row.color_probability:.2f}) {row.type:<6} ({row.type_probability:.2f})")
    seconds = time.monotonic() - start
    log(f"Outputs in {output}/: color_type.keras and .h5, history.csv and .png, predictions.csv and .png; "
        f"{format_duration(seconds)} in all.")
    log("")
    log("This model knows only synthetic garments: flat shapes in three colors on plain backgrounds. Real")
    log("photos are a different domain: expect it to get most of them wrong. To train on your own images,")
    log("one folder per color/type pair (e.g. photos/red_dress/, photos/blue_jeans/):")
    log("  zoo train --folders DIR --separator _ --heads color type")
    return {
        "validation_accuracy": validation_accuracy,
        "held_out_accuracy": held_out_accuracy,
        "reload_identical": same,
        "models": {fmt: str(path) for fmt, path in paths.items()},
        "seconds": seconds,
    }


def _same(identical: bool) -> str:
    return "identically" if identical else "DIFFERENTLY"


def _images(files, size) -> np.ndarray:
    from PIL import Image

    return np.stack([np.asarray(Image.open(f).convert("RGB").resize(size)) for f in files])


class _LogStream:
    """A file-like object that hands complete lines to `log`."""

    def __init__(self, log):
        self.log, self.buffer = log, ""

    def write(self, text: str) -> None:
        self.buffer += text
        while "\n" in self.buffer:
            line, self.buffer = self.buffer.split("\n", 1)
            self.log(line)

    def flush(self) -> None:
        pass

