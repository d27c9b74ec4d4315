"""`zoo weights`: the known pretrained weight files, where they are looked up, and where the
weights installed with zoo come from (package, file, license). Answers without TensorFlow.

Example:
    $ zoo weights
"""

from __future__ import annotations


def add_parser(commands) -> None:
    """Adds `zoo weights` to the command's subparsers."""
    weights = commands.add_parser("weights", help="show known weight files and where they are looked up")
    weights.set_defaults(run=run)


def run(args) -> None:
    """Prints each known weight file, whether it was found, and where converted weights come from."""
    from zoo.models import weights

    folders = weights.search_dirs()
    print("Weight files are looked up in: " + ", ".join(str(f) for f in folders))
    print(f"Weights that come with an installed package are converted once into: {weights.cache_dir()}")
    for record in weights.load_manifest():
        for line in weights.describe(record):
            print(line)
