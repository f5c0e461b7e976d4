"""Distribution strategies, the chief worker and the dtype policy of a training run."""

import contextlib

import keras

from keras_segen.runs.multiworker import multi_worker_strategy

STRATEGIES = (None, "default", "mirrored", "multiworker", "data_parallel")
TF_STRATEGIES = ("mirrored", "multiworker")


class KerasDistribution:
    """A ``keras.distribution`` (JAX) in the place of a ``tf.distribute.Strategy``.

    ``scope()`` makes it the global distribution for the ``with`` block; a run builds and
    fits its model inside it. ``None`` is the single-device default of every backend.
    """

    def __init__(self, distribution=None):
        self.distribution = distribution

    @contextlib.contextmanager
    def scope(self):
        if self.distribution is None:
            yield
            return
        previous = keras.distribution.distribution()
        keras.distribution.set_distribution(self.distribution)
        try:
            yield
        finally:
            keras.distribution.set_distribution(previous)


def resolve_strategy(strategy, worker_timeout=300):
    """The distribution of a run from a name or an instance.

    On TensorFlow a ``tf.distribute.Strategy`` (``"mirrored"``, ``"multiworker"``: from
    ``TF_CONFIG``, failing after ``worker_timeout`` seconds without its peers, the default);
    on JAX ``"data_parallel"`` is ``keras.distribution.DataParallel`` over every
    device; on any other backend ``None``/``"default"`` is one device.
    """
    if strategy not in STRATEGIES and not hasattr(strategy, "scope"):
        raise ValueError(f"strategy must be one of {STRATEGIES} or a Strategy; got {strategy!r}.")
    backend = keras.backend.backend()
    if backend != "tensorflow":
        if strategy in TF_STRATEGIES:
            raise ValueError(
                f"strategy={strategy!r} is tf.distribute, which needs the TensorFlow backend; "
                f"on {backend} use strategy='data_parallel' (JAX) or None."
            )
        if strategy == "data_parallel":
            if backend != "jax":
                raise ValueError(f"strategy='data_parallel' needs the JAX backend; got {backend}.")
            return KerasDistribution(keras.distribution.DataParallel())
        return strategy if hasattr(strategy, "scope") else KerasDistribution()
    if strategy == "data_parallel":
        raise ValueError("strategy='data_parallel' is keras.distribution (JAX backend); on "
                         "TensorFlow use strategy='mirrored'.")  # fmt: skip
    import tensorflow as tf

    if isinstance(strategy, tf.distribute.Strategy):
        return strategy
    if strategy == "mirrored":
        return tf.distribute.MirroredStrategy()
    if strategy == "multiworker":
        return multi_worker_strategy(worker_timeout)
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
