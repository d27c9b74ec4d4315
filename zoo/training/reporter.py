"""`Reporter`: where a run's lines go, and how its messages name a setting.

The library prints through a reporter instead of `print`, and names a setting
through it, so that the same message reads right for a Python user (`restart=True`)
and on the command line, whose reporter names the flag (`--restart`):
`zoo.cli.run_config.CommandReporter`.

Example:
    >>> reporter = Reporter()
    >>> reporter.line(f"Lower the learning rate ({reporter.option('learning_rate')})")
    Lower the learning rate (learning_rate)
    >>> reporter.option("output", "run"), reporter.option("restart", True)
    ("output='run'", 'restart=True')
"""

from __future__ import annotations

from pathlib import PurePath

UNSET = object()  # `option` without a value: the setting's name alone


class Reporter:
    """Prints each line (or hands it to `write`) and names settings as `RunConfig` fields.

    Args:
        write: Called with each line; default `print` (to the `sys.stdout` of the moment).
    """

    def __init__(self, write=None):
        self._write = write

    def line(self, text: str = "") -> None:
        """Says one line (or several joined by newlines)."""
        (self._write or print)(text)

    def option(self, name: str, value=UNSET) -> str:
        """How a message names the setting `name` (a `RunConfig` field), with `value` where given.

        Example:
            >>> Reporter().option("image_size", (32, 32)), Reporter().option("output")
            ('image_size=(32, 32)', 'output')
        """
        if value is UNSET:
            return name
        return f"{name}={str(value) if isinstance(value, PurePath) else value!r}"
