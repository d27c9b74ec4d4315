"""What `zoo train`, `zoo evaluate` and `zoo predict` do; `zoo.cli` parses their arguments.

Example:
    $ zoo train --folders clothing --separator _ --heads color type --model color_type --epochs 5
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import time
import warnings
from pathlib import Path

import numpy as np
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
    source.add_argument("--delimiter", default=None,
                        help="--csv: label separator (default: detected per column; '' never splits)")
    source.add_argument("--extension", help="appended to file names without one, e.g. .jpg")
    source.add_argument("--separator", help="--folders: splits folder names into heads, e.g. _")
    source.add_argument("--heads", nargs="+",
                        help="head names: one per folder-name part; for --csv, label columns (one head each) "
                             "or the name of the --label-column head")
    source.add_argument("--kind", action="append", default=[], metavar="HEAD=KIND",
                        help="head kind (multilabel, multiclass, binary); default multiclass for folders and "
                             "CSV columns of one label per cell, else multilabel")


def load_source(args) -> tuple[pd.DataFrame, dict]:
    """(normalized DataFrame, {head: kind}) from the source options.

    Kinds: multiclass for folders and for CSV columns of one label per cell,
    multilabel for CSV columns of label lists, one-hot CSVs and VOC; `--kind`
    overrides.
    """
    from zoo import data

    name = (args.heads or [None])[0]
    allow_empty = getattr(args, "allow_empty", False)
    if args.csv:
        columns = list(pd.read_csv(args.csv, nrows=0).columns)
        if args.heads and all(head in columns for head in args.heads):
            df = data.from_csv(args.csv, label_columns=args.heads, file_column=args.file_column,
                               delimiter=args.delimiter, extension=args.extension, allow_empty=allow_empty)
        else:
            df = data.from_csv(args.csv, label_column=args.label_column, file_column=args.file_column,
                               delimiter=args.delimiter, head=name or args.label_column, extension=args.extension,
                               allow_empty=allow_empty)
    elif args.onehot_csv:
        df = data.from_onehot_csv(args.onehot_csv, file_column=args.file_column, head=name or "labels",
                                  extension=args.extension)
        if df.attrs.get("ignored_columns"):
            print(f"Not label columns (not all 0/1), ignored: {', '.join(map(str, df.attrs['ignored_columns']))}")
    elif args.voc:
        df = data.from_voc(args.voc, images_dir=args.images, head=name or "objects")
    else:
        df = data.from_folders(args.folders, heads=args.heads or ["label"], separator=args.separator)
    multivalued = df.attrs.get("multivalued", {})
    kinds = {column: ("multiclass" if args.folders or (args.csv and not multivalued.get(column, True))
                      else "multilabel")
             for column in df.columns if column != data.FILE_COLUMN}
    for item in args.kind:
        head, _, kind = item.partition("=")
        if head not in kinds:
            raise ValueError(f"--kind names head {head!r}, but the heads are {list(kinds)}. Received: --kind {item}")
        kinds[head] = kind
    return df, kinds


def checked_rows(args, df: pd.DataFrame, heads) -> tuple[pd.DataFrame, list]:
    """Drops rare classes (`--min-count`), merges repeated files and checks every label and file at once."""
    from zoo import data

    if getattr(args, "min_count", None):
        df, dropped = data.drop_rare_classes(df, heads, args.min_count, allow_empty=args.allow_empty)
        print(f"--min-count {args.min_count}: {dropped}")
        heads = data.heads_from_dataframe(df, {h.name: h.kind for h in heads})
    checked = data.validate(df, heads, directory=args.images, allow_empty=getattr(args, "allow_empty", False),
                            on_error=args.on_error)
    if checked.skipped:
        print(f"Skipped {len(checked.skipped)} row(s) or file(s) (--on-error skip):\n  "
              + "\n  ".join(checked.skipped[:20]) + ("\n  ..." if len(checked.skipped) > 20 else ""))
    return checked.rows, heads


def parse_stage(text: str, head_names: list[str]):
    """`epochs=5,trainable=type:block5_conv1,lr=1e-5,loss_weights=color:0.1/type:1` -> Stage.

    `trainable` is `auto`, `heads`, `all`, a boundary or a number of top layers (applied to the first head's
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
    if trainable not in ("auto", "heads", "all"):
        pairs = [p.split(":", 1) if ":" in p else (head_names[0], p) for p in trainable.split("/")]
        trainable = {branch: int(boundary) if boundary.isdigit() else boundary for branch, boundary in pairs}
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
    """`zoo train`: label source -> plan -> staged training with backups -> best model, report, plots."""
    import keras

    import zoo
    from zoo import data
    from zoo import training_run as run
    from zoo.backup import latest_backup
    from zoo.metadata import get_metadata, set_metadata
    from zoo.model_card import write_model_card
    from zoo.plan import Plan
    from zoo.progress import format_duration

    began = time.perf_counter()
    output = Path(args.output)
    resumed_run = run.previous_run(output, args)
    keras.utils.set_random_seed(args.seed)
    with warnings.catch_warnings(record=True) as caught:  # shown as plain lines, not source locations
        warnings.simplefilter("always", data.DataWarning)
        df, kinds = load_source(args)
        df, heads = checked_rows(args, df, data.heads_from_dataframe(df, kinds))
        train_rows, validation_rows = data.train_validation_split(
            df, heads, args.validation_split, stratify=not args.no_stratify, seed=args.seed
        )
    for warning in caught:
        print(f"Warning: {warning.message}")
    output.mkdir(parents=True, exist_ok=True)
    counts = data.label_counts({"train": train_rows, "validation": validation_rows}, heads)
    counts.to_csv(output / "label_counts.csv")
    zoo.plots.plot_label_counts(counts, output / "label_counts.png")
    print(f"{len(train_rows)} training and {len(validation_rows)} validation images; heads: "
          + ", ".join(f"{h.name} ({h.kind}, {len(h.classes)} classes)" for h in heads))

    weights = None if args.weights == "none" else args.weights
    with zoo.scale.mixed_precision(args.precision):
        model = zoo.build(args.model, heads=heads, weights=weights,
                          input_shape=(*args.image_size, 3) if args.image_size else None)
    train_paths = data.resolve_paths(train_rows, args.images)
    validation_paths = data.resolve_paths(validation_rows, args.images)
    resumed = None
    if resumed_run is not None:
        run.check_same_split(output, train_paths, validation_paths)
        plan = Plan.load(output / run.PLAN_FILE)
        resumed = latest_backup(output / run.BACKUP_FOLDER)
    else:
        print("Measuring this machine's training speed to plan the run...")
        plan = run.make_plan(args, model, heads, train_paths, len(validation_rows), began)
        plan.save(output / run.PLAN_FILE)
        run.write_split(output, train_paths, validation_paths)
        run.write_run(output, args, finished=False)
    keras.backend.clear_session(free_memory=False)
    with zoo.scale.mixed_precision(args.precision):
        model = zoo.build(args.model, heads=heads, weights=weights, input_shape=(*plan.image_size, 3))
    print("Plan (plan.json; repeat it with --plan):\n  " + "\n  ".join(plan.describe()))

    size = tuple(plan.image_size)
    decoded_bytes = len(df) * size[0] * size[1] * 3 * 4  # float32 pixels
    cache = not args.no_cache and decoded_bytes <= MEMORY_CACHE_BYTES
    if cache:
        print(f"Keeping the decoded images in memory ({decoded_bytes / 2**20:.0f} MiB); --no-cache turns this off")
    common = dict(directory=args.images, image_size=size, batch_size=plan.batch_size, seed=args.seed,
                  on_error=args.on_error, cache=cache, allow_empty=args.allow_empty)
    augment = data.with_mixing(True if plan.augment else None, getattr(args, "mix", None))
    train_data = data.make_dataset(train_rows, heads, augment=augment, **common)
    validation_data = data.make_dataset(validation_rows, heads, shuffle=False, **common)
    losses = training_losses(args.loss, heads, train_rows)
    fit_began, fit_processor = time.perf_counter(), time.process_time()
    rows = run.fit(model, train_data, validation_data, plan, output, args, resumed, losses)
    print(f"Trained in {format_duration(time.perf_counter() - fit_began)}, processor time "
          f"{format_duration(time.process_time() - fit_processor)} (the plan estimated "
          f"{plan.estimated_seconds / 60:.1f} min of {plan.measured.get('clock', 'wall')} time)")
    best_epoch = run.restore_best(model, output)
    if best_epoch is not None:
        print(f"Restored the weights of epoch {best_epoch}, the best on validation ({run.MONITOR})")
    zoo.plots.plot_history(pd.DataFrame(rows), output / "history.png")

    predictions = zoo.evaluation.predict_with_targets(model, validation_data)  # one pass serves every report
    written = ["plan.json", "split.csv", "label_counts.csv", "label_counts.png", "history.csv", "history.png",
               run.BEST_MODEL]
    reports = {}
    if args.tune_thresholds:
        reports["threshold 0.5"] = zoo.evaluate(model, predictions=predictions)
        report_frame(reports["threshold 0.5"]).to_csv(output / "report_threshold_0.5.csv", index=False)
        # Tuned and scored on the same images, report.csv flatters the thresholds; this does not.
        reports["tuned, cross-fitted"] = zoo.thresholds.cross_fitted_report(
            model, metric=args.tune_thresholds, predictions=predictions)
        report_frame(reports["tuned, cross-fitted"]).to_csv(output / "report_tuned_cross_fitted.csv", index=False)
        zoo.tune_thresholds(model, metric=args.tune_thresholds, predictions=predictions)
        written += ["report_threshold_0.5.csv", "report_tuned_cross_fitted.csv"]
    report = zoo.evaluate(model, predictions=predictions)
    reports["tuned on these images" if args.tune_thresholds else "validation"] = report
    report_frame(report).to_csv(output / "report.csv", index=False)
    for name, part in report.items():
        zoo.plots.plot_confusion(part, output / f"confusion_{name}.png", title=name, split="validation")
        written.append(f"confusion_{name}.png")
    run.prediction_sheet(model, validation_rows, predictions, heads, output / "predictions.png", args.images)
    written.append("predictions.png")
    set_metadata(model, {**get_metadata(model), "plan": plan.to_dict()})
    model_path = output / f"model.{args.format}"
    zoo.save_model(model, model_path)
    write_model_card(model, output, label_counts=counts, report=report, plan=plan.to_dict())
    written += ["MODEL_CARD.md", "MODEL_CARD.json"]
    run.write_run(output, args, finished=True)
    shutil.rmtree(output / run.BACKUP_FOLDER, ignore_errors=True)
    written += [model_path.name, "report.csv"]
    print_summary(reports, model, written, output, model_path, args, format_duration(time.perf_counter() - began))


def print_summary(reports: dict, model, written, output: Path, model_path: Path, args, took: str) -> None:
    """The figures (every report side by side), thresholds by class, the files, and what to run next."""
    from zoo.metadata import heads_of

    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.precision", 4):
        print("\nValidation split:")
        print(side_by_side(reports).to_string())
        final = list(reports.values())[-1]
        for name, part in final.items():
            print(f"\n{name}:")
            print(part["per_class"].to_string(index=False))
    for head in heads_of(model):
        if head.kind != "multiclass" and args.tune_thresholds:
            pairs = ", ".join(f"{c} {t:.2f}" for c, t in zip(head.classes, np.ravel(head.threshold)))
            print(f"thresholds of {head.name} ({args.tune_thresholds}): {pairs}")
    print(f"\nDone in {took}. Written to {output}/: {', '.join(written)}")
    source = shlex.join(_source_flags(args))
    model_path, onnx = shlex.quote(str(model_path)), shlex.quote(str(output / "model.onnx"))
    print("Next:\n"
          f"  zoo evaluate {model_path} {source}    # on other labelled images\n"
          f"  zoo predict {model_path} PHOTOS/ --output predictions.csv\n"
          f"  zoo export {model_path} --format onnx --output {onnx}")


def side_by_side(reports: dict) -> pd.DataFrame:
    """One row per head and report, the main figures as columns."""
    from zoo.evaluation import summary_table

    frames = []
    for label, report in reports.items():
        table = summary_table(report)
        table.insert(0, "report", label)
        frames.append(table)
    table = pd.concat(frames).rename_axis("head").reset_index().set_index(["head", "report"]).sort_index(
        level=0, sort_remaining=False)
    if "samples" in table:
        table["samples"] = table["samples"].astype(int)
    return table


def _source_flags(args) -> list[str]:
    flags = []
    for flag in ("csv", "onehot_csv", "voc", "folders", "images", "file_column", "label_column", "delimiter",
                 "extension", "separator"):
        value = getattr(args, flag, None)
        default = {"file_column": "filename", "label_column": "labels"}.get(flag)
        if value is not None and value != default:
            flags += [f"--{flag.replace('_', '-')}", str(value)]
    if args.heads:
        flags += ["--heads", *args.heads]
    if args.allow_empty:
        flags.append("--allow-empty")
    return flags


def evaluate(args) -> None:
    """`zoo evaluate`: model + labelled images -> report table and CSV."""
    import zoo
    from zoo import data
    from zoo.metadata import heads_of
    from zoo.training_run import training_overlap

    model = zoo.load_model(args.model, compile=False)
    heads = heads_of(model)
    df, _ = load_source(args)
    dataset = data.make_dataset(df, heads, directory=args.images, image_size=tuple(zoo.model_info(model)["input_shape"][:2]),
                                batch_size=args.batch_size, shuffle=False, on_error=args.on_error,
                                allow_empty=args.allow_empty)
    overlap, total = training_overlap(args.model, dataset.zoo_files)
    if overlap:
        print(f"Warning: {overlap} of the {total} images were in this model's training split; their figures "
              f"flatter the model. Evaluate on images it has not seen.")
    batches = zoo.progress.track_batches(dataset, "evaluate")
    tta = getattr(args, "tta", None)
    predictions = zoo.evaluation.predict_with_targets(model, batches, **({"tta": tta} if tta else {}))
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

    predictor = zoo.Predictor(args.model, batch_size=args.batch_size, on_error=args.on_error,
                              tta=getattr(args, "tta", None))
    frame = predictor.predict(args.inputs, top_k=getattr(args, "top_k", None))
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.output, index=False)
    print("\n".join(zoo.predict.preview(frame, predictor.heads)))
    if predictor.skipped:
        print(f"skipped {len(predictor.skipped)} unreadable file(s):\n  " + "\n  ".join(predictor.skipped))
    print(f"{len(frame)} predictions written to {args.output}")
    if getattr(args, "explain", None):
        written = predictor.explain(args.inputs, args.explain)
        print(f"{len(written)} Grad-CAM overlays written to {args.explain}")
