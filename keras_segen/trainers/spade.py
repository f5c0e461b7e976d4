"""SPADE (GauGAN) trainer: hinge loss on every scale + feature matching, TTUR (Park et al. 2019)."""

import keras
from keras import ops

from keras_segen.trainers.gan import discriminator_loss, generator_loss
from keras_segen.trainers.pix2pix import Pix2Pix

# NVlabs/SPADE's two time-scale update rule: lr 2e-4 halved for G, doubled for D.
G_LEARNING_RATE, D_LEARNING_RATE, BETAS = 1e-4, 4e-4, (0.0, 0.9)


def discriminator_scales(outputs):
    """A discriminator's outputs as ``[[features..., logits], ...]``, one list per scale.

    ``spade_discriminator`` already returns that; a single-scale discriminator that returns
    only logits (``patchgan_discriminator``) becomes ``[[logits]]``.

    Example:
        >>> logits = np.zeros((1, 4, 4, 1))
        >>> len(keras_segen.trainers.discriminator_scales(logits)[0])
        1
    """
    if not isinstance(outputs, (list, tuple)):
        return [[outputs]]
    return [list(scale) if isinstance(scale, (list, tuple)) else [scale] for scale in outputs]


def feature_matching_loss(real_scales, fake_scales):
    """Mean over scales of the summed L1 distances of the discriminator's features.

    Wang et al. 2018 (pix2pixHD), as SPADE computes it: for each scale, the mean absolute
    difference of every intermediate feature map (not the logits) between the real and the
    generated image, summed over the layers and divided by the number of scales.

    Example:
        >>> real = [[np.ones((1, 2, 2, 1)), np.zeros((1, 1, 1, 1))]]  # one feature, logits
        >>> fake = [[np.full((1, 2, 2, 1), 0.5), np.ones((1, 1, 1, 1))]]
        >>> float(keras_segen.trainers.feature_matching_loss(real, fake))
        0.5
    """
    total = 0.0
    for real, fake in zip(real_scales, fake_scales):
        for real_map, fake_map in zip(real[:-1], fake[:-1]):
            difference = ops.cast(fake_map, "float32") - ops.cast(real_map, "float32")
            total = total + ops.mean(ops.abs(difference))
    return total / len(real_scales)


@keras.saving.register_keras_serializable(package="keras_segen")
class GauGAN(Pix2Pix):
    """Trains a SPADE label -> image generator with ``fit`` on ``(label map, image)`` batches.

    Park, Liu, Wang & Zhu 2019 (NVlabs/SPADE, "GauGAN"): the multi-scale discriminator
    sees ``[one-hot label map, image]``; both networks use the hinge loss, averaged over
    the scales, and the generator adds ``feature_matching_weight`` (10) times the L1
    distance between the discriminator's features of the real and the generated image
    (``feature_matching_loss``). ``compile()`` without optimizers gives the authors' two
    time-scale update rule: Adam(1e-4) for the generator and Adam(4e-4) for the
    discriminator, both with betas (0, 0.9). The authors' VGG perceptual loss is left
    out: it needs ImageNet VGG-19 weights.

    Both networks are updated from one forward pass per step (the authors alternate a
    generator and a discriminator step); sources, targets, ``num_classes`` and the
    held-out L1 of ``evaluate`` are those of ``Pix2Pix``, so a ``GauGAN`` works wherever a
    label -> image ``Pix2Pix`` does (``pipelines.synthesize``, ``edit_scene``).

    Args:
        generator: one-hot label map -> image (``keras_segen.spade_generator``).
        discriminator: ``[label map, image]`` -> per-scale features and logits
            (``keras_segen.spade_discriminator``), or plain patch logits.
        num_classes: classes of the sparse label maps (``None``: the sources are already
            one-hot or images).
        feature_matching_weight: ``lambda_feat`` (10).
        l1_weight: weight of an L1 term to the target (0 in SPADE).
        loss: ``"hinge"`` (SPADE) or ``"bce"``.

    Example:
        >>> pairs = keras_segen.data.load_segmentation(
        ...     "shapes_coloured", image_size=64, batch_size=4, num_examples=8)
        >>> masks_and_images = pairs.map(lambda image, mask: (mask, image * 2 - 1))
        >>> gaugan = keras_segen.GauGAN(
        ...     keras_segen.get_model("spade_generator", "tiny"),
        ...     keras_segen.get_model("spade_discriminator", "tiny"), num_classes=4)
        >>> gaugan.compile()  # TTUR: Adam(1e-4) for G, Adam(4e-4) for D, betas (0, 0.9)
        >>> history = gaugan.fit(masks_and_images, epochs=1, verbose=0)
        >>> sorted(history.history)
        ['adversarial_loss', 'd_loss', 'feature_matching_loss', 'g_loss', 'l1_loss']
        >>> masks = next(iter(masks_and_images))[0]
        >>> gaugan(masks).shape  # label maps in, images in [-1, 1] out
        TensorShape([4, 64, 64, 3])
    """

    def __init__(self, generator, discriminator, num_classes=None, feature_matching_weight=10.0,
                 l1_weight=0.0, loss="hinge", **kwargs):  # fmt: skip
        super().__init__(generator, discriminator, l1_weight, num_classes, loss, **kwargs)
        if feature_matching_weight < 0:
            raise ValueError(
                f"feature_matching_weight must be >= 0; got {feature_matching_weight!r}."
            )
        self.feature_matching_weight = feature_matching_weight
        self.feature_matching_tracker = keras.metrics.Mean(name="feature_matching_loss")

    @property
    def metrics(self):
        return [
            self.d_loss_tracker,
            self.g_loss_tracker,
            self.adversarial_tracker,
            self.feature_matching_tracker,
            self.l1_tracker,
        ]

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """The authors' TTUR optimizers unless given: D Adam(4e-4), G Adam(1e-4), betas (0, 0.9)."""
        super().compile(
            d_optimizer or keras.optimizers.Adam(D_LEARNING_RATE, *BETAS),
            g_optimizer or keras.optimizers.Adam(G_LEARNING_RATE, *BETAS),
            **kwargs,
        )

    def _step_losses(self, source, target):
        """``(d_loss, g_loss, adversarial, feature matching, l1)`` from one forward pass."""
        fake = ops.cast(self.generator(source, training=True), "float32")
        real = discriminator_scales(self.discriminator([source, target], training=True))
        generated = discriminator_scales(self.discriminator([source, fake], training=True))
        d_loss = adversarial = 0.0
        for real_scale, fake_scale in zip(real, generated):
            d_loss += discriminator_loss(real_scale[-1], fake_scale[-1], self.loss_name)
            adversarial += generator_loss(fake_scale[-1], self.loss_name)
        d_loss, adversarial = d_loss / len(real), adversarial / len(real)
        matching = feature_matching_loss(real, generated)
        l1 = ops.mean(ops.abs(target - fake))
        g_loss = adversarial + self.feature_matching_weight * matching + self.l1_weight * l1
        return d_loss, g_loss, adversarial, matching, l1

    def get_config(self):
        return {**super().get_config(), "feature_matching_weight": self.feature_matching_weight}
