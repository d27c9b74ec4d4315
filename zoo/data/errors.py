"""Errors and warnings about labelled data, shared by the data modules.

Example:
    >>> from zoo.data.errors import DataError, problem_list
    >>> print(problem_list(["a", "b", "c"], limit=2))
      a
      b
      ... and 1 more
    >>> issubclass(DataError, ValueError)
    True
"""

from __future__ import annotations

MESSAGE_LIMIT = 20


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
