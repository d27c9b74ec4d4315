"""The label-source options of `zoo train` and `zoo evaluate`, and the table they name.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_source_arguments(parser)
    >>> args = parser.parse_args(["--folders", "clothing", "--separator", "_", "--heads", "color", "type"])
    >>> args.allow_empty = False
    >>> source_flags(args)
    ['--folders', 'clothing', '--separator', '_', '--heads', 'color', 'type']
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def add_min_count_argument(parser: argparse.ArgumentParser) -> None:
    """Adds `--min-count N` (drop classes with fewer than N images), as `zoo train` and `zoo inspect` read it."""
    parser.add_argument("--min-count", type=int, metavar="N", help="drop classes with fewer than N images")


def drop_rare_classes(args, df: pd.DataFrame, heads) -> pd.DataFrame:
    """`--min-count N`: the rows without the classes of fewer than N images (`heads`: heads or {head: kind}),
    the classes dropped said on the output."""
    from zoo import data

    if not getattr(args, "min_count", None):
        return df
    df, dropped = data.drop_rare_classes(df, heads, args.min_count, allow_empty=getattr(args, "allow_empty", False))
    print(f"--min-count {args.min_count}: {dropped}")
    return df


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
    from zoo.data.errors import capped

    name = (args.heads or [None])[0]
    allow_empty = getattr(args, "allow_empty", False)
    if args.csv:
        columns = list(data.tables.read_table(args.csv, nrows=0).columns)
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
            print(f"Not label columns (not all 0/1), ignored: {capped(df.attrs['ignored_columns'])}")
    elif args.voc:
        df = data.from_voc(args.voc, images_dir=args.images, head=name or "objects")
    else:
        with warnings.catch_warnings():  # said below, with every file named
            warnings.filterwarnings("ignore", "Left out .* not images", data.DataWarning)
            df = data.from_folders(args.folders, heads=args.heads or ["label"], separator=args.separator)
        if df.attrs.get("not_images"):
            from zoo.data.errors import problem_list
            from zoo.data.image_files import NOT_AN_IMAGE

            others = df.attrs["not_images"]
            print(f"Skipped {len(others)} file(s) that are not images:\n"
                  + problem_list(f"{path}: {NOT_AN_IMAGE}" for path in others))
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


def checked_rows(args, df: pd.DataFrame, heads, output: Path | None = None) -> tuple[pd.DataFrame, list]:
    """Drops rare classes (`--min-count`), merges repeated files and checks every label and file at once.

    Lists on screen are capped; with `output`, the full lists of skipped and merged rows are written
    there (`skipped.txt`, `duplicates.txt`).
    """
    from zoo import data
    from zoo.data.errors import problem_list

    if getattr(args, "min_count", None):
        df = drop_rare_classes(args, df, heads)
        heads = data.heads_from_dataframe(df, {h.name: h.kind for h in heads})
    source = {"label_formats": df.attrs.get("label_formats", {}), "rows": len(df),
              "not_images": list(df.attrs.get("not_images", []))}
    checked = data.validate(df, heads, directory=args.images, allow_empty=getattr(args, "allow_empty", False),
                            on_error=args.on_error)
    checked.rows.attrs["source"] = dict(source, skipped=list(checked.skipped), merged=list(checked.merged))
    if checked.skipped:
        print(f"Skipped {len(checked.skipped)} row(s) or file(s) (--on-error skip):\n"
              + problem_list(checked.skipped) + full_list(output, "skipped.txt", checked.skipped))
    if checked.merged and output is not None:
        print(f"{len(checked.merged)} file(s) listed more than once were merged"
              + full_list(output, "duplicates.txt", checked.merged))
    return checked.rows, heads


def print_summary(args, df: pd.DataFrame, heads, train_rows, validation_rows, output: Path | None) -> list[str]:
    """Prints the short form of `zoo inspect`'s summary of the planned split; with `output`, writes
    `data_summary.json` (and `images.csv`, `duplicate_images.csv`, `problems.txt`) there and returns
    the names written."""
    from zoo.data.inspect import summarize_split

    source = df.attrs.get("source", {})
    problems = {"skipped_rows": source.get("skipped", []), "duplicate_rows": source.get("merged", []),
                "not_images": source.get("not_images", [])}
    split = {"validation_split": args.validation_split, "seed": args.seed, "stratify": not args.no_stratify}
    try:
        summary = summarize_split(train_rows, validation_rows, heads, directory=args.images,
                                  label_formats=source.get("label_formats"), rows=source.get("rows"),
                                  problems=problems, split=split)
        print("\n".join(summary.short_lines()))
        return summary.write(output) if output is not None else []
    except (OSError, ValueError) as error:  # the summary informs; it never stops a run
        print(f"Warning: no data summary ({type(error).__name__}: {error})")
        return []


def full_list(output: Path | None, name: str, lines) -> str:
    """Writes `lines` to `output/name` (when `output` is given) and says where, for a message."""
    if output is None:
        return ""
    path = Path(output) / name
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return f"\n  (all of them in {path})"


def source_flags(args) -> list[str]:
    """The label-source flags the user gave, to repeat in a suggested command."""
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
