"""The `zoo` command.

Example:
    $ zoo list
    $ zoo demo --output zoo-demo
    $ zoo weights
    $ zoo inspect --folders clothing --separator _ --heads color type
    $ zoo train --folders clothing --separator _ --heads color type --model color_type
    $ zoo evaluate zoo_output/model.keras --folders clothing --separator _ --heads color type
    $ zoo predict zoo_output/model.keras photos/ --output predictions.csv
    $ zoo export zoo_output/model.keras --format onnx --output deploy/model.onnx
    $ zoo audit --folders clothing --separator _ --heads color type --output zoo_output
    $ zoo report zoo_output
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from zoo.cli import audit, demo, evaluate, export, inspect, listing, predict, report, train, weights
from zoo.cli.arguments import UsageError, validate_arguments


class HelpFormatter(argparse.HelpFormatter):
    """Wraps help text at spaces only: no word or `1e-5` is split across lines."""

    def __init__(self, prog, indent_increment=2, max_help_position=30, width=None):
        super().__init__(prog, indent_increment, max_help_position, width)

    def _split_lines(self, text, width):
        text = self._whitespace_matcher.sub(" ", text).strip()
        return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)


class ArgumentParser(argparse.ArgumentParser):
    """Usage errors print one line naming the command and exit with status 1, like every zoo error.

    Flags are never abbreviated: a misspelt `--folder` or `--epoch` is refused, not read as
    `--folders` or `--epochs` (every subcommand's parser is of this class too).
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(1, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `zoo` command."""
    parser = ArgumentParser(prog="zoo", description="Multi-output Keras model zoo.")
    parser.add_argument("--verbose", action="store_true",
                        help="show TensorFlow's start-up lines and per-epoch training logs")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{" + ",".join(COMMANDS) + "}")

    for command in (listing, demo, weights, inspect, train, evaluate, predict, export, audit, report):
        command.add_parser(commands)
    return parser


# Commands that run Keras: TensorFlow is imported (quietly) only for these.
TENSORFLOW_COMMANDS = ("demo", "inspect", "train", "evaluate", "predict", "export", "audit", "report")
COMMANDS = ("list", "demo", "weights", "inspect", "train", "evaluate", "predict", "export", "audit", "report")


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


def interrupted_message(args, argv) -> str:
    """What Ctrl-C prints: for `zoo train`, the epoch kept and the command that continues after it.

    Example:
        >>> import argparse, tempfile
        >>> args = argparse.Namespace(command="train", output=tempfile.mkdtemp())
        >>> print(interrupted_message(args, ["train", "--output", "run"]))  # doctest: +ELLIPSIS
        zoo train: interrupted before the first epoch finished; nothing is kept. Run the same command to start again:
          zoo train --output run
    """
    import json
    import shlex

    from zoo.cli.workers import cluster_of

    cluster = cluster_of(args) if args.command == "train" else None
    if args.command != "train" or (cluster is not None and cluster["task"]["index"] != 0):
        return f"zoo {args.command}: interrupted"
    command = shlex.join(["zoo", *argv])
    kept = sorted(Path(args.output, "backup").glob("epoch-*/state.json"))
    if not kept:
        return (f"zoo train: interrupted before the first epoch finished; nothing is kept. Run the same command to "
                f"start again:\n  {command}")
    epoch = json.loads(kept[-1].read_text()).get("epoch")
    return (f"zoo train: interrupted. Epoch {epoch} is kept (its weights and optimizer state in {kept[-1].parent}); "
            f"run the same command to continue after it:\n  {command}")


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
    argv = sys.argv[1:] if argv is None else list(argv)
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
        print(interrupted_message(args, argv), file=sys.stderr)
        return 130
    except Exception as error:  # the command line reports, it does not dump tracebacks
        print(f"zoo {args.command}: error: {error}{_images_hint(error, args)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
