"""Distribution strategies, the chief worker and the dtype policy of a training run."""

import contextlib
import os

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

    @property
    def processes(self):
        """How many processes the distribution spans (``jax.distributed``)."""
        if self.distribution is None:
            return 1
        import jax

        return jax.process_count()

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


def resolve_strategy(strategy, settings=None):
    """The distribution of a run from a name or an instance.

    On TensorFlow a ``tf.distribute.Strategy`` (``"mirrored"``, ``"multiworker"``: from
    ``TF_CONFIG``, failing after ``settings.worker_timeout`` seconds without its peers, the
    default); on JAX ``"data_parallel"`` is ``keras.distribution.DataParallel`` over every
    device, of every process when ``settings`` names a coordinator (``jax.distributed``);
    on any other backend ``None``/``"default"`` is one device. ``settings`` is the run's
    ``Distribution`` configuration (default: its defaults).
    """
    if settings is None:
        from keras_segen.runs.config import Distribution

        settings = Distribution()
    if strategy not in STRATEGIES and not hasattr(strategy, "scope"):
        raise ValueError(f"strategy must be one of {STRATEGIES} or a Strategy; got {strategy!r}.")
    backend = keras.backend.backend()
    joining = ("coordinator", "num_processes", "process_id")
    given = [f"--{n.replace('_', '-')}" for n in joining if getattr(settings, n) is not None]
    if given and strategy != "data_parallel":
        raise ValueError(f"{', '.join(given)} join JAX processes: use them with "
                         "strategy='data_parallel' on the JAX backend.")  # fmt: skip
    if backend != "tensorflow":
        if strategy in TF_STRATEGIES:
            raise ValueError(
                f"strategy={strategy!r} is tf.distribute, which needs the TensorFlow backend; "
                f"on {backend} use strategy='data_parallel' (JAX) or None."
            )
        if strategy == "data_parallel":
            if backend != "jax":
                raise ValueError(f"strategy='data_parallel' needs the JAX backend; got {backend}.")
            join_processes(settings)
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
        return multi_worker_strategy(settings.worker_timeout)
    return tf.distribute.get_strategy()


def join_processes(settings):
    """Joins this process to the others of a JAX run (``jax.distributed``, through
    ``keras.distribution.initialize``) when ``settings.coordinator`` names process 0's
    ``HOST:PORT``; the environment variables Keras reads do the same."""
    import jax

    given = settings.coordinator or os.environ.get("KERAS_DISTRIBUTION_JOB_ADDRESSES")
    if not given or jax.distributed.is_initialized():
        return
    if settings.coordinator and (settings.num_processes is None or settings.process_id is None):
        raise ValueError(
            "--coordinator needs --num-processes N and --process-id I (0 on the coordinator)."
        )
    keras.distribution.initialize(
        settings.coordinator, settings.num_processes, settings.process_id
    )


def spans_processes(strategy):
    """Whether ``strategy`` is a JAX distribution over several processes: every process
    must then take part in each computation on the model, saving included."""
    return isinstance(strategy, KerasDistribution) and strategy.processes > 1


def is_chief(strategy):
    """Only the chief of a multi-worker run writes the run directory (on JAX, process 0)."""
    if spans_processes(strategy):
        import jax

        return jax.process_index() == 0
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
