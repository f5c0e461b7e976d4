"""The adversarial network of Luc et al. 2016: is this label map the ground truth for this image?"""

import keras
from keras import layers

from keras_segen.layers import spectral_norm
from keras_segen.models.validation import check_input_shape, check_int


def label_map_discriminator(
    input_shape=(256, 256, 3),
    num_classes=21,
    filters=64,
    spectral_normalization=False,
    name="label_map_discriminator",
):
    """Builds the discriminator of adversarial segmentation: ``[image, label map] -> logit``.

    Luc, Couprie, Chintala & Verbeek, "Semantic Segmentation using Adversarial Networks",
    NIPS workshop 2016, the network they used on Stanford Background: a label-map branch
    (5x5 convolution, ``filters``) and an image branch (5x5 convolutions of ``filters / 4``
    and ``filters``) are concatenated, then 3x3 convolutions of ``2f`` and ``4f`` each
    followed by 2x2 max pooling, one of ``8f``, and a 3x3 convolution to one channel,
    averaged over the image into a single logit ("ground truth" vs "predicted"). The paper
    feeds it label maps at 1/4 of the image resolution; here both inputs share the
    segmenter's full resolution, so the image branch does not pool.

    The label map is a per-pixel class distribution: softmax probabilities of a segmenter,
    or the (scaled) one-hot ground truth; see ``AdversarialSegmenter``.

    Args:
        input_shape: ``(H, W, C)`` of the images; H and W may be ``None``.
        num_classes: channels of the label map.
        filters: width ``f`` of the label-map branch (64 in the paper).
        spectral_normalization: wrap every convolution in ``keras_segen.layers.SpectralNorm``.
        name: model name.

    Returns:
        A functional ``keras.Model``: ``[(B, H, W, C) image, (B, H, W, num_classes)
        probabilities] -> (B, 1)`` float32 logits.

    Example:
        >>> discriminator = keras_segen.label_map_discriminator((64, 64, 3), num_classes=4)
        >>> image, label_map = np.zeros((2, 64, 64, 3)), np.full((2, 64, 64, 4), 0.25)
        >>> discriminator([image, label_map]).shape  # one logit per (image, label map) pair
        TensorShape([2, 1])
    """
    builder = "label_map_discriminator"
    check_int(builder, "num_classes", num_classes, minimum=2)
    check_int(builder, "filters", filters, minimum=4)
    height, width, _ = check_input_shape(builder, input_shape, min_size=4)

    def _conv(x, filters, kernel_size, name, activation="relu"):
        convolution = layers.Conv2D(
            filters, kernel_size, padding="same", activation=activation, name=name
        )
        return spectral_norm(convolution, spectral_normalization)(x)

    image = keras.Input(tuple(input_shape), name="image")
    label_map = keras.Input((height, width, num_classes), name="label_map")
    labels = _conv(label_map, filters, 5, "label_conv")
    pixels = _conv(image, filters // 4, 5, "image_conv1")
    pixels = _conv(pixels, filters, 5, "image_conv2")
    x = layers.Concatenate(name="image_and_labels")([labels, pixels])
    for index, width_factor in enumerate((2, 4), start=1):
        x = _conv(x, filters * width_factor, 3, f"joint_conv{index}")
        x = layers.MaxPooling2D(2, name=f"joint_pool{index}")(x)
    x = _conv(x, filters * 8, 3, "joint_conv3")
    x = _conv(x, 1, 3, "logit_map", activation=None)
    logit = layers.GlobalAveragePooling2D(dtype="float32", name="logit")(x)
    return keras.Model([image, label_map], logit, name=name)


PAPER = (
    "Luc, Couprie, Chintala & Verbeek, Semantic Segmentation using Adversarial Networks, "
    "NIPS Workshop on Adversarial Training 2016"
)
PRESETS = {
    "label_map_discriminator": {
        "tiny": {
            "description": "8 filters, 3 classes at 32x32 (tests)",
            "config": {"input_shape": (32, 32, 3), "num_classes": 3, "filters": 8},
        },
    },
}  # fmt: skip
