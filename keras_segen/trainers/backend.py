"""The backend-specific parts of a custom train step, behind one stateful interface.

A trainer writes its step once, in the stateful style of TensorFlow and PyTorch: compute
losses, then ``minimize`` them. Keras runs that step as it is on TensorFlow (inside a
``tf.function``, gradients from a ``GradientTape``) and PyTorch (eager, autograd). On JAX
``fit`` calls ``train_step(state, data)`` under ``jit`` and expects new state back, so
``stateless_step`` runs the same stateful code inside a ``keras.StatelessScope`` holding
every variable of the state, and ``minimize`` differentiates a pure function of the
variables it updates (``jax.vjp``); the assignments the step makes (optimizer updates,
batch-norm statistics, seed generators, metric trackers) are read back from the scope.
This is the keras-io recipe (``stateless_call`` + ``jax.value_and_grad``) without writing
each step twice.
"""

import contextlib

import keras
from keras import ops

from keras_segen.losses import replicas_in_sync


def backend():
    """The name of the Keras backend in use."""
    return keras.backend.backend()


class OptimizerGroup:
    """The optimizers of a multi-network trainer seen as one ``model.optimizer``.

    Keras' JAX trainer carries ``model.optimizer.variables`` through ``fit`` as state, so the
    variables of every optimizer must appear there; ``optimizers`` is the attribute Keras'
    ``LearningRateScheduler`` looks for on a multi-optimizer model.

    Example:
        >>> gan = keras_segen.GAN(keras_segen.get_model("dcgan_generator", "tiny"),
        ...                       keras_segen.get_model("dcgan_discriminator", "tiny"))
        >>> gan.compile()
        >>> gan.optimizer.optimizers == [gan.d_optimizer, gan.g_optimizer]
        True
        >>> d, g = gan.d_optimizer.variables, gan.g_optimizer.variables
        >>> len(gan.optimizer.variables) == len(d) + len(g)
        True
    """

    built = True

    def __init__(self, optimizers):
        self.optimizers = list(optimizers)

    @property
    def variables(self):
        return [variable for optimizer in self.optimizers for variable in optimizer.variables]

    @property
    def iterations(self):
        return self.optimizers[-1].iterations

    def build(self, variables):
        """Nothing to build: each optimizer is built for its own network in ``compile``."""


def _tensorflow_replica_seed(seed):
    """``seed`` shifted by the replica id, so MirroredStrategy replicas draw differently."""
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    replica = 0 if context is None else context.replica_id_in_sync_group
    offset = tf.stack([tf.constant(0, tf.int64), tf.cast(replica, tf.int64)])
    return ops.cast(seed, "int64") + offset


def random_normal(shape, seed_generator):
    """Standard-normal float32 draws from ``seed_generator``, independent across replicas."""
    if backend() == "tensorflow":
        import tensorflow as tf

        return tf.random.stateless_normal(shape, _tensorflow_replica_seed(seed_generator.next()))
    return keras.random.normal(shape, seed=seed_generator)


def random_uniform(shape, seed_generator):
    """Uniform [0, 1) float32 draws from ``seed_generator``, independent across replicas."""
    if backend() == "tensorflow":
        import tensorflow as tf

        return tf.random.stateless_uniform(shape, _tensorflow_replica_seed(seed_generator.next()))
    return keras.random.uniform(shape, seed=seed_generator)


def _scope(variables, overrides=()):
    """A ``StatelessScope`` holding the current value of ``variables``, then ``overrides``."""
    return keras.StatelessScope([(v, v.value) for v in variables] + list(overrides))


def minimize(trainer, loss_fn, targets):
    """Runs ``loss_fn`` once and applies the gradient of each of its losses.

    Args:
        trainer: the ``keras.Model`` whose step this is (its ``state_variables()`` is the
            JAX state).
        loss_fn: no arguments; returns a tuple whose first ``len(targets)`` items are the
            losses (float32 scalars, batch means) and the rest anything else the step needs.
        targets: ``[(optimizer, variables), ...]``: loss ``i`` updates ``variables[i]``
            with ``optimizer[i]``.

    Returns:
        ``loss_fn``'s tuple (the losses unscaled).
    """
    replicas = replicas_in_sync()

    def scaled(outputs):
        return [
            optimizer.scale_loss(loss / replicas if replicas > 1 else loss)
            for (optimizer, _), loss in zip(targets, outputs)
        ]

    variable_lists = [list(variables) for _, variables in targets]
    gradient_fn = {"tensorflow": _tensorflow_gradients, "torch": _torch_gradients}.get(
        backend(), _jax_gradients
    )
    outputs, gradients = gradient_fn(trainer, loss_fn, scaled, variable_lists)
    with _no_autograd():
        for (optimizer, _), variables, grads in zip(targets, variable_lists, gradients):
            if backend() == "jax":
                _jax_apply(optimizer, grads, variables)
            else:
                optimizer.apply(grads, variables)
    return outputs


def _jax_apply(optimizer, grads, variables):
    """``optimizer.stateless_apply`` on the scope's values, assigned back into the scope.

    ``LossScaleOptimizer.apply`` assigns inside an ``ops.cond``, which JAX cannot trace in a
    ``StatelessScope``; its ``stateless_apply`` can. ``variables`` must be the list the
    optimizer was built for, in its order (each trainer builds its optimizers that way).
    """
    new_values, new_state = optimizer.stateless_apply(
        [v.value for v in optimizer.variables], grads, [v.value for v in variables]
    )
    for variable, value in zip(variables, new_values):
        variable.assign(value)
    for variable, value in zip(optimizer.variables, new_state):
        variable.assign(value)


def _no_autograd():
    """PyTorch records no graph for the optimizer's updates; other backends need nothing."""
    if backend() != "torch":
        return contextlib.nullcontext()
    import torch

    return torch.no_grad()


def _tensorflow_gradients(trainer, loss_fn, scaled, variable_lists):
    import tensorflow as tf

    with tf.GradientTape(persistent=len(variable_lists) > 1) as tape:
        outputs = loss_fn()
        losses = scaled(outputs)
    return outputs, [tape.gradient(loss, v) for loss, v in zip(losses, variable_lists)]


def _torch_gradients(trainer, loss_fn, scaled, variable_lists):
    import torch

    outputs = loss_fn()
    losses = scaled(outputs)
    gradients = []
    for index, (loss, variables) in enumerate(zip(losses, variable_lists)):
        gradients.append(
            torch.autograd.grad(
                loss, [v.value for v in variables], retain_graph=index < len(losses) - 1
            )
        )
    return outputs, gradients


def _jax_gradients(trainer, loss_fn, scaled, variable_lists):
    import jax

    differentiated = [v for variables in variable_lists for v in variables]
    ids = {id(v) for v in differentiated}
    others = [v for v in trainer.state_variables() if id(v) not in ids]

    def losses_of(values):
        with _scope(others, zip(differentiated, values)) as scope:
            outputs = loss_fn()
            losses = scaled(outputs)
        updates = [scope.get_current_value(v) for v in others]
        return losses, (outputs, updates)

    values = [v.value for v in differentiated]
    losses, pullback, (outputs, updates) = jax.vjp(losses_of, values, has_aux=True)
    gradients, start = [], 0
    for index, variables in enumerate(variable_lists):
        cotangent = [ops.zeros_like(loss) for loss in losses]
        cotangent[index] = ops.ones_like(losses[index])
        (grads,) = pullback(cotangent)
        gradients.append(grads[start : start + len(variables)])
        start += len(variables)
    for variable, value in zip(others, updates):
        if value is not None:
            variable.assign(value)
    return outputs, gradients


def input_gradient(trainer, fn, x):
    """``d sum(fn(x)) / dx``, differentiable again (for gradient penalties)."""
    name = backend()
    if name == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(x)
            total = ops.sum(ops.cast(fn(x), "float32"))
        return tape.gradient(total, x)
    if name == "torch":
        import torch

        x = x.detach().requires_grad_(True)
        total = ops.sum(ops.cast(fn(x), "float32"))
        return torch.autograd.grad(total, x, create_graph=True)[0]
    import jax

    variables = trainer.state_variables()

    def total(inputs):
        # A throwaway scope: updates made inside jax.grad (batch statistics) stay there.
        with _scope(variables):
            return ops.sum(ops.cast(fn(inputs), "float32"))

    return jax.grad(total)(x)


def stateless_step(trainer, step_fn, state, data, variable_groups):
    """Runs the stateful ``step_fn(data)`` on JAX state; returns ``(logs, new state)``.

    ``variable_groups`` are the lists of variables that ``state``'s parts hold, in order.
    """
    mapping = [
        (variable, value)
        for variables, values in zip(variable_groups, state)
        for variable, value in zip(variables, values)
    ]
    with keras.StatelessScope(mapping) as scope:
        logs = step_fn(data)
    new_state = tuple(
        [scope.get_current_value(v) for v in variables] for variables in variable_groups
    )
    return logs, new_state
