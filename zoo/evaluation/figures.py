"""What every plot shares: writing a figure to a file, and laying out panels in rows.

Example:
    >>> figure = Figure()
    >>> len(panels(figure, rows_of_panels(6))), rows_of_panels(6)
    (6, [3, 3])
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure


def save_figure(figure: Figure, path) -> Path:
    """Writes `figure` to `path` (its folder is made), at 100 dpi, cropped to its content.

    Example:
        >>> import tempfile
        >>> save_figure(Figure(), Path(tempfile.mkdtemp()) / "sub" / "empty.png").name
        'empty.png'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    return path


def rows_of_panels(count: int, most: int = 4) -> list[int]:
    """Panels per row, as even as possible: 5 -> [3, 2], 7 -> [4, 3], 8 -> [4, 4].

    Example:
        >>> rows_of_panels(5), rows_of_panels(8), rows_of_panels(7, most=5)
        ([3, 2], [4, 4], [4, 3])
    """
    rows = -(-count // most)
    return [count // rows + (1 if r < count % rows else 0) for r in range(rows)]


def panels(figure: Figure, per_row: list[int]) -> list:
    """Axes laid out row by row; a shorter row is centred, so no grid cell stays empty.

    Example:
        >>> len(panels(Figure(), [3, 2]))
        5
    """
    widest = max(per_row)
    grid = figure.add_gridspec(len(per_row), 2 * widest)
    laid_out = []
    for row, count in enumerate(per_row):
        offset = widest - count
        laid_out += [figure.add_subplot(grid[row, offset + 2 * c: offset + 2 * c + 2]) for c in range(count)]
    return laid_out
