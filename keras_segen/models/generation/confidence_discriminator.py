"""The discriminator of Hung et al. 2018: per pixel, does this label map look like ground truth?"""

import keras
from keras import layers

from keras_segen.layers import ResizeLike, spectral_norm
from keras_segen.models.validation import check_input_shape, check_int

CONVOLUTIONS = 5  # each 4x4 with stride 2


def confidence_discriminator(
    input_shape=(320, 320, 21),
    filters=64,
    spectral_normalization=False,
    name="confidence_discriminator",
):
    """Builds the fully convolutional discriminator of semi-supervised adversarial segmentation.

    Hung, Tsai, Liou, Lin & Yang, "Adversarial Learning for Semi-Supervised Semantic
    Segmentation", BMVC 2018 (authors' code: hfslyc/AdvSemiSeg ``FCDiscriminator``). The
    input is a label map alone (softmax probabilities or one-hot ground truth, no image):
    five 4x4 convolutions of stride 2 with ``filters``, ``2f``, ``4f``, ``8f`` and 1
    channels, LeakyReLU 0.2 after all but the last, then the logit map is resized
    bilinearly to the input's size. ``sigmoid`` of a pixel's logit is the discriminator's
    confidence that the label map is ground truth there: the semi-supervised trainer keeps
    a pseudo-label where it is high.

    Args:
        input_shape: ``(H, W, num_classes)`` of the label maps; H and W may be ``None``.
        filters: width of the first convolution (``ndf`` = 64 in the paper).
        spectral_normalization: wrap every convolution in ``keras_segen.layers.SpectralNorm``.
        name: model name.

    Returns:
        A functional ``keras.Model``: ``(B, H, W, C)`` probabilities ``-> (B, H, W, 1)``
        float32 logits.

    Example:
        >>> discriminator = keras_segen.confidence_discriminator((64, 64, 4))
        >>> discriminator(np.full((2, 64, 64, 4), 0.25)).shape  # one logit per pixel
        TensorShape([2, 64, 64, 1])
    """
    builder = "confidence_discriminator"
    check_int(builder, "filters", filters, minimum=1)
    check_input_shape(builder, input_shape)
    if input_shape[-1] < 2:
        raise ValueError(
            f"{builder}: the label map needs >= 2 class channels; got input_shape="
            f"{tuple(input_shape)}."
        )
    label_map = keras.Input(tuple(input_shape), name="label_map")
    x = label_map
    widths = [filters * 2**index for index in range(CONVOLUTIONS - 1)] + [1]
    for index, width in enumerate(widths, start=1):
        convolution = layers.Conv2D(width, 4, strides=2, padding="same", name=f"conv{index}")
        x = spectral_norm(convolution, spectral_normalization)(x)
        if index < len(widths):
            x = layers.LeakyReLU(0.2, name=f"leaky_relu{index}")(x)
    logits = ResizeLike(dtype="float32", name="logit_map")([x, label_map])
    return keras.Model(label_map, logits, name=name)


PAPER = (
    "Hung, Tsai, Liou, Lin & Yang, Adversarial Learning for Semi-Supervised Semantic "
    "Segmentation, BMVC 2018"
)
PRESETS = {
    "confidence_discriminator": {
        "paper": {
            "description": "ndf 64 on 21-class VOC label maps at 321x321, as in AdvSemiSeg",
            "config": {"input_shape": (321, 321, 21), "filters": 64},
        },
        "tiny": {
            "description": "8 filters, 3 classes at 32x32 (tests)",
            "config": {"input_shape": (32, 32, 3), "filters": 8},
        },
    },
}  # fmt: skip
