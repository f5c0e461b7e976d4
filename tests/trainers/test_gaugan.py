"""GauGAN (SPADE's trainer): losses by hand, TTUR defaults, label -> image pipelines.
Fit and saving with both optimizers on TensorFlow and JAX, building under mixed precision:
the shared harness (test_harness_suite, recipe "spade"); exports: tests/export."""

import keras
import numpy as np
import pytest

import keras_segen

SIZE, CLASSES = 8, 2


def constant_painter(value):
    """one-hot map -> an image of ``value`` everywhere (a 1x1 conv with zero kernel)."""
    maps = keras.Input((SIZE, SIZE, CLASSES))
    paint = keras.layers.Conv2D(3, 1, kernel_initializer="zeros",
                                bias_initializer=keras.initializers.Constant(value))  # fmt: skip
    return keras.Model(maps, paint(maps))


def two_scale_judge():
    """``[map, image]`` -> per scale ``[image features, logits = channel mean]``; the second
    scale sees the image average-pooled and doubled."""
    maps, image = keras.Input((SIZE, SIZE, CLASSES)), keras.Input((SIZE, SIZE, 3))
    mean = keras.layers.Conv2D(1, 1, kernel_initializer=keras.initializers.Constant(1 / 3),
                               use_bias=False)  # fmt: skip
    doubled = keras.layers.Rescaling(2.0)(keras.layers.AveragePooling2D(2)(image))
    outputs = [[keras.layers.Identity()(image), mean(image)], [doubled, mean(doubled)]]
    return keras.Model([maps, image], outputs)


def test_losses_by_hand():
    """Generated 0.5 against real -0.5 everywhere; the second scale sees 1 against -1.
    D hinge: relu(1 + 0.5) + relu(1 + 0.5) = 3 and relu(1 + 1) + relu(1 + 1) = 4, mean 3.5;
    G hinge: -0.5 and -1, mean -0.75; feature matching |0.5 + 0.5| = 1 and |1 + 1| = 2,
    mean 1.5; g_loss = -0.75 + 10 * 1.5 = 14.25; L1 = 1."""
    trainer = keras_segen.GauGAN(constant_painter(0.5), two_scale_judge(), num_classes=CLASSES)
    trainer.compile(keras.optimizers.Adam(0.0), keras.optimizers.Adam(0.0))
    maps = np.zeros((2, SIZE, SIZE), "int32")
    images = np.full((2, SIZE, SIZE, 3), -0.5, "float32")
    history = trainer.fit(maps, images, batch_size=2, epochs=1, verbose=0).history
    logged = {name: round(values[0], 5) for name, values in history.items()}
    assert logged == {
        "d_loss": 3.5, "adversarial_loss": -0.75, "feature_matching_loss": 1.5,
        "g_loss": 14.25, "l1_loss": 1.0,
    }  # fmt: skip
    network, classes = keras_segen.pipelines.label_to_image_generator(trainer)
    assert network is trainer.generator and classes == CLASSES


def test_compile_defaults_to_the_authors_two_time_scale_rule():
    trainer = keras_segen.GauGAN(constant_painter(0.0), two_scale_judge(), num_classes=CLASSES)
    trainer.compile()
    rates = [float(o.learning_rate) for o in (trainer.g_optimizer, trainer.d_optimizer)]
    np.testing.assert_allclose(rates, [1e-4, 4e-4])
    for optimizer in (trainer.g_optimizer, trainer.d_optimizer):
        assert (optimizer.beta_1, optimizer.beta_2) == (0.0, 0.9)


def test_errors():
    with pytest.raises(ValueError, match="feature_matching_weight must be >= 0"):
        keras_segen.GauGAN(constant_painter(0.0), two_scale_judge(), feature_matching_weight=-1)
    with pytest.raises(ValueError, match="num_classes=3 does not match"):
        keras_segen.GauGAN(constant_painter(0.0), two_scale_judge(), num_classes=3)
