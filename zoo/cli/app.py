"""The `zoo` command.

Example:
    $ zoo list
    $ zoo demo --output zoo-demo
    $ zoo weights
    $ zoo train --folders clothing --separator _ --heads color type --model color_type
    $ zoo evaluate zoo_output/model.keras --folders clothing --separator _ --heads color type
    $ zoo predict zoo_output/model.keras photos/ --output predictions.csv
    $ zoo export zoo_output/model.keras --format onnx --output deploy/model.onnx
"""

from __future__ import annotations

import argparse
import sys
import textwrap

from zoo.cli import demo, evaluate, export, listing, predict, train, weights
from zoo.cli.arguments import UsageError, validate_arguments


class HelpFormatter(argparse.HelpFormatter):
    """Wraps help text at spaces only: no word or `1e-5` is split across lines."""

    def __init__(self, prog, indent_increment=2, max_help_position=30, width=None):
        super().__init__(prog, indent_increment, max_help_position, width)

    def _split_lines(self, text, width):
        text = self._whitespace_matcher.sub(" ", text).strip()
        return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)


class ArgumentParser(argparse.ArgumentParser):
    """Usage errors print one line naming the command and exit with status 1, like every zoo error."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(1, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `zoo` command."""
    parser = ArgumentParser(prog="zoo", description="Multi-output Keras model zoo.")
    parser.add_argument("--verbose", action="store_true",
                        help="show TensorFlow's start-up lines and per-epoch training logs")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{" + ",".join(COMMANDS) + "}")

    for command in (listing, demo, weights, train, evaluate, predict, export):
        command.add_parser(commands)
    return parser


# Commands that run Keras: TensorFlow is imported (quietly) only for these.
TENSORFLOW_COMMANDS = ("demo", "train", "evaluate", "predict", "export")
COMMANDS = ("list", "demo", "weights", "train", "evaluate", "predict", "export")


def _images_hint(error: Exception, args) -> str:
    """A hint naming --images when most image files were missing."""
    text = str(error)
    if "cannot be used" not in text or "file not found" not in text:
        return ""
    images = getattr(args, "images", None)
    return ("\nhint: the files were looked up under " + (f"--images {images}" if images else "the working folder")
            + "; --images names the folder that the label file's names are relative to.")


def _run(args) -> None:
    """Runs the command (a failed `zoo train` cleans up under its hold: `zoo.training.run.holding`)."""
    args.run(args)


def main(argv=None) -> int:
    """Entry point; returns the exit status. Errors print as one message, not a traceback.

    Arguments, paths, model names and head kinds are checked before any data is read or
    TensorFlow is imported; every error exits with status 1.

    Example:
        >>> main(["train", "--folders", "no-such-folder"])  # doctest: +SKIP
        zoo train: error: --folders: no such folder: 'no-such-folder'
        1
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        validate_arguments(args)
    except UsageError as error:
        print(f"zoo {args.command}: error: {error}", file=sys.stderr)
        return 1
    try:
        if args.command in TENSORFLOW_COMMANDS or getattr(args, "params", False):
            from zoo.cli.quiet import import_tensorflow

            import_tensorflow(verbose=args.verbose)
        _run(args)
    except KeyboardInterrupt:
        print("zoo: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # the command line reports, it does not dump tracebacks
        print(f"zoo {args.command}: error: {error}{_images_hint(error, args)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
