"""What every decoder over the encoder seam shares: running the encoder on the input,
upsampling a coarse map to a finer one's size, and segmentation_models.pytorch's
``Conv2dReLU`` block with PyTorch's BatchNorm settings."""

from keras import layers

from keras_segen.layers import ResizeLike
from keras_segen.models.encoders import ENCODER_LAYER, encoder


def encode(inputs, backbone, weights=None, output_stride=32, freeze=False, backbone_kwargs=None):
    """The feature pyramid ``{"P1": ..., "P5": ...}`` of ``backbone`` on ``inputs``.

    The encoder is one layer of the model, named ``"encoder"`` (``freeze_encoder`` finds it),
    built by ``keras_segen.encoder`` for the input's shape.
    """
    network = encoder(
        backbone,
        tuple(inputs.shape[1:]),
        weights=weights,
        output_stride=output_stride,
        freeze=freeze,
        name=ENCODER_LAYER,
        **(backbone_kwargs or {}),
    )
    return network(inputs)


def upsample_like(x, reference, interpolation="nearest", name="upsample"):
    """``x`` upsampled to ``reference``'s height and width: ``UpSampling2D`` where the sizes
    are known and an exact multiple, else a resize to the reference's size (unknown sizes,
    and the odd sizes of the ``"valid"``-padded Xception, Inception and NASNet)."""
    size, target = tuple(x.shape[1:3]), tuple(reference.shape[1:3])
    factor = None
    if None not in size + target and target[0] % size[0] == 0:
        factor = target[0] // size[0]
        if target != (size[0] * factor, size[1] * factor):
            factor = None
    if factor is None:
        return ResizeLike(interpolation, name=name)([x, reference])
    if factor == 1:
        return x
    return layers.UpSampling2D(factor, interpolation=interpolation, name=name)(x)


# PyTorch's BatchNorm2d (eps 1e-5, momentum 0.1 = Keras momentum 0.9).
BN_EPSILON, BN_MOMENTUM = 1e-5, 0.9


def norm_relu(x, batch_norm, name):
    """BatchNorm with PyTorch's settings (if ``batch_norm``), then ReLU."""
    if batch_norm:
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON,
                                      name=f"{name}_bn")(x)  # fmt: skip
    return layers.ReLU(name=f"{name}_relu")(x)


def conv_norm_relu(x, filters, kernel_size, batch_norm, name):
    """SMP's ``Conv2dReLU``: convolution (a bias only without BatchNorm, He-uniform as SMP
    initialises decoders), BatchNorm, ReLU."""
    x = layers.Conv2D(filters, kernel_size, padding="same", use_bias=not batch_norm,
                      kernel_initializer="he_uniform", name=f"{name}_conv")(x)  # fmt: skip
    return norm_relu(x, batch_norm, name)
