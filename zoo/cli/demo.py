"""`zoo demo`: trains, saves, reloads and predicts with the two-branch color/type network.

The demo itself is `zoo.examples.demo`; this module reads its options.

Example:
    $ zoo demo --output zoo-demo
"""

from __future__ import annotations

import argparse


def add_parser(commands) -> None:
    """Adds `zoo demo` to the command's subparsers."""
    demo = commands.add_parser(
        "demo", help="train the two-branch color/type network on synthetic garments, save, reload, predict"
    )
    demo.add_argument("--output", default="zoo-demo", help="output folder (default: %(default)s)")
    demo.add_argument("--image-size", type=int, default=48, help="square image side (default: %(default)s)")
    demo.add_argument("--images-per-pair", type=int, default=40,
                      help="training images per color/type pair (default: %(default)s)")
    demo.add_argument("--epochs", type=int, nargs=2, default=(8, 8), metavar=("STAGE1", "STAGE2"),
                      help="epochs of the two stages (default: 8 8)")
    demo.add_argument("--seed", type=int, default=0,
                      help="seed of the generated images, the split and the initial weights (default: %(default)s)")
    demo.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                      help="show per-epoch training logs (same as zoo --verbose demo)")
    demo.set_defaults(run=run)


def run(args) -> None:
    """Runs the demo; fails when a reloaded model predicts differently."""
    from zoo.examples.demo import run_demo

    summary = run_demo(args.output, image_size=args.image_size, images_per_pair=args.images_per_pair,
                       epochs=tuple(args.epochs), seed=args.seed, verbose=2 if args.verbose else 0)
    different = [fmt for fmt, same in summary["reload_identical"].items() if not same]
    if different:
        raise RuntimeError(f"the model reloaded from {' and '.join(different)} predicts differently "
                           "from the trained one")
