"""The options that make the paper presets possible, checked by behaviour."""

import keras
import numpy as np
import pytest

import keras_segen
from keras_segen.layers import MaxPoolingWithArgmax2D, MaxUnpooling2D, SpectralNorm
from keras_segen.models.segmentation.fcn import transplant_fully_connected


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


@pytest.mark.parametrize(
    "layer, inputs",
    [
        (keras.layers.Dense(5), np.random.default_rng(0).normal(size=(3, 7))),
        (keras.layers.Conv2D(6, 3, strides=2, padding="same"),
         np.random.default_rng(1).normal(size=(2, 8, 8, 4))),
        (keras.layers.Embedding(4, 6), np.array([0, 3, 1])),
    ],
)  # fmt: skip
def test_spectral_norm_divides_the_kernel_by_its_largest_singular_value(layer, inputs):
    wrapped = SpectralNorm(layer)
    for _ in range(300):  # one power iteration per training call
        wrapped(inputs, training=True)
    kernel = _numpy(wrapped._kernel())
    sigma = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0]
    normalized = _numpy(wrapped.normalized_kernel())
    np.testing.assert_allclose(normalized, kernel / sigma, rtol=1e-4, atol=1e-6)
    # The output is the wrapped layer's with the normalised kernel; the stored one is kept.
    if isinstance(layer, keras.layers.Embedding):
        expected = normalized[inputs]
    elif isinstance(layer, keras.layers.Dense):
        expected = inputs @ normalized + _numpy(layer.bias)
    else:
        layer.kernel.assign(normalized)
        expected = _numpy(layer(inputs))
        layer.kernel.assign(kernel)
    np.testing.assert_allclose(_numpy(wrapped(inputs)), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(_numpy(wrapped._kernel()), kernel)


def test_spectral_norm_rejects_other_layers():
    with pytest.raises(ValueError, match="Conv2D, Dense or Embedding"):
        SpectralNorm(keras.layers.BatchNormalization())


def test_spectrally_normalised_discriminators_train_and_save(tmp_path):
    discriminator = keras_segen.dcgan_discriminator(
        (32, 32, 3), filters=4, norm=None, spectral_normalization=True
    )
    layers = [layer for layer in discriminator.layers if isinstance(layer, SpectralNorm)]
    names = [f"down{index}_conv_sn" for index in (1, 2, 3)] + ["logit_sn"]
    assert [layer.name for layer in layers] == names
    before = _numpy(layers[0].vector_u).copy()
    gan = keras_segen.GAN(keras_segen.dcgan_generator(8, (32, 32, 3), filters=4), discriminator)
    gan.compile()
    images = np.random.default_rng(0).uniform(-1, 1, (16, 32, 32, 3)).astype("float32")
    gan.fit(images, batch_size=8, epochs=1, verbose=0)
    assert not np.allclose(_numpy(layers[0].vector_u), before)  # u refined while training
    path = tmp_path / "critic.keras"
    discriminator.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(
        _numpy(restored(images[:2])), _numpy(discriminator(images[:2])), rtol=1e-5, atol=1e-6
    )


def test_projection_discriminator_pools_globally():
    critic = keras_segen.conditional_discriminator((32, 32, 3), num_classes=3, filters=4)
    # Miyato & Koyama: the embedding has one entry per channel of the last map (4, 8, 16
    # filters down to 4x4), the linear layer has no bias.
    assert tuple(critic.get_layer("label_projection").embeddings.shape) == (3, 16)
    assert tuple(critic.get_layer("logit").kernel.shape) == (16, 1)
    assert not critic.get_layer("logit").use_bias
    features = keras.Model(critic.inputs, critic.get_layer("down3_lrelu").output)
    images, labels = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)), np.array([0, 2])
    h = _numpy(features([images, labels])).sum(axis=(1, 2))  # global sum pooling
    w = _numpy(critic.get_layer("logit").kernel)[:, 0]
    embedded = _numpy(critic.get_layer("label_projection").embeddings)[labels]
    expected = h @ w + (embedded * h).sum(axis=1)
    np.testing.assert_allclose(_numpy(critic([images, labels]))[:, 0], expected, rtol=1e-4)


def test_pix2pix_skips_enter_through_relu():
    """Both reference implementations: ReLU on [decoder, encoder pre-activation]."""
    generator = keras_segen.pix2pix_generator((32, 32, 3), filters=4)
    skip = generator.get_layer("up1_skip")
    assert skip.input[1].name == generator.get_layer("down4_bn").output.name  # pre-activation
    assert generator.get_layer("up1_relu").input.name == skip.output.name


def test_odd_sizes_pool_their_last_row_alone_and_unpool_back():
    x = np.arange(15, dtype="float32").reshape(1, 3, 5, 1)
    pooled, indices = MaxPoolingWithArgmax2D()(x)
    # Windows: rows (0, 1) and (2,); columns (0, 1), (2, 3), (4,).
    np.testing.assert_array_equal(_numpy(pooled)[0, :, :, 0], [[6, 8, 9], [11, 13, 14]])
    unpooled = _numpy(MaxUnpooling2D((3, 5))([pooled, indices]))[0, :, :, 0]
    expected = np.zeros((3, 5))
    expected[1, 1], expected[1, 3], expected[1, 4] = 6, 8, 9
    expected[2, 1], expected[2, 3], expected[2, 4] = 11, 13, 14
    np.testing.assert_array_equal(unpooled, expected)
    with pytest.raises(ValueError, match="does not invert"):
        MaxUnpooling2D((7, 5)).compute_output_shape(((1, 2, 3, 1), (1, 2, 3, 1)))


def test_fc6_fc7_are_the_transplanted_vgg_classifier():
    """Net surgery: at the centre of a 7x7 pool5 map, fc6/fc7 = VGG's fc1/fc2 on it."""
    model = keras_segen.fcn((224, 224, 3), num_classes=2, filters=4, fc_units=8)
    pool5 = keras.Input((7, 7, 32))
    fc1 = keras.layers.Dense(8, activation="relu", name="fc1")(keras.layers.Flatten()(pool5))
    fc2 = keras.layers.Dense(8, activation="relu", name="fc2")(fc1)
    vgg = keras.Model(pool5, fc2)  # a stand-in with VGG16's layer names
    transplant_fully_connected(vgg, model)
    taps = [model.get_layer(name).output for name in ("block5_pool", "fc7")]
    features = keras.Model(model.inputs, taps)
    images = np.random.default_rng(0).uniform(0, 1, (2, 224, 224, 3)).astype("float32")
    pooled, fc7 = (_numpy(t) for t in features(images))
    np.testing.assert_allclose(fc7[:, 3, 3], _numpy(vgg(pooled)), rtol=1e-4, atol=1e-5)


def test_fcn_warns_when_only_the_conv_body_is_pretrained(tmp_path):
    path = tmp_path / "vgg16_notop.weights.h5"
    keras.applications.VGG16(include_top=False, weights=None).save_weights(path)
    with pytest.warns(UserWarning, match="holds no fully connected layers"):  # VGG16's widths
        keras_segen.fcn((32, 32, 3), num_classes=2, weights=str(path))


def test_reseg_vgg16_stem_loads_and_freezes_weights(tmp_path):
    path = tmp_path / "vgg16_notop.weights.h5"
    vgg = keras.applications.VGG16(include_top=False, weights=None)
    vgg.save_weights(path)
    model = keras_segen.reseg(
        (32, 32, 3), 3, stem="vgg16", weights=str(path), renet_units=(4,), patch_sizes=(1,),
        upsampling_filters=(4, 4), upsampling_kernel_size=2,
    )  # fmt: skip
    loaded, original = (m.get_layer("block3_conv3").get_weights()[0] for m in (model, vgg))
    np.testing.assert_array_equal(loaded, original)
    assert not model.get_layer("block1_conv1").trainable
    assert "block3_pool" not in {layer.name for layer in model.layers}  # stops at conv3_3
    with pytest.raises(ValueError, match="one width per stride-2 layer"):
        keras_segen.reseg((32, 32, 3), 3, stem="vgg16", upsampling_filters=(4,))
    with pytest.raises(ValueError, match="weights need stem='vgg16'"):
        keras_segen.reseg((32, 32, 3), 3, weights="imagenet")


def test_gru_reset_before_the_product_has_one_bias():
    sweep = keras_segen.layers.ReNetSweep(4, "gru", reset_after=False)
    sweep.build((None, 5, 5, 3))
    assert sweep.count_params() == 2 * 3 * (3 * 4 + 4 * 4 + 4)  # Cho et al.: one bias
    restored = keras_segen.layers.ReNetSweep.from_config(sweep.get_config())
    assert restored.reset_after is False
