"""Errors and warnings about labelled data, shared by the data modules.

Example:
    >>> from zoo.data.errors import DataError, problem_list
    >>> print(problem_list(["a", "b", "c"], limit=2))
      a
      b
      ... and 1 more
    >>> capped(["a", "b", "c"], limit=2)
    'a, b ... and 1 more'
    >>> issubclass(DataError, ValueError)
    True
"""

from __future__ import annotations

MESSAGE_LIMIT = 20
INLINE_LIMIT = 10


class DataError(ValueError):
    """Images or labels that cannot be used; the message lists them all."""


class DataWarning(UserWarning):
    """Labelled data that was changed to be usable (duplicates merged, rare classes kept apart)."""


def problem_list(messages, limit: int = MESSAGE_LIMIT) -> str:
    """Indented lines, at most `limit` of them, then "... and N more".

    Args:
        messages: One message per problem.
        limit: How many lines are shown.

    Returns:
        The lines joined by newlines.

    Example:
        >>> problem_list(["x"])
        '  x'
    """
    messages = list(messages)
    lines = [f"  {m}" for m in messages[:limit]]
    if len(messages) > limit:
        lines.append(f"  ... and {len(messages) - limit} more")
    return "\n".join(lines)


def capped(items, limit: int = INLINE_LIMIT, separator: str = ", ") -> str:
    """Items on one line, at most `limit` of them, then "... and N more".

    Args:
        items: Strings (or anything `str` shows).
        limit: How many are shown.
        separator: Put between them.

    Returns:
        The joined items.

    Example:
        >>> capped(range(25), limit=3)
        '0, 1, 2 ... and 22 more'
    """
    items = list(items)
    shown = separator.join(str(item) for item in items[:limit])
    return shown + (f" ... and {len(items) - limit} more" if len(items) > limit else "")
