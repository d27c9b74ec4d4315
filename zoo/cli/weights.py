"""`zoo weights`: the known pretrained weight files and where they are looked up.

Example:
    $ zoo weights
"""

from __future__ import annotations


def add_parser(commands) -> None:
    """Adds `zoo weights` to the command's subparsers."""
    weights = commands.add_parser("weights", help="show known weight files and where they are looked up")
    weights.set_defaults(run=run)


def run(args) -> None:
    """Prints each known weight file and whether it was found."""
    from zoo.models import weights

    folders = weights.search_dirs()
    print("Weight files are looked up in: " + ", ".join(str(f) for f in folders))
    for record in weights.load_manifest():
        try:
            local = weights.locate(record)
            status = f"found: {local}" if local else "missing"
        except ValueError as error:  # a local copy with the wrong hash
            status = f"corrupt: {error}"
        print(f"  {record['backbone']:<16} {record['file_name']:<66} {status}")
