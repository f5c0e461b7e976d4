"""ReNet: recurrent sweeps over the rows and columns of a feature map (Visin et al. 2015)."""

import keras
from keras import ops

CELLS = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM}
DIRECTIONS = ("horizontal", "vertical")


@keras.saving.register_keras_serializable(package="keras_segen")
class ReNetSweep(keras.layers.Layer):
    """Runs one bidirectional RNN along every row (``"horizontal"``) or column (``"vertical"``).

    Every row (or column) of the ``(B, H, W, C)`` map is an independent sequence; the forward
    and backward hidden states are concatenated, giving ``(B, H, W, 2 * units)``. Each output
    pixel therefore sees its whole row (or column). ``reset_after`` (GRU only) chooses
    where the reset gate acts: after the recurrent product (Keras' default, cuDNN's and
    Lasagne's, with a second bias) or before it (Cho et al. 2014, one bias). ``unroll``
    writes the sweeps as fixed-length chains of cell steps instead of loops (needs a known
    width and height); int8 TFLite export uses it, since the converter cannot calibrate loops.

    Example:
        >>> x = keras.Input((8, 8, 3))
        >>> keras_segen.layers.ReNetSweep(16, cell="lstm", direction="vertical")(x).shape
        (None, 8, 8, 32)
    """

    def __init__(
        self, units, cell="gru", direction="horizontal", reset_after=True, unroll=False, **kwargs
    ):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units < 1:
            raise ValueError(f"units must be a positive integer; got {units!r}.")
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {tuple(CELLS)}; got {cell!r}.")
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}; got {direction!r}.")
        self.units = units
        self.cell = cell
        self.direction = direction
        self.reset_after = bool(reset_after)
        self.unroll = bool(unroll)
        options = {"unroll": self.unroll}
        if cell == "gru":
            options["reset_after"] = self.reset_after
        # Two plain RNNs rather than keras.layers.Bidirectional: Bidirectional re-creates
        # its layers through serialisation in __init__, which intermittently fails while a
        # saved model is being loaded (Keras 3.15: both copies get go_backwards=False).
        self.forward_rnn = CELLS[cell](units, return_sequences=True, name="forward", **options)
        self.backward_rnn = CELLS[cell](
            units, return_sequences=True, go_backwards=True, name="backward", **options
        )

    def build(self, input_shape):
        length = input_shape[2] if self.direction == "horizontal" else input_shape[1]
        for rnn in (self.forward_rnn, self.backward_rnn):
            rnn.build((None, length, input_shape[3]))

    def call(self, x):
        if self.direction == "vertical":
            x = ops.transpose(x, (0, 2, 1, 3))
        shape = ops.shape(x)
        sequences = ops.reshape(x, (-1, shape[2], shape[3]))
        # Back in reading order; a gather, not ops.flip: TFLite's int8 converter may give a
        # REVERSE_V2 output other quantisation parameters than its input, which the kernel
        # does not requantise (a byte copy read at another scale).
        backward = self.backward_rnn(sequences)
        backward = ops.take(backward, ops.arange(shape[2] - 1, -1, -1), axis=1)
        swept = ops.concatenate([self.forward_rnn(sequences), backward], axis=-1)
        swept = ops.reshape(swept, (-1, shape[1], shape[2], 2 * self.units))
        if self.direction == "vertical":
            swept = ops.transpose(swept, (0, 2, 1, 3))
        return swept

    def compute_output_shape(self, input_shape):
        return (*input_shape[:3], 2 * self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "cell": self.cell,
            "direction": self.direction,
            "reset_after": self.reset_after,
            "unroll": self.unroll,
        }
