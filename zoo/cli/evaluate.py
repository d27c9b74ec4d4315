"""`zoo evaluate`: a saved model on labelled images -> per-head metrics, optionally tuned thresholds.

Example:
    $ zoo evaluate zoo_output/model.keras --folders clothing --separator _ --heads color type
"""

from __future__ import annotations

from zoo.cli.choices import ON_ERROR, THRESHOLD_METRICS, TTA_MODES
from zoo.cli.sources import add_source_arguments


def add_parser(commands) -> None:
    """Adds `zoo evaluate` to the command's subparsers."""
    evaluate = commands.add_parser("evaluate", help="report per-head metrics of a saved model on labelled images")
    evaluate.add_argument("model", help=".keras or .h5 model file, or an export: .onnx, .tflite, SavedModel folder")
    add_source_arguments(evaluate)
    evaluate.add_argument("--threshold", type=float, help="one threshold for every sigmoid head")
    evaluate.add_argument("--tune-thresholds", choices=THRESHOLD_METRICS,
                          help="tune per-class thresholds on these images first")
    evaluate.add_argument("--save", action="store_true", help="with --tune-thresholds: store them in the model file")
    evaluate.add_argument("--allow-empty", action="store_true",
                          help="images without any label are valid negatives of multilabel heads")
    evaluate.add_argument("--batch-size", type=int, default=32,
                          help="images per prediction step (default: %(default)s)")
    evaluate.add_argument("--tta", choices=TTA_MODES,
                          help="test-time augmentation: average each image's probabilities with its mirror's "
                               "(flip; flip+crops adds 5 crops); thresholds are tuned on the same probabilities")
    evaluate.add_argument("--on-error", choices=ON_ERROR, default="raise",
                          help="raise: stop and name every unreadable image; skip: leave them out, counted and "
                               "reported (default: %(default)s)")
    evaluate.add_argument("--output", help="CSV file for the report")
    evaluate.set_defaults(run=run)


def run(args) -> None:
    """`zoo evaluate`: model + labelled images -> report table and CSV."""
    import zoo
    from zoo import data
    from zoo.models.card import card_of
    from zoo.models.heads import thresholded
    from zoo.training.run import training_overlap

    from zoo.cli.reports import print_report, report_frame
    from zoo.cli.sources import load_source

    model = zoo.io.export.load_any(args.model)  # a .keras/.h5 file or an export
    card = card_of(model)
    heads = list(card.heads)
    df, _ = load_source(args)
    _check_labels_name_heads(df, [h.name for h in heads], args)
    dataset = data.make_dataset(df, heads, directory=args.images, image_size=card.input_shape[:2],
                                batch_size=args.batch_size, shuffle=False, on_error=args.on_error,
                                allow_empty=args.allow_empty)
    overlap, total = training_overlap(args.model, dataset.files)
    if overlap:
        print(f"Warning: {overlap} of the {total} images were in this model's training split; their figures "
              f"flatter the model. Evaluate on images it has not seen.")
    batches = zoo.io.progress.track_batches(dataset, "evaluate")
    tta = getattr(args, "tta", None)
    predictions = zoo.Predictions.of(model, batches, tta=tta)
    if args.tune_thresholds:
        tuned = zoo.tune_thresholds(model, predictions, metric=args.tune_thresholds)
        print(f"tuned thresholds ({args.tune_thresholds}): {tuned}")
        if args.save:
            zoo.save_model(model, args.model)
            print(f"thresholds saved in {args.model}")
    thresholds = {h.name: args.threshold for h in thresholded(heads)} if args.threshold is not None else None
    report = zoo.evaluate(model, predictions, thresholds=thresholds)
    print_report(report)
    if args.output:
        from pathlib import Path

        from zoo.cli.reports import write_html_report

        report_csv = Path(args.output)
        report_csv.parent.mkdir(parents=True, exist_ok=True)
        report_frame(report).to_csv(report_csv, index=False)
        print(f"\nreport written to {report_csv}")
        page = write_html_report(report_csv.parent, model, predictions, dataset.files, args.images,
                                 report_csv)[-1]
        print(f"and to {page} (open it in a browser)")


def _check_labels_name_heads(df, model_heads: list[str], args) -> None:
    """Raises `UsageError` when the labels read lack a head of the model, naming both sets of names.

    Example:
        >>> import argparse, pandas as pd
        >>> labels = pd.DataFrame({"filename": ["a.jpg"], "colour": ["red"], "type": ["dress"]})
        >>> _check_labels_name_heads(labels, ["color", "type"], argparse.Namespace(heads=["colour", "type"]))
        Traceback (most recent call last):
        ...
        zoo.cli.arguments.UsageError: the model's heads are color, type, but the labels read have none for color (their columns: filename, colour, type); name the model's heads, e.g. --heads color type. Received: --heads colour type
    """
    from zoo.cli.arguments import UsageError

    missing = [name for name in model_heads if name not in df.columns]
    if not missing:
        return
    given = getattr(args, "heads", None)
    received = f"--heads {' '.join(given)}" if given else f"label columns {', '.join(map(str, df.columns))}"
    raise UsageError(f"the model's heads are {', '.join(model_heads)}, but the labels read have none for "
                     f"{', '.join(missing)} (their columns: {', '.join(map(str, df.columns))}); name the model's "
                     f"heads, e.g. --heads {' '.join(model_heads)}. Received: {received}")
