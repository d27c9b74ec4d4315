"""What the package understood of a labelled set before any training: heads, classes, split, images, problems.

`summarize` checks every row and file as `zoo train` does, makes the same split
(same seed, fraction and stratification), and gathers: each head's kind and
delimiter, its classes with their training and validation counts, labels per
image, the most frequent pairs of labels, classes too rare to split, images by
format, mode and size, the rows and files that cannot be used, files listed
more than once, and exact or near-duplicate images (a difference hash) that
land on both sides of the split. `DataSummary.write` puts it in a folder
(`data_summary.json` and CSV files); `lines` is one screen of text,
`short_lines` a few lines.

Example:
    >>> import tempfile, pathlib
    >>> import numpy as np, pandas as pd
    >>> from PIL import Image
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for i in range(6):
    ...     pixels = np.random.default_rng(i).integers(0, 255, (16, 16, 3), dtype=np.uint8)
    ...     Image.fromarray(pixels).save(folder / f"{i}.png")
    >>> df = pd.DataFrame({"filename": [f"{i}.png" for i in range(6)],
    ...                    "tags": [("sea",), ("sea", "sky")] * 3})
    >>> summary = summarize(df, {"tags": "multilabel"}, directory=folder, validation_split=0.34)
    >>> summary.heads["tags"]["classes"]
    {'sea': {'train': 3, 'validation': 3}, 'sky': {'train': 2, 'validation': 1}}
    >>> summary.images["count"], summary.images["modes"]
    (6, {'RGB': 6})
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import itertools
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from zoo.data.duplicates import find_duplicates, head_kinds
from zoo.data.encoding import heads_from_dataframe
from zoo.data.errors import DataError, DataWarning, capped, problem_list
from zoo.data.splits import label_counts, train_validation_split
from zoo.data.tables import FILE_COLUMN, resolve_paths
from zoo.data.validation import check_rows

SUMMARY_FILE = "data_summary.json"
# Near-duplicates: difference hashes at most this many bits apart (of 64), and 32x32 grey thumbnails
# differing by at most this much on average (of 255). A resized or recompressed copy differs by about
# 0.5; two photos of like products on a white background by 5 or more.
NEAR_DUPLICATE_BITS = 10
NEAR_DUPLICATE_DIFFERENCE = 2.5
THUMBNAIL = (32, 32)
# Beyond this many images only identical hashes are compared (all pairs would take too long).
ALL_PAIRS_LIMIT = 20_000
SHOWN = 8
SIZE_BANDS = ((0, "under 64"), (64, "64 to 223"), (224, "224 to 511"), (512, "512 to 1023"), (1024, "1024 or more"))


def fingerprint(path) -> tuple[int, np.ndarray] | None:
    """(64-bit difference hash, 32x32 grey thumbnail as uint8) of an image; None if unreadable.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "grey.png"
        >>> Image.new("L", (40, 30), 128).save(path)
        >>> hash_, thumbnail = fingerprint(path)
        >>> hash_, thumbnail.shape, int(thumbnail.mean())
        (0, (32, 32), 128)
    """
    try:
        with Image.open(path) as image:
            image.draft("L", (64, 64))
            grey = image.convert("L")
            small = np.asarray(grey.resize((9, 8), Image.Resampling.BILINEAR), dtype=np.int16)
            thumbnail = np.asarray(grey.resize(THUMBNAIL, Image.Resampling.BOX), dtype=np.uint8)
    except Exception:  # Pillow raises many types for bad data; the file check names the file
        return None
    bits = (small[:, 1:] < small[:, :-1]).ravel()
    return int(np.packbits(bits).view(">u8")[0]), thumbnail


def file_digest(path) -> str | None:
    """A digest of a file's bytes (exact copies share it); None if unreadable."""
    try:
        with open(path, "rb") as handle:
            return hashlib.blake2b(handle.read(), digest_size=16).hexdigest()
    except OSError:
        return None


_BIT_COUNTS = np.array([bin(i).count("1") for i in range(2**16)], dtype=np.uint8)


def _hamming(hashes: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Bit distances between every hash of `hashes` (rows) and of `others` (columns)."""
    xor = hashes[:, None] ^ others[None, :]
    return _BIT_COUNTS[xor.view(np.uint16).reshape(*xor.shape, 4)].sum(axis=-1, dtype=np.uint8)


def near_duplicate_pairs(hashes, bits: int = NEAR_DUPLICATE_BITS) -> list[tuple[int, int, int]]:
    """(i, j, distance) for every pair of hashes at most `bits` apart, i < j (None hashes skipped).

    Example:
        >>> near_duplicate_pairs([0b1011, 0b1010, 2**40 - 1, None])
        [(0, 1, 1)]
    """
    known = [i for i, h in enumerate(hashes) if h is not None]
    values = np.array([hashes[i] for i in known], dtype=np.uint64)
    pairs = []
    if len(values) > ALL_PAIRS_LIMIT:  # identical hashes only
        groups = collections.defaultdict(list)
        for i, value in zip(known, values.tolist()):
            groups[value].append(i)
        return [(a, b, 0) for members in groups.values() for a, b in itertools.combinations(members, 2)]
    for start in range(0, len(values), 512):
        distances = _hamming(values[start:start + 512], values)
        for row, column in zip(*np.nonzero(distances <= bits)):
            i, j = start + row, column
            if i < j:
                pairs.append((known[i], known[j], int(distances[row, column])))
    return pairs


def _band(width: int, height: int) -> str:
    shorter = min(width, height)
    return [name for floor, name in SIZE_BANDS if shorter >= floor][-1]


@dataclasses.dataclass
class DataSummary:
    """What `summarize` found; `to_dict` is the content of `data_summary.json`.

    Attributes:
        heads: {head: {"kind", "delimiter", "format", "classes": {class: {"train", "validation"}},
            "labels_per_image": {n: images}, "pairs": [[a, b, images], ...], "too_rare_to_split": {class: n}}}.
        images: {"rows", "count", "train", "validation", "formats", "modes", "size_bands", "width", "height",
            "pairs_across_heads": [["head:class", "head:class", images], ...] (with several heads)}.
        problems: {"unusable_files", "label_problems", "not_images", "duplicate_rows", "conflicting_rows",
            "duplicate_images"}: every item, uncapped.
        split: {"validation_split", "seed", "stratify"}.
        counts: `zoo.data.label_counts` of the split (for CSV and PNG).
        files: One row per listed file: file, split, format, mode, width, height, problem.
    """

    heads: dict
    images: dict
    problems: dict
    split: dict
    counts: pd.DataFrame = dataclasses.field(repr=False, default=None)
    files: pd.DataFrame = dataclasses.field(repr=False, default=None)

    def to_dict(self) -> dict:
        return {"heads": self.heads, "images": self.images, "problems": self.problems, "split": self.split}

    def _head_line(self, name: str, info: dict) -> str:
        kind = info["kind"]
        written = {"delimited": f"labels joined by {info['delimiter']!r}", "literal": "Python list cells",
                   "single": "one label per cell"}.get(info.get("format"), "")
        per_image = info["labels_per_image"]
        spread = f", {min(per_image)} to {max(per_image)} labels per image" if per_image and kind == "multilabel" \
            else ""
        return f"Head {name!r}: {kind}, {len(info['classes'])} classes{', ' + written if written else ''}{spread}"

    def short_lines(self) -> list[str]:
        """A few lines: the heads, the split and the problems."""
        lines = [self._head_line(name, info) for name, info in self.heads.items()]
        lines.append(self._split_line())
        problems = self._problem_counts()
        if problems:
            lines.append("Found: " + "; ".join(problems))
        return lines

    def _split_line(self) -> str:
        images = self.images
        skipped = images["rows"] - images["count"]
        return (f"{images['rows']} rows, {images['count']} usable images"
                + (f" ({skipped} rows left out)" if skipped > 0 else "")
                + f": {images['train']} training, {images['validation']} validation"
                + (f" (validation split {self.split['validation_split']}, seed {self.split.get('seed')}"
                   f"{', stratified' if self.split.get('stratify') else ''})" if self.split else ""))

    def _problem_counts(self) -> list[str]:
        p = collections.defaultdict(list, self.problems)
        crossing = [d for d in p["duplicate_images"] if {d["split_a"], d["split_b"]} == {"train", "validation"}]
        named = [(len(p["skipped_rows"]), "row(s) or file(s) skipped (--on-error skip)"),
                 (len(p["unusable_files"]), "unusable image file(s)"),
                 (len(p["label_problems"]), "row(s) with label problems"),
                 (len(p["not_images"]), "file(s) that are not images"),
                 (len(p["duplicate_rows"]), "file(s) listed more than once (merged)"),
                 (len(p["conflicting_rows"]), "file(s) listed with conflicting labels"),
                 (len(crossing), "exact or near-duplicate image pair(s) on both sides of the split")]
        return [f"{n} {what}" for n, what in named if n]

    def lines(self) -> list[str]:
        """One screen of text: every head, the images, the problems (each list capped)."""
        lines = [self._split_line()]
        for name, info in self.heads.items():
            lines.append(self._head_line(name, info))
            classes = sorted(info["classes"].items(), key=lambda item: -(item[1]["train"] + item[1]["validation"]))
            lines.append("  classes (training/validation): "
                         + capped((f"{c} {n['train']}/{n['validation']}" for c, n in classes), limit=SHOWN))
            if info["kind"] == "multilabel" and info["labels_per_image"]:
                lines.append("  labels per image: " + ", ".join(
                    f"{n}: {count}" for n, count in sorted(info["labels_per_image"].items(), key=lambda i: int(i[0]))))
            if info["pairs"]:
                lines.append("  most frequent pairs: " + capped(
                    (f"{a} + {b} ({n})" for a, b, n in info["pairs"]), limit=5))
            if info["too_rare_to_split"]:
                lines.append("  too rare to split (training only): " + capped(
                    f"{c} ({n})" for c, n in info["too_rare_to_split"].items()))
        images = self.images
        if images.get("pairs_across_heads"):
            lines.append("Most frequent pairs across heads: " + capped(
                (f"{a} + {b} ({n})" for a, b, n in images["pairs_across_heads"]), limit=4))
        if images["count"]:
            lines.append("Images: " + ", ".join(f"{k} {v}" for k, v in images["formats"].items()) + "; "
                         + ", ".join(f"{k} {v}" for k, v in images["modes"].items()) + "; "
                         + f"width {images['width']['min']} to {images['width']['max']}, height "
                         f"{images['height']['min']} to {images['height']['max']}; shorter side "
                         + ", ".join(f"{k}: {v}" for k, v in images["size_bands"].items()))
        p = collections.defaultdict(list, self.problems)
        for title, key in (("Skipped rows or files", "skipped_rows"), ("Unusable image files", "unusable_files"),
                           ("Rows with label problems", "label_problems"),
                           ("Not images (skipped by zoo train --folders and zoo predict)", "not_images"),
                           ("Files listed more than once", "duplicate_rows"),
                           ("Files listed with conflicting labels", "conflicting_rows")):
            if p[key]:
                lines.append(f"{title}: {len(p[key])}\n{problem_list(p[key], limit=3)}")
        crossing = [d for d in p["duplicate_images"] if {d["split_a"], d["split_b"]} == {"train", "validation"}]
        if p["duplicate_images"]:
            shown = problem_list((f"{d['file_a']} ({d['split_a']}) ~ {d['file_b']} ({d['split_b']}), "
                                  + ("identical files" if d["exact"] else f"mean difference {d['difference']}")
                                  for d in crossing), limit=3)
            lines.append(f"Exact or near-duplicate image pairs: {len(p['duplicate_images'])}, {len(crossing)} of them "
                         "on both sides of the split" + (f"\n{shown}" if crossing else ""))
        return lines

    def write(self, folder) -> list[str]:
        """Writes `data_summary.json`, `label_counts.csv`, `images.csv`, `duplicate_images.csv` and
        `problems.txt` (every problem); returns the names written (`zoo inspect` adds `label_counts.png`)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = [SUMMARY_FILE]
        (folder / SUMMARY_FILE).write_text(json.dumps(self.to_dict(), indent=1, default=_jsonable) + "\n")
        if self.counts is not None:
            self.counts.to_csv(folder / "label_counts.csv")
            written.append("label_counts.csv")
        if self.files is not None:
            self.files.to_csv(folder / "images.csv", index=False)
            written.append("images.csv")
        columns = ["file_a", "split_a", "file_b", "split_b", "exact", "difference"]
        pd.DataFrame(self.problems["duplicate_images"], columns=columns).to_csv(folder / "duplicate_images.csv",
                                                                                 index=False)
        written.append("duplicate_images.csv")
        lines = [f"{key}: {item}" for key, items in self.problems.items() if key != "duplicate_images"
                 for item in items]
        (folder / "problems.txt").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        written.append("problems.txt")
        return written


def _jsonable(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return str(value)


def _head_summary(name, kind, label_format, train, validation, rare) -> dict:
    rows = pd.concat([train, validation])
    classes = sorted({c for labels in rows[name] for c in labels})
    per_image = collections.Counter(len(labels) for labels in rows[name])
    pairs = collections.Counter(pair for labels in rows[name]
                                for pair in itertools.combinations(sorted(set(labels)), 2))
    return {
        "kind": kind,
        "format": label_format.kind if label_format is not None else None,
        "delimiter": label_format.delimiter if label_format is not None else None,
        "classes": {c: {"train": int(sum(c in labels for labels in train[name])),
                        "validation": int(sum(c in labels for labels in validation[name]))} for c in classes},
        "labels_per_image": {str(n): count for n, count in sorted(per_image.items())},
        "pairs": [[a, b, n] for (a, b), n in pairs.most_common(20)],
        "too_rare_to_split": {str(c): int(n) for c, n in rare.get(name, {}).items()},
    }


def _stats(values) -> dict:
    values = np.asarray(values)
    if not len(values):
        return {"min": 0, "median": 0, "max": 0}
    return {"min": int(values.min()), "median": float(np.median(values)), "max": int(values.max())}


def summarize(df: pd.DataFrame, kinds, directory=None, validation_split: float = 0.2, stratify: bool = True,
              seed: int = 0, allow_empty: bool = False, check: str = "full", not_images=(),
              duplicates: bool = True) -> DataSummary:
    """Checks a labelled table and its images as `zoo train` does and summarizes them; trains nothing.

    Rows and files that cannot be used are left out and listed (as with
    `on_error="skip"`); the rest is split as `train_validation_split` splits it.

    Args:
        df: Normalized DataFrame (`zoo.data.sources`); `attrs["label_formats"]` is reported when present.
        kinds: {head: kind}, or heads.
        directory: Base folder of relative file names.
        validation_split: Fraction held out for validation.
        stratify: Stratified split (as `zoo train` without --no-stratify).
        seed: The split's seed.
        allow_empty: Rows without a label are valid for multilabel heads.
        check: "full" decodes every file, "header" reads headers only.
        not_images: Files found beside the images that are not images (from_folders' `attrs["not_images"]`).
        duplicates: Look for exact and near-duplicate images (reads every file once more).

    Returns:
        A `DataSummary`.
    """
    kinds = head_kinds(kinds)
    heads = heads_from_dataframe(df, kinds)
    table, conflicts, notes = find_duplicates(df, heads, directory)
    checked = check_rows(table, heads, directory, check=check, allow_empty=allow_empty)
    usable = table.iloc[np.flatnonzero(checked.ok)]
    if len(usable) < 2:
        raise DataError(f"{len(usable)} of {len(df)} row(s) can be used; too few to split.\n"
                        + checked.message(conflicts))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        train, validation = train_validation_split(usable, heads, validation_split, stratify=stratify, seed=seed)
    problems = {"unusable_files": checked.file_problems, "label_problems": checked.label_problems,
                "not_images": [str(p) for p in not_images], "duplicate_rows": list(notes),
                "conflicting_rows": list(conflicts)}
    split = {"validation_split": validation_split, "seed": seed, "stratify": stratify}
    return _summary(table, checked.images, checked.ok, train, validation, heads, df.attrs.get("label_formats", {}),
                    len(df), problems, split, directory, duplicates)


def summarize_split(train: pd.DataFrame, validation: pd.DataFrame, heads, directory=None, label_formats=None,
                    rows: int | None = None, problems: dict | None = None, split: dict | None = None,
                    duplicates: bool = True) -> DataSummary:
    """The summary of a split already made (`zoo train`): file headers are read, nothing is decoded twice.

    Args:
        train: The training rows.
        validation: The validation rows.
        heads: The heads.
        directory: Base folder of relative file names.
        label_formats: {head: LabelFormat} as detected when the table was read.
        rows: How many rows the label source had (default: both parts).
        problems: What was left out before the split ({"skipped_rows": [...], "duplicate_rows": [...], ...}).
        split: {"validation_split", "seed", "stratify"}.
        duplicates: Look for exact and near-duplicate images.

    Returns:
        A `DataSummary`.
    """
    from zoo.data.image_checks import check_images
    from zoo.models.heads import as_heads

    heads = as_heads(heads)
    table = pd.concat([train, validation])
    images = check_images(resolve_paths(table, directory), check="header")
    problems = {"unusable_files": [], "label_problems": [], "not_images": [], "duplicate_rows": [],
                "conflicting_rows": [], **(problems or {})}
    return _summary(table, images, images.ok, train, validation, heads, label_formats or {},
                    len(table) if rows is None else rows, problems, split or {}, directory, duplicates)


def _summary(table, images, ok, train, validation, heads, formats, rows, problems, split, directory,
             duplicates) -> DataSummary:
    rare = train.attrs.get("rare_classes", {})
    split_of = {label: "train" for label in train.index} | {label: "validation" for label in validation.index}
    paths = resolve_paths(table, directory)
    sizes = images.sizes or [(0, 0)] * len(paths)
    files = pd.DataFrame({
        "file": table[FILE_COLUMN].astype(str).to_numpy(),
        "split": [split_of.get(label, "left out") for label in table.index],
        "format": images.formats or [""] * len(paths), "mode": images.modes or [""] * len(paths),
        "width": [w for w, _ in sizes], "height": [h for _, h in sizes],
        "problem": [images.problems.get(p, "") for p in paths],
    })
    used = files[np.asarray(ok, dtype=bool) & files["split"].isin(["train", "validation"]).to_numpy()]
    summary_images = {
        "rows": int(rows), "count": int(len(train) + len(validation)), "train": int(len(train)),
        "validation": int(len(validation)),
        "formats": dict(collections.Counter(used["format"]).most_common()),
        "modes": dict(collections.Counter(used["mode"]).most_common()),
        "size_bands": {name: int(n) for name, n in collections.Counter(
            _band(w, h) for w, h in zip(used["width"], used["height"])).most_common()},
        "width": _stats(used["width"]), "height": _stats(used["height"]),
    }
    if len(heads) > 1:
        both = pd.concat([train, validation])
        across = collections.Counter(
            pair for labels in zip(*(both[h.name] for h in heads))
            for pair in itertools.combinations([f"{h.name}:{c}" for h, cell in zip(heads, labels) for c in cell], 2)
            if pair[0].split(":", 1)[0] != pair[1].split(":", 1)[0])
        summary_images["pairs_across_heads"] = [[a, b, n] for (a, b), n in across.most_common(20)]
    used_paths = [paths[i] for i in np.flatnonzero(files.index.isin(used.index))]
    problems = dict(problems)
    problems["duplicate_images"] = _duplicate_images(used_paths, used) if duplicates else []
    heads_summary = {h.name: _head_summary(h.name, h.kind, formats.get(h.name), train, validation, rare)
                     for h in heads}
    counts = label_counts({"train": train, "validation": validation}, heads)
    return DataSummary(heads_summary, summary_images, problems, dict(split), counts, files)


def _duplicate_images(paths: list, used: pd.DataFrame) -> list[dict]:
    """Pairs of usable images that are identical files or whose difference hashes are a few bits apart."""
    names, splits = used["file"].tolist(), used["split"].tolist()
    digests = [file_digest(p) for p in paths]
    prints = [fingerprint(p) for p in paths]
    hashes = [None if found is None else found[0] for found in prints]
    found = {}
    groups = collections.defaultdict(list)
    for i, digest in enumerate(digests):
        if digest is not None:
            groups[digest].append(i)
    for members in groups.values():
        for a, b in itertools.combinations(members, 2):
            found[(a, b)] = (True, 0)
    for a, b, distance in near_duplicate_pairs(hashes):
        difference = np.abs(prints[a][1].astype(np.int16) - prints[b][1]).mean()
        if difference <= NEAR_DUPLICATE_DIFFERENCE:
            found.setdefault((a, b), (False, round(float(difference), 2)))
    return [{"file_a": names[a], "split_a": splits[a], "file_b": names[b], "split_b": splits[b],
             "exact": exact, "difference": difference} for (a, b), (exact, difference) in sorted(found.items())]
