"""Generation metrics: FID, KID, Inception Score and novelty (PSNR/SSIM: ``metrics.paired``).

FID and KID compare feature statistics of real and generated images. The features come
from a pluggable ``FeatureExtractor``. Only InceptionV3 pool features at 299x299 with
trained weights (``inception_extractor("imagenet")`` or a local weights file) are the
standard setting; any other extractor gives numbers that are useful for comparing models
with each other but not with published FID values, and every report says which it is.
Published FIDs use the TTUR Inception graph of 2015; Keras' ImageNet InceptionV3 weights
are a different training of the same network, so expect small absolute offsets even then.
Offline, ``keras_segen.metrics.shapes_features`` gives FIDs that compare generators of
shapes-like images with each other.
"""

import sys

import numpy as np

INCEPTION_SIZE = 299


class FeatureExtractor:
    """Maps images in [-1, 1] to feature vectors for FID, KID and novelty.

    Args:
        model: a Keras model taking images at ``input_size`` and returning ``(B, D)``.
        input_size: ``(H, W)`` the images are resized to (bilinear), or ``None`` to keep.
        name: description used in reports.
        standard: whether FID from these features is the standard (comparable) setting.
        input_range: ``(low, high)`` the model expects; images are mapped from [-1, 1].

    Example:
        >>> encoder = keras.Sequential(
        ...     [keras.Input((8, 8, 3)), keras.layers.GlobalAveragePooling2D()])
        >>> extractor = keras_segen.metrics.FeatureExtractor(
        ...     encoder, (8, 8), "mean colour", input_range=(0, 1))
        >>> features = extractor(np.zeros((5, 32, 32, 3)))  # images in [-1, 1]: 0 -> 0.5
        >>> features.shape, features[0].tolist()
        ((5, 3), [0.5, 0.5, 0.5])
    """

    def __init__(self, model, input_size=None, name=None, standard=False, input_range=(-1, 1)):
        self.model = model
        self.input_size = input_size
        self.name = name or model.name
        self.standard = standard
        self.input_range = input_range

    def preprocess(self, images):
        """Resizes, repeats a single channel to the model's channels and maps the range."""
        from keras import ops

        images = ops.convert_to_tensor(np.asarray(images, np.float32))
        channels = self.model.inputs[0].shape[-1]
        if images.shape[-1] == 1 and channels not in (None, 1):
            images = ops.repeat(images, channels, axis=-1)
        if self.input_size is not None:
            images = ops.image.resize(images, self.input_size, interpolation="bilinear")
        low, high = self.input_range
        return (images + 1.0) * (0.5 * (high - low)) + low

    def __call__(self, images, batch_size=50):
        """Features of ``images`` (an array or a ``tf.data`` dataset of images or tuples)."""
        from keras_segen.inference import predict_batch

        features = []
        for batch in _image_batches(images, batch_size):
            features.append(predict_batch(self.model, self.preprocess(batch)))
        if not features:
            raise ValueError("No images to extract features from.")
        return np.concatenate(features).reshape(sum(len(f) for f in features), -1)


def _is_tf_dataset(images):
    tf = sys.modules.get("tensorflow")  # a tf.data dataset implies TensorFlow is imported
    return tf is not None and isinstance(images, tf.data.Dataset)


def _image_batches(images, batch_size):
    if _is_tf_dataset(images):
        element = images.element_spec
        if isinstance(element, tuple):
            images = images.map(lambda *parts: parts[0])
            element = element[0]
        if element.shape.rank == 3:
            images = images.batch(batch_size)
        yield from images.as_numpy_iterator()
        return
    images = np.asarray(images, np.float32)
    if images.ndim != 4:
        raise ValueError(f"images must be (N, H, W, C); got shape {images.shape}.")
    for start in range(0, len(images), batch_size):
        yield images[start : start + batch_size]


def inception_extractor(weights="imagenet"):
    """InceptionV3 global-average-pool features (2048-d) at 299x299: the FID standard.

    Args:
        weights: ``"imagenet"`` (downloaded by Keras; needs internet once), the path of a
            local InceptionV3 no-top weights file, or ``None`` (random weights: a smoke
            test only, labelled not comparable).

    Returns:
        A ``FeatureExtractor``; ``standard`` is ``True`` unless ``weights`` is ``None``.

    Example:
        >>> extractor = keras_segen.metrics.inception_extractor(None)  # random: a smoke test
        >>> extractor(np.zeros((2, 32, 32, 3))).shape, extractor.standard
        ((2, 2048), False)
        >>> extractor = keras_segen.metrics.inception_extractor("imagenet")  # doctest: +SKIP
    """
    import keras

    model = keras.applications.InceptionV3(
        include_top=False,
        weights=weights,
        pooling="avg",
        input_shape=(INCEPTION_SIZE, INCEPTION_SIZE, 3),
    )
    return _inception(model, "pool 2048-d", weights)


def _inception(model, output, weights):
    label = "random weights" if weights is None else f"weights {weights}"
    size = (INCEPTION_SIZE, INCEPTION_SIZE)
    description = f"InceptionV3 {output} at 299x299, {label}"
    return FeatureExtractor(model, size, description, standard=weights is not None)


def inception_classifier(weights="imagenet"):
    """InceptionV3 with its 1000-way softmax at 299x299, for the Inception Score.

    Example:
        >>> classifier = keras_segen.metrics.inception_classifier(None)  # random: a smoke test
        >>> probabilities = classifier(np.zeros((2, 32, 32, 3)))
        >>> probabilities.shape, bool(np.allclose(probabilities.sum(axis=1), 1, atol=1e-5))
        ((2, 1000), True)
        >>> classifier = keras_segen.metrics.inception_classifier()  # doctest: +SKIP
    """
    import keras

    model = keras.applications.InceptionV3(weights=weights, classifier_activation="softmax")
    return _inception(model, "softmax", weights)


def _as_features(features, argument):
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(
            f"{argument} must be (N, D) features with N >= 2; got shape {features.shape}."
        )
    return features


def frechet_distance_from_statistics(mean_a, cov_a, mean_b, cov_b):
    """``|m_a - m_b|^2 + tr(C_a + C_b - 2 (C_a^1/2 C_b C_a^1/2)^1/2)`` of two Gaussians.

    The matrix square roots come from symmetric eigendecompositions, which stay real and
    stable for the rank-deficient covariances of small sample sets.

    Example:
        >>> fid = keras_segen.metrics.frechet_distance_from_statistics([0], [[1]], [2], [[4]])
        >>> round(fid, 6)  # (0 - 2)**2 + 1 + 4 - 2 * sqrt(1 * 4)
        5.0
    """
    mean_a, mean_b = np.asarray(mean_a, np.float64), np.asarray(mean_b, np.float64)
    cov_a, cov_b = np.atleast_2d(cov_a).astype(np.float64), np.atleast_2d(cov_b).astype(np.float64)
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    middle = root_a @ cov_b @ root_a
    trace_root = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)))
    distance = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root
    return float(max(distance, 0.0))


def frechet_distance(real_features, generated_features):
    """FID between two feature sets ``(N, D)`` (Heusel et al., NeurIPS 2017).

    Example:
        >>> real = np.random.default_rng(0).normal(size=(100, 8))
        >>> round(keras_segen.metrics.frechet_distance(real, real + 1.0), 6)  # 8 dims x 1**2
        8.0
    """
    real = _as_features(real_features, "real_features")
    generated = _as_features(generated_features, "generated_features")
    if real.shape[1] != generated.shape[1]:
        raise ValueError(
            f"Feature sizes differ: real {real.shape[1]}, generated {generated.shape[1]}."
        )
    return frechet_distance_from_statistics(
        real.mean(0), np.cov(real, rowvar=False), generated.mean(0), np.cov(generated, rowvar=False)
    )


def kernel_inception_distance(
    real_features, generated_features, num_subsets=100, subset_size=1000, seed=0
):
    """KID: unbiased MMD^2 with the kernel ``(x.y / D + 1)^3`` (Binkowski et al., ICLR 2018).

    Averaged over ``num_subsets`` random subsets of ``min(subset_size, N_real, N_gen)``.

    Returns:
        ``(mean, standard deviation)`` over the subsets.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> real, same = rng.normal(size=(200, 16)), rng.normal(size=(200, 16))
        >>> shifted = rng.normal(1.0, size=(200, 16))
        >>> kid = keras_segen.metrics.kernel_inception_distance
        >>> abs(kid(real, same, 10, 100)[0]) < 0.05 < kid(real, shifted, 10, 100)[0]
        True
    """
    real = _as_features(real_features, "real_features")
    generated = _as_features(generated_features, "generated_features")
    dimension = real.shape[1]
    size = min(subset_size, len(real), len(generated))
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(num_subsets):
        x = real[rng.choice(len(real), size, replace=False)]
        y = generated[rng.choice(len(generated), size, replace=False)]
        k_xx = (x @ x.T / dimension + 1) ** 3
        k_yy = (y @ y.T / dimension + 1) ** 3
        k_xy = (x @ y.T / dimension + 1) ** 3
        off_diagonal = size * (size - 1)
        values.append(
            (k_xx.sum() - np.trace(k_xx)) / off_diagonal
            + (k_yy.sum() - np.trace(k_yy)) / off_diagonal
            - 2 * k_xy.mean()
        )
    return float(np.mean(values)), float(np.std(values))


def inception_score(probabilities, splits=10):
    """Inception Score ``exp(E_x KL(p(y|x) || p(y)))`` (Salimans et al., NeurIPS 2016).

    Args:
        probabilities: ``(N, K)`` class probabilities of generated images (e.g. from
            ``inception_classifier``).
        splits: the score is computed on this many equal parts.

    Returns:
        ``(mean, standard deviation)`` over the splits.

    Example:
        >>> score, std = keras_segen.metrics.inception_score(np.eye(4), splits=1)
        >>> round(score, 6)  # four confident predictions of four different classes
        4.0
        >>> score, std = keras_segen.metrics.inception_score(np.full((4, 4), 0.25), splits=1)
        >>> round(score, 6)  # no image looks like any class
        1.0
    """
    probabilities = _as_features(probabilities, "probabilities")
    if np.any(probabilities < 0) or not np.allclose(probabilities.sum(1), 1, atol=1e-3):
        raise ValueError("probabilities must be non-negative rows that sum to 1.")
    if not 1 <= splits <= len(probabilities):
        raise ValueError(f"splits must be in [1, {len(probabilities)}]; got {splits}.")
    scores = []
    for part in np.array_split(probabilities, splits):
        marginal = part.mean(0, keepdims=True)
        kl = np.sum(part * (np.log(part + 1e-12) - np.log(marginal + 1e-12)), axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


def nearest_neighbour_distances(queries, references, batch_size=1024):
    """Euclidean distance from each query row to its nearest reference row.

    Example:
        >>> keras_segen.metrics.nearest_neighbour_distances([[0, 0], [3, 4]], [[0, 0], [9, 9]])
        array([0., 5.])
    """
    queries = np.asarray(queries, np.float64)
    references = np.asarray(references, np.float64)
    reference_norms = np.sum(references**2, axis=1)
    distances = []
    for start in range(0, len(queries), batch_size):
        block = queries[start : start + batch_size]
        squared = np.sum(block**2, 1)[:, None] - 2 * block @ references.T + reference_norms
        distances.append(np.sqrt(np.clip(squared.min(axis=1), 0, None)))
    return np.concatenate(distances)


def novelty_score(generated_features, training_features, held_out_features=None):
    """How far generated samples are from the training set: exposes memorisation.

    ``novelty`` is the mean distance from each generated sample to its nearest training
    sample in feature space. A generator that copies its data scores close to 0. With
    ``held_out_features`` (real images not used for training), ``ratio`` divides it by
    the same distance for those real images: about 1 for a generator that produces new
    samples as novel as fresh real data, near 0 for one that memorises.

    Returns:
        ``{"novelty": float, "held_out_novelty": float | None, "ratio": float | None}``.

    Example:
        >>> training = [[0, 0], [10, 0]]
        >>> generated, held_out = [[0, 1], [10, 1]], [[0, 2], [10, 2]]
        >>> keras_segen.metrics.novelty_score(generated, training, held_out)
        {'novelty': 1.0, 'held_out_novelty': 2.0, 'ratio': 0.5}
    """
    generated = _as_features(generated_features, "generated_features")
    training = _as_features(training_features, "training_features")
    novelty = float(nearest_neighbour_distances(generated, training).mean())
    held_out = None
    if held_out_features is not None:
        held_out_set = _as_features(held_out_features, "held_out_features")
        held_out = float(nearest_neighbour_distances(held_out_set, training).mean())
    ratio = novelty / held_out if held_out else None
    return {"novelty": novelty, "held_out_novelty": held_out, "ratio": ratio}


def generation_report(real_images, generated_images, extractor, training_images=None):
    """FID, KID and (with ``training_images``) novelty of generated images, in one dict.

    The report names the extractor and says whether its FID is comparable with
    published values (``comparable_with_published_fid``).

    Example:
        >>> encoder = keras.Sequential(
        ...     [keras.Input((8, 8, 3)), keras.layers.GlobalAveragePooling2D()])
        >>> extractor = keras_segen.metrics.FeatureExtractor(encoder, name="mean colour")
        >>> real = np.random.default_rng(0).uniform(-1, 0.5, (20, 8, 8, 3))
        >>> report = keras_segen.metrics.generation_report(real, real + 0.5, extractor, real)
        >>> round(report["fid"], 4), report["comparable_with_published_fid"]  # 3 x 0.5**2
        (0.75, False)
        >>> sorted(report)
        ['comparable_with_published_fid', 'feature_extractor', 'fid', 'generated_images',
         'held_out_novelty', 'kid', 'kid_std', 'novelty', 'ratio', 'real_images']
    """
    real = extractor(real_images)
    generated = extractor(generated_images)
    kid, kid_std = kernel_inception_distance(real, generated, num_subsets=50)
    report = {
        "fid": frechet_distance(real, generated),
        "kid": kid,
        "kid_std": kid_std,
        "real_images": len(real),
        "generated_images": len(generated),
        "feature_extractor": extractor.name,
        "comparable_with_published_fid": bool(extractor.standard),
    }
    if training_images is not None:
        report.update(novelty_score(generated, extractor(training_images), real))
    return report
