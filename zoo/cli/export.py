"""`zoo export`: a model with its label names as a SavedModel, ONNX or LiteRT file.

Example:
    $ zoo export zoo_output/model.keras --format onnx --output deploy/model.onnx
    $ zoo export zoo_output/model.keras --format onnx    # zoo_output/model.onnx
"""

from __future__ import annotations


def add_parser(commands) -> None:
    """Adds `zoo export` to the command's subparsers."""
    export = commands.add_parser(
        "export", help="export a model with its label names: SavedModel (TF Serving), ONNX or LiteRT")
    export.add_argument("model", help=".keras, .h5 or .hdf5 model file")
    export.add_argument("--format", required=True, choices=["saved_model", "onnx", "litert"],
                        help="saved_model (a folder for TensorFlow Serving), onnx or litert (a .tflite file)")
    export.add_argument("--output", help="SavedModel folder, .onnx or .tflite file (replaced whole; default: beside "
                                         "the model, named after it: model.onnx, model.tflite, model_saved_model)")
    export.add_argument("--quantize", choices=["dynamic"], help="litert: int8 weights, float activations")
    export.set_defaults(run=run)


def run(args) -> None:
    """Writes the export and names it."""
    from zoo.io.export import export
    from zoo.io.export_targets import default_export_path

    output = args.output or default_export_path(args.model, args.format)
    written = export(args.model, output, format=args.format, quantize=args.quantize)
    print(f"{args.format} export written to {written}")
