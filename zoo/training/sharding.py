"""How a dataset is split across the workers of a cluster.

Example:
    >>> import tensorflow as tf
    >>> from zoo.training.sharding import shard
    >>> policy = shard(tf.data.Dataset.range(4)).options().experimental_distribute.auto_shard_policy
    >>> policy == tf.data.experimental.AutoShardPolicy.DATA
    True
"""


def shard(dataset):
    """`dataset` with its elements sharded across the workers (each reads its part of every batch).

    Uses `tf.data`'s automatic sharding by data, which fits `make_dataset`
    (one file list, no per-worker files).
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)
