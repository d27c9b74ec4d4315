"""The pieces of a self-contained HTML page: style, script, tables, embedded images, any JSON.

Everything is inline (no file, server or network is needed to open the page); tables marked
`sortable` sort by the column whose header is clicked, numbers as numbers.

Example:
    >>> print(table(["class", "f1"], [["a", 0.5]], sortable=True))  # doctest: +NORMALIZE_WHITESPACE
    <table class="sortable"><thead><tr><th>class</th><th>f1</th></tr></thead><tbody><tr><td data-value="a">a</td><td
    class="num" data-value="0.5">0.5000</td></tr></tbody></table>
"""

from __future__ import annotations

import base64
import html
import io
import math
import numbers

import numpy as np

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:14px 28px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#c8cdd8;font-size:13px}
nav{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid #dde1e8;padding:6px 28px}
nav a{margin-right:16px;color:#2456a6;text-decoration:none;font-size:13px}
main{padding:8px 28px 40px;max-width:1400px}
section{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:12px 18px;margin:16px 0}
h2{font-size:17px;margin:4px 0 10px}h3{font-size:15px;margin:16px 0 6px}
p.note{color:#5a6272;font-size:12.5px;margin:4px 0 8px}
.scroll{overflow:auto;max-height:640px}
table{border-collapse:collapse;font-size:12.5px;margin:4px 0}
th,td{border:1px solid #e2e5eb;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#eef1f5;position:sticky;top:0}
td.num{text-align:right;font-variant-numeric:tabular-nums}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th::after{content:" \\2195";color:#9aa3b2}
table.sortable th[aria-sort=ascending]::after{content:" \\25B2";color:#1d2330}
table.sortable th[aria-sort=descending]::after{content:" \\25BC";color:#1d2330}
table.confusion td{text-align:center;min-width:22px;padding:2px 3px;font-size:11.5px}
table.confusion th.col{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;font-weight:normal}
table.confusion th.row{white-space:nowrap;font-weight:normal;text-align:right;position:sticky;left:0}
dl.json{margin:2px 0;display:grid;grid-template-columns:max-content auto;gap:1px 14px}
dl.json dt{color:#5a6272}dl.json dd{margin:0}
img.figure{max-width:100%;height:auto;border:1px solid #eee}
.gallery{display:flex;flex-wrap:wrap;gap:12px}
.card{border:1px solid #dde1e8;border-radius:6px;padding:6px;min-width:200px;background:#fafbfc;font-size:12px}
.card .pair{display:flex;gap:4px}.card img{width:112px;height:auto;image-rendering:auto}
.card .file{font-family:ui-monospace,monospace;font-size:11px;word-break:break-all;color:#5a6272}
.wrong{color:#b3261e;font-weight:600}.right{color:#1e7b34}
"""

SCRIPT = """
(function () {
  function value(cell) {
    var text = cell.getAttribute("data-value");
    if (text === null) { text = cell.textContent; }
    var number = parseFloat(text);
    return {text: text, number: number, numeric: text !== "" && !isNaN(number) && isFinite(text)};
  }
  function compare(a, b) {
    if (a.numeric && b.numeric) { return a.number - b.number; }
    if (a.numeric !== b.numeric) { return a.numeric ? -1 : 1; }
    return a.text.localeCompare(b.text);
  }
  function sortBy(header) {
    var table = header.closest("table");
    var column = Array.prototype.indexOf.call(header.parentNode.children, header);
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      var a = value(r1.cells[column]), b = value(r2.cells[column]);
      var missingA = a.text === "" || a.text === "nan", missingB = b.text === "" || b.text === "nan";
      if (missingA !== missingB) { return missingA ? 1 : -1; }
      var order = compare(a, b);
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(header.parentNode.children, function (other) { other.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }
  document.querySelectorAll("table.sortable th").forEach(function (header) {
    header.addEventListener("click", function () { sortBy(header); });
  });
})();
"""


def escape(value) -> str:
    """HTML-escaped text of any value."""
    return html.escape(str(value), quote=True)


def is_number(value) -> bool:
    """True for ints and floats (not bools).

    Example:
        >>> is_number(3), is_number(2.5), is_number(True), is_number("4")
        (True, True, False, False)
    """
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


# Columns that hold counts: shown as integers even when a CSV reads them as floats (19.0).
COUNTS = frozenset({"samples", "support", "tp", "fp", "fn", "tn", "train", "validation", "epoch", "epochs",
                    "rank", "images", "count"})


def number_text(value, integer: bool = False) -> str:
    """How a figure is shown: integers (and `integer` counts) whole, others with 4 decimals, NaN as empty.

    Example:
        >>> number_text(19.0, integer=True), number_text(1.0), number_text(0.123456), number_text(float("nan"))
        ('19', '1.0000', '0.1235', '')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (int, np.integer)) or (integer and float(value).is_integer()):
        return str(int(value))
    return f"{float(value):.4f}"


def cell(value, attributes: str = "", integer: bool = False) -> str:
    """One `<td>`: numbers right-aligned, with their exact value in `data-value` (for sorting and checks)."""
    extra = f" {attributes}" if attributes else ""
    if is_number(value):
        exact = "nan" if math.isnan(value) else repr(value.item() if hasattr(value, "item") else value)
        return f'<td class="num" data-value="{escape(exact)}"{extra}>{escape(number_text(value, integer))}</td>'
    return f'<td data-value="{escape(value)}"{extra}>{escape(value)}</td>'


def table(columns, rows, sortable: bool = False, attributes: str = "", raw_cells: bool = False) -> str:
    """A table; cells are values (see `cell`; columns named in COUNTS show integers), or ready `<td>`
    strings with `raw_cells=True`."""
    kind = ' class="sortable"' if sortable else ""
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    counts = [str(c) in COUNTS for c in columns]
    body = "".join("<tr>" + "".join(v if raw_cells else cell(v, integer=i) for v, i in zip(row, counts)) + "</tr>"
                   for row in rows)
    extra = f" {attributes}" if attributes else ""
    return f"<table{kind}{extra}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _scalar(value) -> bool:
    return value is None or isinstance(value, (str, bool, numbers.Real))


def _scalar_text(value) -> str:
    if is_number(value):
        return number_text(value)
    return "" if value is None else str(value)


def json_html(value, depth: int = 0) -> str:
    """Any JSON value as HTML: a mapping of mappings of plain values becomes a table (one row per
    key), other mappings a list of names and values, lists of plain values one line.

    Example:
        >>> json_html({"a": 1, "b": [1, 2]})
        '<dl class="json"><dt>a</dt><dd>1</dd><dt>b</dt><dd>1, 2</dd></dl>'
        >>> json_html({"x": {"train": 3, "validation": 1}, "y": {"train": 2}})  # doctest: +ELLIPSIS
        '<div class="scroll"><table class="sortable"><thead><tr><th></th><th>train</th><th>validation</th>...'
    """
    if _scalar(value):
        return escape(_scalar_text(value))
    if isinstance(value, dict):
        if len(value) > 1 and all(isinstance(v, dict) and v and all(_scalar(x) for x in v.values())
                                  for v in value.values()):
            columns = list(dict.fromkeys(k for v in value.values() for k in v))
            rows = [[key] + [v.get(c, "") for c in columns] for key, v in value.items()]
            return f'<div class="scroll">{table([""] + columns, rows, sortable=True)}</div>'
        items = "".join(f"<dt>{escape(k)}</dt><dd>{json_html(v, depth + 1)}</dd>" for k, v in value.items())
        return f'<dl class="json">{items}</dl>'
    if isinstance(value, (list, tuple)):
        if all(_scalar(v) for v in value):
            return escape(", ".join(_scalar_text(v) for v in value))
        if all(isinstance(v, dict) and all(_scalar(x) for x in v.values()) for v in value):
            columns = list(dict.fromkeys(k for v in value for k in v))
            return table(columns, [[v.get(c, "") for c in columns] for v in value])
        return "<ol>" + "".join(f"<li>{json_html(v, depth + 1)}</li>" for v in value) + "</ol>"
    return escape(value)


def figure_tag(figure, alt: str, dpi: int = 80) -> str:
    """A matplotlib figure as an embedded PNG `<img>`."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img class="figure" alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def thumbnail_tag(image, alt: str, size: int = 120, attributes: str = "") -> str:
    """A (height, width, 3) 0..255 image as an embedded JPEG thumbnail of at most `size` pixels a side.

    Example:
        >>> thumbnail_tag(np.zeros((300, 200, 3)), "x").startswith('<img alt="x" src="data:image/jpeg;base64,')
        True
    """
    from PIL import Image

    picture = Image.fromarray(np.clip(np.asarray(image), 0, 255).astype("uint8"))
    picture.thumbnail((size, size))
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=82)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    extra = f" {attributes}" if attributes else ""
    return f'<img alt="{escape(alt)}" src="data:image/jpeg;base64,{data}"{extra}>'


def page(title: str, subtitle: str, sections: list[tuple[str, str, str]]) -> str:
    """The whole document: a header, a bar of links and the (anchor, heading, html) sections."""
    links = "".join(f'<a href="#{escape(anchor)}">{escape(heading)}</a>' for anchor, heading, _ in sections)
    body = "".join(f'<section id="{escape(anchor)}"><h2>{escape(heading)}</h2>{content}</section>'
                   for anchor, heading, content in sections)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
            f"<header><h1>{escape(title)}</h1><p>{escape(subtitle)}</p></header><nav>{links}</nav>"
            f"<main>{body}</main><script>{SCRIPT}</script></body></html>\n")
