"""Training: trainable parts, stages, losses, callbacks and the planned `zoo train` run.

- `trainable`: which parts train; `stage`, `finetune`: staged fitting (`Stage`, `fit_staged`);
- `losses`, `callbacks`: what `compile` and `fit` are given;
- `feature_cache`: frozen-backbone features computed once;
- `scale`: mixed precision and distribution strategies; `distributed`, `multi_worker`: several machines
  (and JAX data parallelism);
- `plan`, `speed`, `run`, `backup`: the data-driven plan and a run that survives a kill; `config`: the
  run's settings (`RunConfig`), `reporter`: where its lines go and how they name a setting.

Example:
    >>> import zoo.training
    >>> zoo.training.plan.target_epochs(1600)
    63
"""

from zoo._lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
