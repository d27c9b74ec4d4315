"""Model definition: what a zoo model is made of and how it is built.

- `registry`, `catalog`: the architectures and backbones by name (the catalog is plain
  data, readable without Keras);
- `backbones`: the feature extractors; `weights`: their pretrained weight files (a local
  folder, hash checks, the download, the one-time conversion of weights installed with zoo);
- `heads`, `layers`, `metrics`: output heads, custom layers, the metrics heads compile with;
- `builders`: the Functional-API builders (a shared trunk, one branch per head);
- `architectures`: `zoo.build` and `register_model`;
- `card`: the model card each model carries (heads, input shape, branches, plan), typed,
  and as a plain dict (`zoo.model_info`).

Example:
    >>> import zoo.models
    >>> zoo.models.catalog.MODELS["multilabel_small"]["backbones"]
    ('compact_resnet',)
"""

from zoo._lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
