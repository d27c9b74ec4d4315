"""What `zoo train` and `zoo evaluate` print and write: report tables, the summary, what to run next.

Example:
    >>> import pandas as pd
    >>> report = {"tags": {"summary": {"samples": 2, "micro_f1": 0.5},
    ...                    "per_class": pd.DataFrame([{"class": "sea", "f1": 0.5}])}}
    >>> report_frame(report)[["head", "class"]].values.tolist()
    [['tags', '(all)'], ['tags', 'sea']]
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from zoo.cli.sources import source_flags

if TYPE_CHECKING:
    import pandas as pd


def print_report(report: dict) -> None:
    """Prints each head's summary and per-class table."""
    import pandas as pd

    from zoo.evaluation.report import summary_table

    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.precision", 4):
        print(summary_table(report).to_string())
        for name, part in report.items():
            print(f"\n{name}:")
            print(part["per_class"].to_string(index=False))


def report_frame(report: dict) -> pd.DataFrame:
    """All heads' per-class rows and summaries in one CSV-ready table."""
    import pandas as pd

    frames = []
    for name, part in report.items():
        rows = part["per_class"].copy()
        rows.insert(0, "head", name)
        summary = pd.DataFrame([{"head": name, "class": "(all)", **part["summary"]}])
        frames.extend([summary, rows])
    return pd.concat(frames, ignore_index=True)


def print_summary(reports: dict, model, written, output: Path, model_path: Path, args, took: str) -> None:
    """The figures (every report side by side), thresholds by class, the files, and what to run next."""
    import numpy as np
    import pandas as pd

    from zoo.models.heads import thresholded
    from zoo.models.metadata import heads_of

    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.precision", 4):
        print("\nValidation split:")
        print(side_by_side(reports).to_string())
        final = list(reports.values())[-1]
        for name, part in final.items():
            print(f"\n{name}:")
            print(part["per_class"].to_string(index=False))
    for head in thresholded(heads_of(model)) if args.tune_thresholds else ():
        pairs = ", ".join(f"{c} {t:.2f}" for c, t in zip(head.classes, np.ravel(head.threshold)))
        print(f"thresholds of {head.name} ({args.tune_thresholds}): {pairs}")
    print(f"\nDone in {took}. Written to {output}/: {', '.join(written)}")
    source = shlex.join(source_flags(args))
    model_path, onnx = shlex.quote(str(model_path)), shlex.quote(str(output / "model.onnx"))
    print("Next:\n"
          f"  zoo evaluate {model_path} {source}    # on other labelled images\n"
          f"  zoo predict {model_path} PHOTOS/ --output predictions.csv\n"
          f"  zoo export {model_path} --format onnx --output {onnx}")


def side_by_side(reports: dict) -> pd.DataFrame:
    """One row per head and report, the main figures as columns."""
    import pandas as pd

    from zoo.evaluation.report import summary_table

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
