"""What `zoo train`, `zoo evaluate` and `zoo predict` do; `zoo.cli` parses their arguments.

Example:
    $ zoo train --folders clothing --separator _ --heads color type --model color_type --epochs 5
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """Label source options shared by `train` and `evaluate`."""
    source = parser.add_argument_group("labels (give one source)")
    choice = source.add_mutually_exclusive_group(required=True)
    choice.add_argument("--csv", type=Path, help="CSV with a column of delimited labels")
    choice.add_argument("--onehot-csv", type=Path, help="CSV with a file column and one 0/1 column per label")
    choice.add_argument("--voc", type=Path, help="Pascal VOC Annotations/ folder of XML files")
    choice.add_argument("--folders", type=Path, help="folder of class folders (e.g. black_jeans/)")
    source.add_argument("--images", type=Path, help="folder that relative file names are relative to")
    source.add_argument("--file-column", default="filename", help="file name column (default: %(default)s)")
    source.add_argument("--label-column", default="labels", help="--csv: label column (default: %(default)s)")
    source.add_argument("--delimiter", default=None, help="--csv: label separator (default: whitespace)")
    source.add_argument("--extension", help="appended to file names without one, e.g. .jpg")
    source.add_argument("--separator", help="--folders: splits folder names into heads, e.g. _")
    source.add_argument("--heads", nargs="+", help="head names: one per folder-name part, or the label head name")
    source.add_argument("--kind", action="append", default=[], metavar="HEAD=KIND",
                        help="head kind (multilabel, multiclass, binary); default multiclass for folders, "
                             "else multilabel")


def load_source(args) -> tuple[pd.DataFrame, dict]:
    """(normalized DataFrame, {head: kind}) from the source options."""
    from zoo import data

    name = (args.heads or [None])[0]
    if args.csv:
        df = data.from_csv(args.csv, label_column=args.label_column, file_column=args.file_column,
                           delimiter=args.delimiter, head=name or args.label_column, extension=args.extension)
    elif args.onehot_csv:
        df = data.from_onehot_csv(args.onehot_csv, file_column=args.file_column, head=name or "labels",
                                  extension=args.extension)
    elif args.voc:
        df = data.from_voc(args.voc, images_dir=args.images, head=name or "objects")
    else:
        df = data.from_folders(args.folders, heads=args.heads or ["label"], separator=args.separator)
    default_kind = "multiclass" if args.folders else "multilabel"
    kinds = {column: default_kind for column in df.columns if column != data.FILE_COLUMN}
    for item in args.kind:
        head, _, kind = item.partition("=")
        if head not in kinds:
            raise ValueError(f"--kind names head {head!r}, but the heads are {list(kinds)}. Received: --kind {item}")
        kinds[head] = kind
    return df, kinds


def parse_stage(text: str, head_names: list[str]):
    """`epochs=5,trainable=type:block5_conv1,lr=1e-5,loss_weights=color:0.1/type:1` -> Stage.

    `trainable` is `heads`, `all`, a boundary (applied to the first head's
    branch) or `branch:boundary` pairs joined by `/`.
    """
    from zoo.finetune import Stage

    fields = {}
    for part in filter(None, text.split(",")):
        key, separator, value = part.partition("=")
        if not separator:
            raise ValueError(f"Stage fields are key=value. Received: --stage {text!r}")
        fields[key.strip()] = value.strip()
    unknown = set(fields) - {"epochs", "trainable", "lr", "optimizer", "schedule", "warmup", "loss_weights", "name"}
    if unknown:
        raise ValueError(f"Unknown stage field(s) {sorted(unknown)}. Received: --stage {text!r}")
    trainable = fields.get("trainable", "all")
    if trainable not in ("heads", "all"):
        pairs = [p.split(":", 1) if ":" in p else (head_names[0], p) for p in trainable.split("/")]
        trainable = {branch: boundary for branch, boundary in pairs}
    loss_weights = None
    if "loss_weights" in fields:
        loss_weights = {k: float(v) for k, v in (p.split(":") for p in fields["loss_weights"].split("/"))}
    return Stage(
        epochs=int(fields.get("epochs", 10)),
        trainable=trainable,
        learning_rate=float(fields.get("lr", 1e-3)),
        optimizer=fields.get("optimizer", "adam"),
        schedule=fields.get("schedule"),
        warmup_epochs=int(fields.get("warmup", 1)),
        loss_weights=loss_weights,
        name=fields.get("name"),
    )


def print_report(report: dict) -> None:
    """Prints each head's summary and per-class table."""
    from zoo.evaluation import summary_table

    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.precision", 4):
        print(summary_table(report).to_string())
        for name, part in report.items():
            print(f"\n{name}:")
            print(part["per_class"].to_string(index=False))


def report_frame(report: dict) -> pd.DataFrame:
    """All heads' per-class rows and summaries in one CSV-ready table."""
    frames = []
    for name, part in report.items():
        rows = part["per_class"].copy()
        rows.insert(0, "head", name)
        summary = pd.DataFrame([{"head": name, "class": "(all)", **part["summary"]}])
        frames.extend([summary, rows])
    return pd.concat(frames, ignore_index=True)


# `zoo train` keeps decoded images in memory when they fit in this much.
MEMORY_CACHE_BYTES = 2 * 2**30


def training_losses(name: str, heads, train_rows) -> dict | None:
    """`--loss` for every multilabel and binary head; weighted_bce's weights come from `train_rows`."""
    from zoo import data
    from zoo.losses import make_loss

    if name == "bce":
        return None
    sigmoid_heads = [h for h in heads if h.kind != "multiclass"]
    if name != "weighted_bce":
        return {h.name: make_loss(name) for h in sigmoid_heads}
    targets = data.encode(train_rows, sigmoid_heads, allow_empty=True).targets
    return {h.name: make_loss(name, pos_weight=data.positive_weights(targets[h.name]).tolist())
            for h in sigmoid_heads}


def train(args) -> None:
    """`zoo train`: label source -> staged training -> model, history, plots, report."""
    import keras

    import zoo
    from zoo import data

    keras.utils.set_random_seed(args.seed)
    df, kinds = load_source(args)
    heads = data.heads_from_dataframe(df, kinds)
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    train_rows, validation_rows = data.train_validation_split(
        df, heads, args.validation_split, stratify=not args.no_stratify, seed=args.seed
    )
    counts = data.label_counts({"train": train_rows, "validation": validation_rows}, heads)
    counts.to_csv(output / "label_counts.csv")
    zoo.plots.plot_label_counts(counts, output / "label_counts.png")
    print(f"{len(train_rows)} training and {len(validation_rows)} validation images; heads: "
          + ", ".join(f"{h.name} ({h.kind}, {len(h.classes)} classes)" for h in heads))

    weights = None if args.weights == "none" else args.weights
    with zoo.scale.mixed_precision(args.precision):
        model = zoo.build(args.model, heads=heads, input_shape=(*args.image_size, 3) if args.image_size else None,
                          weights=weights)
    size = tuple(zoo.model_info(model)["input_shape"][:2])
    decoded_bytes = len(df) * size[0] * size[1] * 3 * 4  # float32 pixels
    cache = not args.no_cache and decoded_bytes <= MEMORY_CACHE_BYTES
    if cache:
        print(f"Keeping the decoded images in memory ({decoded_bytes / 2**20:.0f} MiB); --no-cache turns this off")
    common = dict(directory=args.images, image_size=size, batch_size=args.batch_size, seed=args.seed,
                  on_error=args.on_error, cache=cache)
    train_data = data.make_dataset(train_rows, heads, augment=True if args.augment else None, **common)
    validation_data = data.make_dataset(validation_rows, heads, shuffle=False, **common)
    # Default: one stage, AdamW with warm-up and cosine decay; heads only on a pretrained backbone.
    stages = [parse_stage(s, [h.name for h in heads]) for s in args.stage] or [
        zoo.Stage(epochs=args.epochs, trainable="all" if weights is None else "heads",
                  learning_rate=args.learning_rate, optimizer="adamw", schedule="warmup_cosine",
                  warmup_epochs=min(2, args.epochs))
    ]
    losses = training_losses(args.loss, heads, train_rows)
    history = zoo.fit_staged(model, train_data, validation_data, stages=stages, losses=losses,
                             verbose=1 if args.progress else 2)
    history.to_dataframe().to_csv(output / "history.csv", index=False)
    zoo.plots.plot_history(history, output / "history.png")
    predictions = zoo.evaluation.predict_with_targets(model, validation_data)  # one pass serves every report
    if args.tune_thresholds:
        at_half = zoo.evaluate(model, predictions=predictions)
        report_frame(at_half).to_csv(output / "report_threshold_0.5.csv", index=False)
        # Tuned and scored on the same images, report.csv flatters the thresholds; this does not.
        honest = zoo.thresholds.cross_fitted_report(model, metric=args.tune_thresholds, predictions=predictions)
        report_frame(honest).to_csv(output / "report_tuned_cross_fitted.csv", index=False)
        tuned = zoo.tune_thresholds(model, metric=args.tune_thresholds, predictions=predictions)
        print(f"tuned thresholds ({args.tune_thresholds}): {tuned}")
    report = zoo.evaluate(model, predictions=predictions)
    report_frame(report).to_csv(output / "report.csv", index=False)
    for name, part in report.items():
        zoo.plots.plot_confusion(part, output / f"confusion_{name}.png", title=name)
    model_path = output / f"model.{args.format}"
    zoo.save_model(model, model_path)
    print_report(report)
    print(f"\nSaved {model_path}, history.csv, report.csv and plots in {output}/")


def evaluate(args) -> None:
    """`zoo evaluate`: model + labelled images -> report table and CSV."""
    import zoo
    from zoo import data
    from zoo.metadata import heads_of

    model = zoo.load_model(args.model, compile=False)
    heads = heads_of(model)
    df, _ = load_source(args)
    dataset = data.make_dataset(df, heads, directory=args.images, image_size=tuple(zoo.model_info(model)["input_shape"][:2]),
                                batch_size=args.batch_size, shuffle=False, on_error=args.on_error)
    predictions = zoo.evaluation.predict_with_targets(model, zoo.progress.track_batches(dataset, "evaluate"))
    if args.tune_thresholds:
        tuned = zoo.tune_thresholds(model, metric=args.tune_thresholds, predictions=predictions)
        print(f"tuned thresholds ({args.tune_thresholds}): {tuned}")
        if args.save:
            zoo.save_model(model, args.model)
            print(f"thresholds saved in {args.model}")
    thresholds = {h.name: args.threshold for h in heads if h.kind != "multiclass"} if args.threshold is not None else None
    report = zoo.evaluate(model, thresholds=thresholds, predictions=predictions)
    print_report(report)
    if args.output:
        report_frame(report).to_csv(args.output, index=False)
        print(f"\nreport written to {args.output}")


def predict(args) -> None:
    """`zoo predict`: model + files or folders -> CSV of label names and probabilities."""
    import zoo

    predictor = zoo.Predictor(args.model, batch_size=args.batch_size, on_error=args.on_error)
    frame = predictor.predict(args.inputs, top_k=getattr(args, "top_k", None))
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.output, index=False)
    print("\n".join(zoo.predict.preview(frame, predictor.heads)))
    if predictor.skipped:
        print(f"skipped {len(predictor.skipped)} unreadable file(s):\n  " + "\n  ".join(predictor.skipped))
    print(f"{len(frame)} predictions written to {args.output}")
