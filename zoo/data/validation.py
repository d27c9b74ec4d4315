"""Checks of a whole labelled table before any split: labels, duplicates and image files together.

Example:
    >>> import pandas as pd
    >>> import zoo
    >>> df = pd.DataFrame({"filename": ["/no/a.jpg", "/no/b.jpg"], "tags": [("sea",), ("snow",)]})
    >>> try:
    ...     zoo.data.validate(df, [zoo.Head("tags", ["sea"])])
    ... except zoo.data.DataError as error:
    ...     print(error)
    3 problem(s) in 2 row(s):
    1 of 2 row(s) have label problems:
      Row 1 (/no/b.jpg): label(s) ['snow'] not in the classes of head 'tags' ['sea']
    2 of 2 image file(s) cannot be used:
      /no/a.jpg: file not found
      /no/b.jpg: file not found
    Fix them, or pass on_error='skip' (--on-error skip) to leave them out and count them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from zoo.data.encoding import ON_ERROR, Encoded, encode, label_problems_message
from zoo.data.duplicates import (  # noqa: F401  (head_kinds, merge_duplicates: importable from here too)
    conflicts_message, find_duplicates, head_kinds, merge_duplicates, warn_merged)
from zoo.data.errors import DataError
from zoo.data.image_checks import ImageCheck, check_images
from zoo.data.tables import resolve_paths
from zoo.models.heads import as_heads


SKIP_HINT = "Fix them, or pass on_error='skip' (--on-error skip) to leave them out and count them."


@dataclasses.dataclass
class RowCheck:
    """The labels of every row and the image file of every row, checked.

    Attributes:
        encoded: `encode(..., on_error="skip")` of the rows.
        images: `check_images` of every row's file.
    """

    encoded: Encoded
    images: ImageCheck

    @property
    def label_problems(self) -> list:
        """One message per row with bad labels."""
        return list(self.encoded.skipped)

    @property
    def file_problems(self) -> list:
        """One message per unusable file."""
        return [f"{path}: {reason}" for path, reason in self.images.problems.items()]

    @property
    def ok(self) -> np.ndarray:
        """Per row: labels and file both usable."""
        ok = np.zeros(len(self.images.paths), dtype=bool)
        ok[self.encoded.kept] = True
        return ok & self.images.ok

    def kept_images(self) -> ImageCheck:
        """The `ImageCheck` of the rows whose labels are usable, in their order."""
        kept = self.encoded.kept
        paths = [self.images.paths[i] for i in kept]
        problems = {p: self.images.problems[p] for p in paths if p in self.images.problems}
        images = self.images
        return ImageCheck(paths, problems, images.needs_pillow[kept],
                          formats=[images.formats[i] for i in kept] if images.formats else [],
                          modes=[images.modes[i] for i in kept] if images.modes else [],
                          orientations=images.orientations[kept] if len(images.orientations) else images.orientations,
                          sizes=[images.sizes[i] for i in kept] if images.sizes else [])

    def message(self, conflicts=()) -> str:
        """Every problem of every kind in one message (see `problems_message`)."""
        return problems_message(len(self.images.paths), self.label_problems, self.images, conflicts)


def check_rows(df: pd.DataFrame, heads, directory=None, check: str = "full", allow_empty: bool = False,
               exif_transpose: bool = True) -> RowCheck:
    """Checks the labels of every row and the image file of every row; raises nothing.

    Args:
        df: Normalized DataFrame.
        heads: List of `zoo.Head` (may be empty: files only).
        directory: Base folder of relative file names.
        check: "full", "header" or "none" (see `check_images`).
        allow_empty: Accept rows with no label for multilabel heads.
        exif_transpose: Record each file's EXIF orientation (see `check_images`).

    Returns:
        A `RowCheck`.

    Example:
        >>> check_rows(pd.DataFrame({"filename": ["/no/a.jpg"]}), []).file_problems
        ['/no/a.jpg: file not found']
    """
    encoded = encode(df, heads, on_error="skip", allow_empty=allow_empty)
    return RowCheck(encoded, check_images(resolve_paths(df, directory), check=check, exif_transpose=exif_transpose))


def problems_message(rows: int, label_problems, images: ImageCheck, conflicts=()) -> str:
    """One message for every kind of problem, each list capped at 20 lines."""
    parts = []
    if conflicts:
        parts.append(conflicts_message(conflicts))
    if label_problems:
        parts.append(label_problems_message(label_problems, rows))
    if images.problems:
        parts.append(images.summary())
    total = len(conflicts) + len(label_problems) + len(images.problems)
    if label_problems or images.problems:
        parts.append(SKIP_HINT)
    return f"{total} problem(s) in {rows} row(s):\n" + "\n".join(parts)


@dataclasses.dataclass
class Validation:
    """What `validate` found.

    Attributes:
        rows: The rows to use: one per file, bad rows left out (with
            `on_error="skip"`), original index kept.
        skipped: One message per row or file left out.
        merged: One message per file listed more than once and merged.
    """

    rows: pd.DataFrame
    skipped: list
    merged: list


def validate(
    df: pd.DataFrame,
    heads,
    directory=None,
    allow_empty: bool = False,
    check: str = "full",
    on_error: str = "raise",
) -> Validation:
    """Checks a whole labelled table before any split: every row's labels and every image file.

    Files listed twice are merged first (see `find_duplicates`); then the
    labels of every row are checked against the heads and every file is
    opened (`check_images`). Every problem of every kind is reported in one
    `DataError`, or, with `on_error="skip"`, the bad rows are left out.

    Args:
        df: Normalized DataFrame (`zoo.data.sources`).
        heads: `zoo.Head` list or `{name: classes}` (multilabel).
        directory: Base folder of relative file names.
        allow_empty: Accept rows with no label for multilabel heads.
        check: "full" decodes every file, "header" reads headers, "none" skips files.
        on_error: "raise" or "skip".

    Returns:
        A `Validation`: the rows to use, the skipped messages, the merges.

    Raises:
        DataError: With `on_error="raise"`, listing every bad row and file.

    Example:
        >>> import zoo
        >>> df = pd.DataFrame({"filename": ["/no/a.jpg"], "tags": [("sea",)]})
        >>> result = validate(df, [zoo.Head("tags", ["sea"])], on_error="skip")
        >>> len(result.rows), result.skipped
        (0, ['/no/a.jpg: file not found'])
    """
    if on_error not in ON_ERROR:
        raise ValueError(f"`on_error` must be one of {ON_ERROR}. Received: on_error={on_error!r}")
    heads = as_heads(heads)
    table, conflicts, notes = find_duplicates(df, heads, directory)
    warn_merged(notes)
    checked = check_rows(table, heads, directory, check, allow_empty)
    problems = checked.label_problems + checked.file_problems
    if (conflicts or problems) and on_error == "raise":
        raise DataError(problems_message(len(df), checked.label_problems, checked.images, conflicts))
    return Validation(table.iloc[np.flatnonzero(checked.ok)], list(conflicts) + problems, notes)
