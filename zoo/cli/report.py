"""`zoo report`: builds a run's `report.html` again from the files in its folder.

Example:
    $ zoo report zoo_output
"""

from __future__ import annotations

from pathlib import Path

MODEL_FILES = ("model.keras", "model.h5", "best.keras")


def add_parser(commands) -> None:
    """Adds `zoo report` to the command's subparsers."""
    report = commands.add_parser(
        "report", help="write report.html of a run folder again (zoo train and zoo evaluate write it too)")
    report.add_argument("run_dir", metavar="RUN_DIR", help="the folder of a run (zoo train --output), or the "
                                                          "CSV file of zoo evaluate --output")
    report.add_argument("--model", help="model file for the Grad-CAM of the gallery images (default: the "
                                        "run's model.keras, model.h5 or best.keras; none found: no Grad-CAM)")
    report.add_argument("--images", help="folder that relative image file names are looked up under")
    report.add_argument("--gallery", type=int, default=24, metavar="N",
                        help="how many of the highest-loss images to show (default: %(default)s)")
    report.add_argument("--output", help="the HTML file (default: RUN_DIR/report.html)")
    report.set_defaults(run=run)


def model_file(folder: Path, given=None) -> Path | None:
    """The model to explain the gallery images with: `given`, or the first of MODEL_FILES in `folder`."""
    if given:
        return Path(given)
    return next((folder / name for name in MODEL_FILES if (folder / name).is_file()), None)


def run(args) -> None:
    """Reads the run folder, loads its model if there is one, writes the page."""
    given = Path(args.run_dir)
    options = {}
    if given.is_file() and given.suffix == ".csv":  # a `zoo evaluate --output FILE.csv`
        folder = given.parent
        options = {"report_files": [("evaluation", given.name)], "scores": given.with_suffix(".scores.npz"),
                   "output": args.output or given.with_suffix(".html")}
    elif given.is_dir():
        folder = given
        options = {"output": args.output}
    else:
        raise FileNotFoundError(f"RUN_DIR: no such folder: {str(given)!r}")
    path = model_file(folder, args.model)
    model = None
    if path is not None:
        import zoo

        model = zoo.load_model(path, compile=False)
    from zoo.evaluation.html_report import write_report

    written = write_report(folder, model, roots=(args.images,) if args.images else (), gallery=args.gallery,
                           **options)
    print(f"report written to {written}" + ("" if model is not None else " (no model file: no Grad-CAM)"))
