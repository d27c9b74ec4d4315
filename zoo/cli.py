"""The `zoo` command.

Example:
    $ zoo list
    $ zoo demo --output zoo-demo
    $ zoo weights
    $ zoo train --folders clothing --separator _ --heads color type --model color_type
    $ zoo evaluate zoo_output/model.keras --folders clothing --separator _ --heads color type
    $ zoo predict zoo_output/model.keras photos/ --output predictions.csv
    $ zoo export zoo_output/model.keras --format onnx --output deploy/model.onnx
"""

from __future__ import annotations

import argparse
import shutil
import sys
import textwrap
from pathlib import Path

from zoo import catalog
from zoo.validation import UsageError, validate_arguments

# zoo.losses.LOSSES, written out so that `zoo --help` does not import Keras.
TRAINING_LOSSES = ("bce", "weighted_bce", "focal", "asymmetric")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
# zoo.tta.TTA_MODES, written out so that `zoo --help` does not import Keras.
TTA_MODES = ("flip", "flip+crops")
# zoo.data.mixing.MIX_MODES.
MIX_MODES = ("mixup", "cutmix")


class HelpFormatter(argparse.HelpFormatter):
    """Wraps help text at spaces only: no word or `1e-5` is split across lines."""

    def __init__(self, prog, indent_increment=2, max_help_position=30, width=None):
        super().__init__(prog, indent_increment, max_help_position, width)

    def _split_lines(self, text, width):
        text = self._whitespace_matcher.sub(" ", text).strip()
        return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)


class ArgumentParser(argparse.ArgumentParser):
    """Usage errors print one line naming the command and exit with status 1, like every zoo error."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(1, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _millions(count: int) -> str:
    return f"{count / 1e6:.2f}M"


def _parameter_counts() -> tuple[dict, dict]:
    """({model: parameters}, {backbone: parameters}), built at the default input sizes."""
    import keras

    from zoo.backbones import build_backbone
    from zoo.heads import Head
    from zoo.models import build

    models, backbones = {}, {}
    for name in sorted(catalog.MODELS):
        heads = [Head("labels", [str(i) for i in range(10)])]
        if name == "color_type":
            heads = [Head("color", [str(i) for i in range(5)], kind="multiclass"),
                     Head("type", [str(i) for i in range(5)], kind="multiclass")]
        models[name] = build(name, heads=heads, weights=None, compile=False).count_params()
        keras.backend.clear_session()
    for name in sorted(catalog.BACKBONES):
        backbones[name] = build_backbone(name, (32, 32, 3)).count_params()  # convolutions: any input size
        keras.backend.clear_session()
    return models, backbones


def _command_list(args) -> None:
    models, backbones = _parameter_counts() if args.params else ({}, {})
    column = (lambda counts, name: f" {_millions(counts[name]):>7} ") if args.params else (lambda counts, name: " ")
    print("Models" + (" (parameters at the default input size, with one 10-class multilabel head; color_type with "
                      "two 5-class heads)" if args.params else "") + ":")
    for name in sorted(catalog.MODELS):
        entry = catalog.MODELS[name]
        print(f"  {name:<26} {catalog.shape_text(entry['default_input_shape']):<10}{column(models, name)}"
              f"{', '.join(entry['backbones']):<20} {entry['description']}")
    print("Backbones" + (" (parameters without a head)" if args.params else "") + ":")
    for name in sorted(catalog.BACKBONES):
        entry = catalog.BACKBONES[name]
        pretrained = ", ".join(entry["pretrained"]) or "from scratch"
        print(f"  {name:<26} {catalog.shape_text(entry['default_input_shape']):<10}{column(backbones, name)}"
              f"{pretrained:<20} boundaries: {', '.join(entry['boundaries'])}")
    if not args.params:
        print("Parameter counts: zoo list --params (builds every model: about 10 s).")


def _command_demo(args) -> None:
    from zoo.demo import run_demo

    summary = run_demo(args.output, image_size=args.image_size, images_per_pair=args.images_per_pair,
                       epochs=tuple(args.epochs), seed=args.seed, verbose=2 if args.verbose else 0)
    different = [fmt for fmt, same in summary["reload_identical"].items() if not same]
    if different:
        raise RuntimeError(f"the model reloaded from {' and '.join(different)} predicts differently "
                           "from the trained one")


def _command_weights(args) -> None:
    from zoo import weights

    folders = weights.search_dirs()
    print("Weight files are looked up in: " + ", ".join(str(f) for f in folders))
    for record in weights.load_manifest():
        try:
            local = weights.locate(record)
            status = f"found: {local}" if local else "missing"
        except ValueError as error:  # a local copy with the wrong hash
            status = f"corrupt: {error}"
        print(f"  {record['backbone']:<16} {record['file_name']:<66} {status}")


def _command_export(args) -> None:
    from zoo.deploy import export

    written = export(args.model, args.output, format=args.format, quantize=args.quantize)
    print(f"{args.format} export written to {written}")


def _add_export_parser(commands) -> None:
    export = commands.add_parser(
        "export", help="export a model with its label names: SavedModel (TF Serving), ONNX or LiteRT")
    export.add_argument("model", help=".keras or .h5 model file")
    export.add_argument("--format", required=True, choices=["saved_model", "onnx", "litert"])
    export.add_argument("--output", required=True, help="SavedModel folder, .onnx or .tflite file (replaced whole)")
    export.add_argument("--quantize", choices=["dynamic"], help="litert: int8 weights, float activations")
    export.set_defaults(run=_command_export)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `zoo` command."""
    parser = ArgumentParser(prog="zoo", description="Multi-output Keras model zoo.")
    parser.add_argument("--verbose", action="store_true",
                        help="show TensorFlow's start-up lines and per-epoch training logs")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{" + ",".join(COMMANDS) + "}")

    listing = commands.add_parser("list", help="list prebuilt models and backbones")
    listing.add_argument("--params", action="store_true",
                         help="also count each model's parameters (builds every model: about 10 s)")
    listing.set_defaults(run=_command_list)

    demo = commands.add_parser(
        "demo", help="train the two-branch color/type network on synthetic garments, save, reload, predict"
    )
    demo.add_argument("--output", default="zoo-demo", help="output folder (default: %(default)s)")
    demo.add_argument("--image-size", type=int, default=48, help="square image side (default: %(default)s)")
    demo.add_argument("--images-per-pair", type=int, default=40,
                      help="training images per color/type pair (default: %(default)s)")
    demo.add_argument("--epochs", type=int, nargs=2, default=(8, 8), metavar=("STAGE1", "STAGE2"),
                      help="epochs of the two stages (default: 8 8)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                      help="show per-epoch training logs (same as zoo --verbose demo)")
    demo.set_defaults(run=_command_demo)

    weights = commands.add_parser("weights", help="show known weight files and where they are looked up")
    weights.set_defaults(run=_command_weights)

    from zoo import commands as actions

    train = commands.add_parser("train", help="train a model on your labelled images, in stages")
    actions.add_source_arguments(train)
    train.add_argument("--model", default="multilabel_small", help="architecture from `zoo list` (default: %(default)s)")
    plan = train.add_argument_group(
        "plan (chosen from the data and this machine's speed to fit --budget; a flag overrides a choice)")
    plan.add_argument("--budget", type=float, default=10.0, metavar="MINUTES",
                      help="time budget of the run in minutes: processor time (all cores together) without a "
                           "GPU, wall time with one (default: %(default)s)")
    plan.add_argument("--plan", type=Path, metavar="PLAN_JSON", help="repeat the plan.json of an earlier run exactly")
    plan.add_argument("--image-size", type=int, nargs=2, metavar=("HEIGHT", "WIDTH"), help="input size")
    plan.add_argument("--epochs", type=int, help="total epochs (spread over the stages)")
    plan.add_argument("--learning-rate", type=float, help="peak learning rate of the first stage")
    plan.add_argument("--batch-size", type=int)
    plan.add_argument("--no-augment", action="store_true", help="no flip, rotation, zoom, translation, contrast")
    plan.add_argument("--augment", action="store_true", help=argparse.SUPPRESS)  # on by default now
    train.add_argument("--mix", choices=MIX_MODES,
                       help="mix pairs of training images and their targets: mixup (blend, alpha 0.2) or cutmix "
                            "(paste a box, alpha 1.0), after the other augmentations")
    plan.add_argument("--stage", action="append", default=[], metavar="SPEC",
                      help="a training stage, repeatable, replacing the planned ones, e.g. "
                           "epochs=10,trainable=heads,lr=1e-3 then epochs=10,trainable=type:block5_conv1,lr=1e-5; "
                           "fields: epochs, lr, trainable=auto|heads|all|BOUNDARY|BRANCH:BOUNDARY/..., optimizer, "
                           "schedule, warmup, name, loss_weights=HEAD:WEIGHT/... (e.g. color:0.1/type:1)")
    train.add_argument("--weights", default="auto",
                       help="auto (ImageNet where a backbone has it and the file can be had, else random), "
                            "imagenet, none or a weights file (default: %(default)s)")
    train.add_argument("--validation-split", type=float, default=0.2)
    train.add_argument("--no-stratify", action="store_true", help="random instead of multi-label stratified split")
    train.add_argument("--allow-empty", action="store_true",
                       help="images without any label are valid negatives of multilabel heads")
    train.add_argument("--min-count", type=int, metavar="N", help="drop classes with fewer than N images")
    train.add_argument("--precision", choices=PRECISIONS, default="float32",
                       help="mixed_bfloat16 for CPUs with AVX-512 BF16 or AMX and recent GPUs, mixed_float16 for "
                            "GPUs; weights and outputs stay float32 (default: %(default)s)")
    train.add_argument("--no-cache", action="store_true",
                       help="decode the images again every epoch (default: keep them in memory when they fit in 2 GiB)")
    train.add_argument("--loss", choices=TRAINING_LOSSES, default="bce",
                       help="loss of multilabel and binary heads; weighted_bce weighs positives by the training "
                            "split's negatives/positives (default: %(default)s)")
    train.add_argument("--tune-thresholds", choices=["f1", "exact_match", "hamming"],
                       help="tune per-class thresholds on the validation split; report_tuned_cross_fitted.csv "
                            "estimates their effect on unseen images (2-fold cross-fitting)")
    train.add_argument("--format", choices=["keras", "h5"], default="keras", help="model file format")
    train.add_argument("--output", default="zoo_output", help="output folder (default: %(default)s)")
    train.add_argument("--restart", action="store_true",
                       help="start over in an --output folder that holds an interrupted or finished run")
    train.add_argument("--tensorboard", type=Path, metavar="DIR", help="also write a TensorBoard log there")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--on-error", choices=["raise", "skip"], default="raise", help="unreadable images and bad labels")
    train.add_argument("--progress", action="store_true", help="progress bars instead of one line per epoch")
    train.set_defaults(run=actions.train)

    evaluate = commands.add_parser("evaluate", help="report per-head metrics of a saved model on labelled images")
    evaluate.add_argument("model", help=".keras or .h5 model file")
    actions.add_source_arguments(evaluate)
    evaluate.add_argument("--threshold", type=float, help="one threshold for every sigmoid head")
    evaluate.add_argument("--tune-thresholds", choices=["f1", "exact_match", "hamming"],
                          help="tune per-class thresholds on these images first")
    evaluate.add_argument("--save", action="store_true", help="with --tune-thresholds: store them in the model file")
    evaluate.add_argument("--allow-empty", action="store_true",
                          help="images without any label are valid negatives of multilabel heads")
    evaluate.add_argument("--batch-size", type=int, default=32)
    evaluate.add_argument("--tta", choices=TTA_MODES,
                          help="test-time augmentation: average each image's probabilities with its mirror's "
                               "(flip; flip+crops adds 5 crops); thresholds are tuned on the same probabilities")
    evaluate.add_argument("--on-error", choices=["raise", "skip"], default="raise")
    evaluate.add_argument("--output", help="CSV file for the report")
    evaluate.set_defaults(run=actions.evaluate)

    predict = commands.add_parser("predict", help="predict label names for image files or folders")
    predict.add_argument("model", help=".keras or .h5 model file")
    predict.add_argument("inputs", nargs="+", help="image files or folders")
    predict.add_argument("--output", default="predictions.csv", help="CSV file (default: %(default)s)")
    predict.add_argument("--batch-size", type=int, default=32)
    predict.add_argument("--top-k", type=int, metavar="K",
                         help="add per head the K most probable classes with probabilities, e.g. 'sea 0.91; sunset 0.40'")
    predict.add_argument("--on-error", choices=["raise", "skip"], default="raise")
    predict.add_argument("--tta", choices=TTA_MODES, help="test-time augmentation (see zoo evaluate --tta)")
    predict.add_argument("--explain", type=Path, metavar="DIR",
                         help="also write Grad-CAM overlays there: one PNG per image and head, for the top class "
                              "(multiclass) or every class above its threshold")
    predict.set_defaults(run=actions.predict)

    _add_export_parser(commands)
    return parser


# Commands that run Keras: TensorFlow is imported (quietly) only for these.
TENSORFLOW_COMMANDS = ("demo", "train", "evaluate", "predict", "export")
COMMANDS = ("list", "demo", "weights", "train", "evaluate", "predict", "export")


def _images_hint(error: Exception, args) -> str:
    """A hint naming --images when most image files were missing."""
    text = str(error)
    if "cannot be used" not in text or "file not found" not in text:
        return ""
    images = getattr(args, "images", None)
    return ("\nhint: the files were looked up under " + (f"--images {images}" if images else "the working folder")
            + "; --images names the folder that the label file's names are relative to.")


MODEL_FILE_PATTERNS = ("*.keras", "*.h5", "*.hdf5")


def _run(args) -> None:
    """Runs the command; a `zoo train` that fails before writing any model or checkpoint file
    removes the output folder it created (never one that existed before)."""
    output = Path(args.output) if args.command == "train" else None
    created = output is not None and not output.exists()
    try:
        args.run(args)
    except BaseException:
        if created and output.is_dir() and not any(any(output.rglob(p)) for p in MODEL_FILE_PATTERNS):
            shutil.rmtree(output, ignore_errors=True)
        raise


def main(argv=None) -> int:
    """Entry point; returns the exit status. Errors print as one message, not a traceback.

    Arguments, paths, model names and head kinds are checked before any data is read or
    TensorFlow is imported; every error exits with status 1.

    Example:
        >>> main(["train", "--folders", "no-such-folder"])  # doctest: +SKIP
        zoo train: error: --folders: no such folder: 'no-such-folder'
        1
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        validate_arguments(args)
    except UsageError as error:
        print(f"zoo {args.command}: error: {error}", file=sys.stderr)
        return 1
    try:
        if args.command in TENSORFLOW_COMMANDS or getattr(args, "params", False):
            from zoo.quiet import import_tensorflow

            import_tensorflow(verbose=args.verbose)
        _run(args)
    except KeyboardInterrupt:
        print("zoo: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # the command line reports, it does not dump tracebacks
        print(f"zoo {args.command}: error: {error}{_images_hint(error, args)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
