"""`zoo list`: the prebuilt models and backbones, from the catalog (no Keras unless --params).

Example:
    >>> from zoo.cli.app import main
    >>> main(["list"])  # doctest: +ELLIPSIS
    Models:
      color_type ...
    0
"""

from __future__ import annotations

from zoo.models import catalog


def add_parser(commands) -> None:
    """Adds `zoo list` to the command's subparsers."""
    listing = commands.add_parser("list", help="list prebuilt models and backbones")
    listing.add_argument("--params", action="store_true",
                         help="also count each model's parameters (builds every model: about 10 s)")
    listing.set_defaults(run=run)


def _millions(count: int) -> str:
    return f"{count / 1e6:.2f}M"


def _parameter_counts() -> tuple[dict, dict]:
    """({model: parameters}, {backbone: parameters}), built at the default input sizes."""
    import keras

    from zoo.models.backbones import build_backbone
    from zoo.models.heads import Head
    from zoo.models.architectures import build

    models, backbones = {}, {}
    for name in sorted(catalog.MODELS):
        heads = [Head("labels", [str(i) for i in range(10)])]
        if name == "color_type":
            heads = [Head("color", [str(i) for i in range(5)], kind="multiclass"),
                     Head("type", [str(i) for i in range(5)], kind="multiclass")]
        models[name] = build(name, heads=heads, weights=None, compile=False).count_params()
        keras.backend.clear_session(free_memory=False)
    for name in sorted(catalog.BACKBONES):
        backbones[name] = build_backbone(name, (32, 32, 3)).count_params()  # convolutions: any input size
        keras.backend.clear_session(free_memory=False)  # no collection per model: it costs more than it frees
    return models, backbones


def run(args) -> None:
    """Prints the models and backbones (with parameter counts for --params)."""
    models, backbones = _parameter_counts() if args.params else ({}, {})
    column = (lambda counts, name: f" {_millions(counts[name]):>7} ") if args.params else (lambda counts, name: " ")
    print("Models" + (" (parameters at the default input size, with one 10-class multilabel head; color_type with "
                      "two 5-class heads)" if args.params else "") + ":")
    for name in sorted(catalog.MODELS):
        entry = catalog.MODELS[name]
        print(f"  {name:<26} {catalog.shape_text(entry['default_input_shape']):<10}{column(models, name)}"
              f"{', '.join(entry['backbones']):<20} {entry['description']}")
    print("Backbones" + (" (parameters without a head)" if args.params else "") + ":")
    for name in sorted(catalog.BACKBONES):
        entry = catalog.BACKBONES[name]
        pretrained = ", ".join(entry["pretrained"]) or "from scratch"
        print(f"  {name:<26} {catalog.shape_text(entry['default_input_shape']):<10}{column(backbones, name)}"
              f"{pretrained:<20} boundaries: {', '.join(entry['boundaries'])}")
    if not args.params:
        print("Parameter counts: zoo list --params (builds every model: about 10 s).")
