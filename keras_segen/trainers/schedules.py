"""Learning-rate schedules of runs: cosine cycles with warm restarts, linear warm-up.

A run trains one cosine cycle over its epochs (decaying to 0 at the last step); extending a
finished run adds a cycle that restarts at the base rate (SGDR, Loshchilov & Hutter 2017,
"SGDR: Stochastic Gradient Descent with Warm Restarts"). Each cycle may start with a linear
warm-up.
"""

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable("keras_segen")
class CosineCycles(keras.optimizers.schedules.LearningRateSchedule):
    """Cosine decay to 0 over each cycle, restarting at ``learning_rate``; or a constant rate.

    Args:
        learning_rate: the rate at the start of each cycle (after warm-up).
        cycle_ends: the last step (exclusive) of each cycle, increasing; the first cycle
            starts at step 0 and each next one where the previous ended. After the last
            cycle the rate stays 0 (``"cosine"``) or ``learning_rate`` (``"constant"``).
        warmup_steps: steps of linear warm-up from ``learning_rate / warmup_steps`` at the
            start of each cycle.
        shape: ``"cosine"`` or ``"constant"`` (warm-up only).

    Example:
        >>> schedule = keras_segen.trainers.CosineCycles(1.0, [4, 8])
        >>> [round(float(schedule(step)), 4) for step in range(9)]  # two cycles of 4 steps
        [1.0, 0.8536, 0.5, 0.1464, 1.0, 0.8536, 0.5, 0.1464, 0.0]
        >>> warm = keras_segen.trainers.CosineCycles(1.0, [8], warmup_steps=2, shape="constant")
        >>> [float(warm(step)) for step in (0, 1, 2, 9)]
        [0.5, 1.0, 1.0, 1.0]
    """

    def __init__(self, learning_rate, cycle_ends, warmup_steps=0, shape="cosine", name=None):
        super().__init__()
        if shape not in ("cosine", "constant"):
            raise ValueError(f"shape must be 'cosine' or 'constant'; got {shape!r}.")
        ends = [int(end) for end in cycle_ends]
        if not ends or ends[0] < 1 or any(b <= a for a, b in zip(ends, ends[1:])):
            raise ValueError(f"cycle_ends must be increasing positive steps; got {cycle_ends!r}.")
        self.learning_rate = float(learning_rate)
        self.cycle_ends = ends
        self.warmup_steps = int(warmup_steps)
        self.shape = shape
        self.name = name

    def __call__(self, step):
        step = ops.cast(step, "float32")
        rate = ops.zeros_like(step) if self.shape == "cosine" else ops.ones_like(step)
        rate = rate * self.learning_rate
        # Later cycles overwrite earlier ones, so each step gets the cycle it lies in.
        for start, end in zip([0, *self.cycle_ends[:-1]], self.cycle_ends):
            inside = ops.logical_and(step >= start, step < end)
            position = step - start
            value = ops.ones_like(step)
            if self.shape == "cosine":
                value = 0.5 * (1.0 + ops.cos(math.pi * position / (end - start)))
            if self.warmup_steps:
                value = value * ops.minimum(1.0, (position + 1.0) / self.warmup_steps)
            rate = ops.where(inside, value * self.learning_rate, rate)
        return rate

    def get_config(self):
        return {
            "learning_rate": self.learning_rate,
            "cycle_ends": list(self.cycle_ends),
            "warmup_steps": self.warmup_steps,
            "shape": self.shape,
            "name": self.name,
        }
