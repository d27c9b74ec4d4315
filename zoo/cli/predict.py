"""`zoo predict`: a saved model on image files or folders -> a CSV of label names and probabilities.

Example:
    $ zoo predict zoo_output/model.keras photos/ --output predictions.csv
"""

from __future__ import annotations

from pathlib import Path

from zoo.cli.choices import ON_ERROR, TTA_MODES


def add_parser(commands) -> None:
    """Adds `zoo predict` to the command's subparsers."""
    predict = commands.add_parser("predict", help="predict label names for image files or folders")
    predict.add_argument("model", help=".keras or .h5 model file, or an export: .onnx, .tflite, SavedModel folder")
    predict.add_argument("inputs", nargs="+", help="image files or folders")
    predict.add_argument("--output", default="predictions.csv", help="CSV file (default: %(default)s)")
    predict.add_argument("--batch-size", type=int, default=32,
                         help="images per prediction step (default: %(default)s)")
    predict.add_argument("--top-k", type=int, metavar="K",
                         help="add per head the K most probable classes with probabilities, "
                              "e.g. 'sea 0.91; sunset 0.40'")
    predict.add_argument("--on-error", choices=ON_ERROR, default="raise",
                         help="raise: stop and name every unreadable image; skip: leave them out, counted and "
                              "reported (default: %(default)s)")
    predict.add_argument("--tta", choices=TTA_MODES, help="test-time augmentation (see zoo evaluate --tta)")
    predict.add_argument("--explain", type=Path, metavar="DIR",
                         help="also write Grad-CAM overlays there: one PNG per image and head, for the top class "
                              "(multiclass) or every class above its threshold")
    predict.set_defaults(run=run)


def run(args) -> None:
    """`zoo predict`: model + files or folders -> CSV of label names and probabilities."""
    import zoo

    predictor = zoo.Predictor(args.model, batch_size=args.batch_size, on_error=args.on_error,
                              tta=getattr(args, "tta", None))
    frame = predictor.predict(args.inputs, top_k=getattr(args, "top_k", None))
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.output, index=False)
    print("\n".join(zoo.evaluation.predict.preview(frame, predictor.heads)))
    if predictor.skipped:
        from zoo.data.errors import problem_list

        print(f"skipped {len(predictor.skipped)} file(s):\n" + problem_list(predictor.skipped))
    print(f"{len(frame)} predictions written to {args.output}")
    if getattr(args, "explain", None):
        written = predictor.explain(args.inputs, args.explain)
        print(f"{len(written)} Grad-CAM overlays written to {args.explain}")
