"""Model definition: what a zoo model is made of and how it is built.

- `registry`, `catalog`: the architectures and backbones by name (the catalog is plain
  data, readable without Keras);
- `backbones`: the feature extractors; `heads`, `layers`: output heads and custom layers;
- `builders`: the Functional-API builders (a shared trunk, one branch per head);
- `architectures`: `zoo.build` and `register_model`;
- `card`: the model card each model carries (heads, input shape, branches, plan), typed;
  `metadata`: the same card as a plain dict (`zoo.model_info`).

Example:
    >>> import zoo.models
    >>> zoo.models.catalog.MODELS["multilabel_small"]["backbones"]
    ('compact_resnet',)
"""

from zoo._lazy import submodule_getattr

# The names of the former `zoo.models` module, zoo.models.architectures's now, still importable from here.
_FORMER = ('Architecture', 'MODELS', 'build', 'describe_models', 'freeze_pretrained', 'register_model')
_submodule = submodule_getattr(__name__)


def __getattr__(name):
    if name in _FORMER:
        import importlib

        return getattr(importlib.import_module("zoo.models.architectures"), name)
    return _submodule(name)
