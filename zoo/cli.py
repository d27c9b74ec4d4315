"""The `zoo` command.

Example:
    $ zoo list
    $ zoo demo --output zoo-demo
    $ zoo weights
"""

from __future__ import annotations

import argparse
import os
import sys


def _command_list(args) -> None:
    from zoo.backbones import get_backbone_spec
    from zoo.models import describe_models
    from zoo.registry import list_backbones

    print("Models:")
    for row in describe_models():
        print(f"  {row['name']:<26} {row['input_shape']:<10} {row['backbones']:<20} {row['description']}")
    print("Backbones:")
    for name in list_backbones():
        spec = get_backbone_spec(name)
        pretrained = ", ".join(spec.pretrained) or "from scratch"
        shape = "x".join(str(d) for d in spec.default_input_shape)
        print(f"  {name:<26} {shape:<10} {pretrained:<20} boundaries: {', '.join(spec.boundaries)}")


def _command_demo(args) -> None:
    from zoo.demo import run_demo

    summary = run_demo(args.output, image_size=args.image_size, images_per_pair=args.images_per_pair,
                       epochs=tuple(args.epochs), seed=args.seed, verbose=2 if args.verbose else 0)
    if not summary["reload_identical"]:
        raise RuntimeError("the reloaded model predicts differently from the trained one")


def _command_weights(args) -> None:
    from zoo import weights

    folders = weights.search_dirs()
    print("Weight files are looked up in: " + ", ".join(str(f) for f in folders))
    for record in weights.load_manifest():
        local = weights.locate(record) if any((f / record["file_name"]).is_file() for f in folders) else None
        status = f"found: {local}" if local else "missing"
        print(f"  {record['backbone']:<16} {record['file_name']:<66} {status}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `zoo` command."""
    parser = argparse.ArgumentParser(prog="zoo", description="Multi-output Keras model zoo.")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="list prebuilt models and backbones")
    listing.set_defaults(run=_command_list)

    demo = commands.add_parser(
        "demo", help="train the two-branch color/type network on synthetic garments, save, reload, predict"
    )
    demo.add_argument("--output", default="zoo-demo", help="output folder (default: %(default)s)")
    demo.add_argument("--image-size", type=int, default=64, help="square image side (default: %(default)s)")
    demo.add_argument("--images-per-pair", type=int, default=40, help="training images per color/type pair")
    demo.add_argument("--epochs", type=int, nargs=2, default=(8, 8), metavar=("STAGE1", "STAGE2"),
                      help="epochs of the two stages (default: 8 8)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--verbose", action="store_true", help="show per-epoch training logs")
    demo.set_defaults(run=_command_demo)

    weights = commands.add_parser("weights", help="show known weight files and where they are looked up")
    weights.set_defaults(run=_command_weights)
    return parser


def main(argv=None) -> int:
    """Entry point; returns the exit status. Errors print as one message, not a traceback."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except KeyboardInterrupt:
        print("zoo: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # the command line reports, it does not dump tracebacks
        print(f"zoo {args.command}: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
