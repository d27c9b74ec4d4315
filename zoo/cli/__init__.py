"""The `zoo` command: one module per command, reading its arguments and printing its results.

- `app`: the parser and the dispatch (`main`); `arguments`: argument checks before any
  work; `choices`: the options' choices, readable without Keras;
- one module per command: `train`, `evaluate`, `predict`, `export`, `listing` (`zoo list`),
  `weights`, `demo` (which runs `zoo.examples.demo`);
- `sources`: the label-source options; `reports`: what the commands print and write;
- `quiet`: keeps TensorFlow's start-up chatter off the terminal.

Each command module adds its own subparser (`add_parser`) and runs it (`run`), importing
Keras only when it runs.

Nothing here is needed to use the library from Python.

Example:
    >>> from zoo.cli import main
    >>> main(["list"])  # doctest: +ELLIPSIS
    Models:
    ...
    0
"""

from zoo._lazy import submodule_getattr
from zoo.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
__getattr__ = submodule_getattr(__name__)
