"""`zoo inspect`: what zoo understood of labelled images before any training, on one screen and in files.

Example:
    $ zoo inspect --csv labels.csv --images train --extension .jpg --output data_check
"""

from __future__ import annotations

from pathlib import Path

from zoo.cli.sources import add_min_count_argument, add_source_arguments


def add_parser(commands) -> None:
    """Adds `zoo inspect` to the command's subparsers."""
    inspect = commands.add_parser(
        "inspect", help="show how the labels are read, the planned split, the images and their problems; "
                        "trains nothing")
    add_source_arguments(inspect)
    inspect.add_argument("--validation-split", type=float, default=0.2,
                         help="as zoo train: the split shown is the one it would make (default: %(default)s)")
    inspect.add_argument("--no-stratify", action="store_true", help="as zoo train: a random split")
    inspect.add_argument("--seed", type=int, default=0, help="as zoo train (default: %(default)s)")
    inspect.add_argument("--allow-empty", action="store_true",
                         help="images without any label are valid negatives of multilabel heads")
    add_min_count_argument(inspect)
    inspect.add_argument("--no-duplicates", action="store_true",
                         help="do not look for exact and near-duplicate images (each file is read once more)")
    inspect.add_argument("--output", default="zoo_inspect",
                         help="folder for data_summary.json, label_counts.csv/.png, images.csv, "
                              "duplicate_images.csv, problems.txt (default: %(default)s)")
    inspect.set_defaults(run=run)


def run(args) -> None:
    """`zoo inspect`: label source -> checks and planned split -> one screen of text and files in --output."""
    from zoo.cli.sources import drop_rare_classes, load_source
    from zoo.data.inspect import summarize

    df, kinds = load_source(args)
    df = drop_rare_classes(args, df, kinds)  # before the checks and the split, as zoo train
    summary = summarize(df, kinds, directory=args.images, validation_split=args.validation_split,
                        stratify=not args.no_stratify, seed=args.seed, allow_empty=args.allow_empty,
                        not_images=df.attrs.get("not_images", ()), duplicates=not args.no_duplicates)
    print("\n".join(summary.lines()))
    written = summary.write(Path(args.output))
    if len(summary.counts):
        from zoo.evaluation.plots import plot_label_counts

        plot_label_counts(summary.counts, Path(args.output) / "label_counts.png")
        written.insert(written.index("label_counts.csv") + 1, "label_counts.png")
    print(f"Written to {args.output}/: {', '.join(written)}")
