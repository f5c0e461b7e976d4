"""Distribution strategies, the chief worker and the dtype policy of a training run."""

import contextlib

import keras

STRATEGIES = (None, "default", "mirrored", "multiworker")


def resolve_strategy(strategy):
    """A ``tf.distribute.Strategy`` from a name or an instance."""
    import tensorflow as tf

    if isinstance(strategy, tf.distribute.Strategy):
        return strategy
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES} or a Strategy; got {strategy!r}.")
    if strategy == "mirrored":
        return tf.distribute.MirroredStrategy()
    if strategy == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def is_chief(strategy):
    """Only the chief of a multi-worker run writes the run directory."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    return resolver.task_type == "chief" or (
        resolver.task_type == "worker"
        and resolver.task_id == 0
        and "chief" not in resolver.cluster_spec().as_dict()
    )


@contextlib.contextmanager
def dtype_policy(name):
    """Sets the global Keras dtype policy to ``name`` for the ``with`` block."""
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)
