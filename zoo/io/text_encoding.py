"""The text encoding of a table file, told by its byte-order mark (UTF-8 when it has none).

Example:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "labels.csv"
    >>> _ = path.write_text("filename,labels\\na.jpg,sea\\n", encoding="utf-16")
    >>> text_encoding(path)
    'utf-16'
    >>> _ = path.write_text("filename,labels\\n")
    >>> text_encoding(path)
    'utf-8-sig'
"""

from __future__ import annotations

import codecs

BYTE_ORDER_MARKS = (  # the longest first: UTF-32's little-endian mark begins with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def text_encoding(path) -> str:
    """"utf-16" or "utf-32" for a file that begins with their byte-order mark, else "utf-8-sig".

    UTF-16 text without a mark is told by its zero bytes: ASCII text such as
    a header ("f\\0i\\0...") gives "utf-16-le" or "utf-16-be".

    Args:
        path: The file.

    Returns:
        A codec name for `open` or `pandas.read_csv` ("utf-8-sig" also reads
        UTF-8 without a mark).
    """
    with open(path, "rb") as handle:
        start = handle.read(4)
    marked = next((name for mark, name in BYTE_ORDER_MARKS if start.startswith(mark)), None)
    if marked:
        return marked
    if len(start) == 4 and start[1] == start[3] == 0 and start[0] and start[2]:
        return "utf-16-le"
    if len(start) == 4 and start[0] == start[2] == 0 and start[1] and start[3]:
        return "utf-16-be"
    return "utf-8-sig"


def decode_error_message(path, encoding: str, error: UnicodeDecodeError) -> str:
    """What to say about a table file that is not text in `encoding`.

    Example:
        >>> error = UnicodeDecodeError("utf-8", b"\\xff", 0, 1, "invalid start byte")
        >>> decode_error_message("labels.csv", "utf-8-sig", error)  # doctest: +NORMALIZE_WHITESPACE
        "labels.csv is not text in UTF-8: byte 0xff at position 0 (invalid start byte). Save it as UTF-8
        (or UTF-16 with its byte-order mark). Received: encoding='utf-8-sig'"
    """
    byte = error.object[error.start:error.start + 1].hex()
    name = {"utf-8-sig": "UTF-8"}.get(encoding, encoding.upper())
    return (f"{path} is not text in {name}: byte 0x{byte} at position {error.start} ({error.reason}). "
            f"Save it as UTF-8 (or UTF-16 with its byte-order mark). Received: encoding={encoding!r}")
