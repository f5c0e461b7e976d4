"""The classifier at the end of every segmentation model."""

from keras import layers

from keras_segen.models.validation import (
    SEGMENTATION_ACTIVATIONS,
    check_choice,
    check_input_shape,
    check_int,
)


def check_common(builder, input_shape, num_classes, activation, stride=1, channels=None):
    """Checks the arguments every segmentation builder takes; returns the input shape."""
    check_int(builder, "num_classes", num_classes)
    check_choice(builder, "activation", activation, SEGMENTATION_ACTIVATIONS)
    return check_input_shape(builder, input_shape, stride=stride, channels=channels)


def output_activation(logits, activation):
    """Applies ``activation`` (or identity) in float32, so mixed precision returns float32."""
    return layers.Activation(activation or "linear", dtype="float32", name="output")(logits)


def classifier(x, num_classes, activation, kernel_size=1, kernel_initializer="glorot_uniform"):
    """Per-pixel class scores followed by ``output_activation``."""
    logits = layers.Conv2D(
        num_classes,
        kernel_size,
        padding="same",
        kernel_initializer=kernel_initializer,
        name="classifier",
    )(x)
    return output_activation(logits, activation)
