"""Offline FID for shapes-like images: ``shapes_extractor`` (a small segmenter trained on
the embedded shapes data) and ``sample_fid``, which scores a generation trainer's samples.
The numbers compare generators with each other, not with published (InceptionV3) FID."""

import numpy as np

from keras_segen.metrics.generation import FeatureExtractor, generation_report

_SHAPES_EXTRACTORS = {}  # cache path -> FeatureExtractor


def _shapes_segmenter():
    """A 32x32 CNN labelling 8x8 cells as background, circle, rectangle or triangle."""
    import keras
    from keras import layers

    x = image = keras.Input((32, 32, 3), name="image")
    layout = ((16, 1, 1), (32, 2, 1), (32, 1, 1), (64, 2, 1), (64, 1, 2), (64, 1, 4))
    for index, (width, stride, dilation) in enumerate(layout, 1):
        x = layers.Conv2D(width, 3, strides=stride, dilation_rate=dilation, padding="same",
                          use_bias=False, kernel_initializer=keras.initializers.HeNormal(index),
                          name=f"conv{index}")(x)  # fmt: skip
        x = layers.ReLU(name=f"relu{index}")(layers.BatchNormalization(name=f"bn{index}")(x))
    logits = layers.Conv2D(4, 1, kernel_initializer=keras.initializers.GlorotUniform(0))(x)
    return keras.Model(image, logits, name="shapes_segmenter")


def shapes_extractor(cache_dir=None, epochs=8, num_examples=4000):
    """Offline FID features for shapes-like images: a small segmenter's pooled 64-d features.

    A 6-layer CNN learns to label the 8x8 cells of 32x32 ``shapes`` and ``shapes_coloured``
    images (a seed no run uses) as background, circle, rectangle or triangle; images are
    resized to 32x32. FID from these features compares generators with each other; it is
    **not** comparable with published (InceptionV3) FID. Training takes about 40 s on a CPU,
    once: the weights are cached in ``cache_dir`` (default ``$KERAS_HOME/keras_segen``).

    Example:
        >>> extractor = keras_segen.metrics.shapes_extractor()
        >>> extractor(np.zeros((2, 64, 64, 3))).shape, extractor.standard
        ((2, 64), False)
    """
    import os

    import keras

    from keras_segen.data.shape_drawing import shapes_arrays

    home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    name = f"shapes_features_v1_{epochs}x{num_examples}"  # v2, ... when the network changes
    path = os.path.join(cache_dir or os.path.join(home, "keras_segen"), f"{name}.weights.h5")
    if path not in _SHAPES_EXTRACTORS:
        segmenter = _shapes_segmenter()
        if os.path.exists(path):
            segmenter.load_weights(path)
        else:
            parts = [shapes_arrays(num_examples // 2, 32, 4, 9973, start, start > 0)
                     for start in (0, 10**6)]  # fmt: skip
            order = np.random.default_rng(0).permutation(num_examples // 2 * 2)
            images = np.concatenate([p[0] for p in parts])[order].astype("float32") / 255.0
            cells = np.concatenate([p[1][:, 2::4, 2::4] for p in parts])[order].astype("int32")
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            segmenter.compile(keras.optimizers.Adam(3e-3), loss)
            segmenter.fit(images, cells, 32, epochs, verbose=0, shuffle=False)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            segmenter.save_weights(path + ".part.weights.h5")  # renamed whole: no torn reads
            os.replace(path + ".part.weights.h5", path)
        pooled = keras.layers.GlobalAveragePooling2D()(segmenter.get_layer("relu6").output)
        features = keras.Model(segmenter.input, pooled, name="shapes_features")
        description = f"{name}: shapes segmenter, 64-d pooled at 32x32, not Inception"
        _SHAPES_EXTRACTORS[path] = FeatureExtractor(
            features, (32, 32), description, input_range=(0, 1)
        )
    return _SHAPES_EXTRACTORS[path]


def sample_fid(trainer, real, num_images=1000, seed=0, extractor=None, batch_size=250):
    """``generation_report`` (FID, KID) of a generation trainer's samples against real data.

    ``real``: arrays or a batched dataset in the trainer's training form, of which the first
    ``num_images`` examples are used: images (``GAN``, ``VAE``: as many latent draws from
    ``seed``), ``(images, labels)`` (``ConditionalGAN``: the same labels) or ``(label maps,
    images)`` (``Pix2Pix``). Features: ``extractor`` or ``shapes_extractor()`` (then not
    comparable with published FID). About 3 s on a CPU for 1000 images at 32x32.

    Example:
        >>> gan = keras_segen.GAN(keras_segen.dcgan_generator(8, (32, 32, 3), filters=4),
        ...                       keras_segen.dcgan_discriminator((32, 32, 3), filters=4))
        >>> real = keras_segen.data.load_images("shapes", "test", 32, num_examples=64)
        >>> report = keras_segen.metrics.sample_fid(gan, real)
        >>> report["generated_images"], report["fid"] > 0, report["comparable_with_published_fid"]
        (64, True, False)
    """
    from keras_segen.data.arrays import first_examples
    from keras_segen.inference import predict_batch

    parts = real if isinstance(real, (np.ndarray, tuple)) else first_examples(real, num_images)
    parts = [np.asarray(p)[:num_images] for p in (parts if isinstance(parts, tuple) else [parts])]
    count, inputs, images = len(parts[0]), [parts[0]], parts[-1]  # Pix2Pix: (sources, images)
    if hasattr(trainer, "latent_dim"):
        latent = np.random.default_rng(seed).normal(size=(count, trainer.latent_dim))
        inputs, images = [latent.astype("float32")], parts[0]
        if getattr(trainer, "num_classes", None):  # ConditionalGAN: the real labels
            labels = parts[1] if len(parts) > 1 else np.arange(count) % trainer.num_classes
            inputs.append(np.asarray(labels, "int32").reshape(-1))
    batches = [[x[i : i + batch_size] for x in inputs] for i in range(0, count, batch_size)]
    generated = np.concatenate(
        [predict_batch(trainer, b if len(b) > 1 else b[0]) for b in batches]
    )
    return generation_report(images, generated, extractor or shapes_extractor())
