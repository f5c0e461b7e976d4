"""Metrics of paired outputs (image-to-image translation): PSNR and SSIM, in NumPy.

Both take the images' ``value_range``: ``(-1, 1)`` (the library's generator outputs, the
default) or ``(0, 1)`` (segmentation inputs), or any ``(low, high)``.
"""

import numpy as np


def _paired(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim != 4:
        raise ValueError(
            f"Paired images must have the same (N, H, W, C) shape; got {a.shape} and {b.shape}."
        )
    return a, b


def _check_range(value_range):
    """``(low, high)`` with ``low < high``; returns the two floats."""
    try:
        low, high = (float(value) for value in value_range)
    except (TypeError, ValueError):
        raise ValueError(f"value_range must be (low, high); got {value_range!r}.") from None
    if not low < high:
        raise ValueError(f"value_range must have low < high; got {value_range!r}.")
    return low, high


def psnr(images, references, value_range=(-1.0, 1.0)):
    """Mean peak signal-to-noise ratio in dB of images whose values lie in ``value_range``.

    Each pair's PSNR ``10 log10((high - low)^2 / MSE)`` is averaged over the batch.

    Example:
        >>> black, grey = np.zeros((1, 8, 8, 3)), np.full((1, 8, 8, 3), 0.5)
        >>> round(keras_segen.metrics.psnr(black, grey), 4)  # 10 log10(2**2 / 0.5**2)
        12.0412
        >>> round(keras_segen.metrics.psnr(black, grey, value_range=(0, 1)), 4)  # peak 1
        6.0206
    """
    a, b = _paired(images, references)
    low, high = _check_range(value_range)
    mse = np.mean((a - b) ** 2, axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        return float(np.mean(10.0 * np.log10((high - low) ** 2 / mse)))


SSIM_WINDOW, SSIM_SIGMA, SSIM_K1, SSIM_K2 = 11, 1.5, 0.01, 0.03


def _gaussian_filter(images):
    """``images (N, H, W, C)`` filtered by the normalised 11x11 Gaussian, 'valid' borders."""
    offsets = np.arange(SSIM_WINDOW) - (SSIM_WINDOW - 1) / 2
    kernel = np.exp(-(offsets**2) / (2 * SSIM_SIGMA**2))
    kernel /= kernel.sum()
    windows = np.lib.stride_tricks.sliding_window_view(images, SSIM_WINDOW, axis=1)
    rows = np.einsum("nhwck,k->nhwc", windows, kernel)
    windows = np.lib.stride_tricks.sliding_window_view(rows, SSIM_WINDOW, axis=2)
    return np.einsum("nhwck,k->nhwc", windows, kernel)


def ssim(images, references, value_range=(-1.0, 1.0)):
    """Mean structural similarity of images whose values lie in ``value_range``.

    Wang, Bovik, Sheikh & Simoncelli, "Image Quality Assessment: From Error Visibility to
    Structural Similarity", IEEE TIP 2004, as scikit-image's ``structural_similarity``
    computes it with ``gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
    data_range=high - low``: an 11x11 Gaussian window (sigma 1.5), K1 0.01, K2 0.03,
    positions whose window lies inside the image, the mean over positions and channels,
    then over the batch. The luminance term compares intensities, so they are measured
    from ``low`` (SSIM is defined for non-negative intensities): images in [-1, 1] score
    exactly what the same images mapped to [0, 1] score. (``tf.image.ssim`` with
    ``max_val=2`` on [-1, 1] images does not: two flat images at 0.05 and -0.05 get -0.85
    there and 0.995 here.)

    Args:
        images: ``(N, H, W, C)``, H and W at least 11.
        references: the same shape.
        value_range: ``(low, high)`` of the images' values: ``(-1, 1)`` for generator
            outputs, ``(0, 1)`` for images in [0, 1].

    Returns:
        The mean SSIM, a float in [-1, 1].

    Example:
        >>> images = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3))
        >>> round(keras_segen.metrics.ssim(images, images), 4)
        1.0
        >>> keras_segen.metrics.ssim(images, images[::-1]) < 0.1  # unrelated noise
        True
        >>> flat = np.ones((1, 16, 16, 1))
        >>> round(keras_segen.metrics.ssim(0.05 * flat, -0.05 * flat), 4)  # 0.525 vs 0.475
        0.995
    """
    a, b = _paired(images, references)
    low, high = _check_range(value_range)
    if min(a.shape[1:3]) < SSIM_WINDOW:
        raise ValueError(
            f"ssim needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW}; got {a.shape[1:3]}."
        )
    a, b = a - low, b - low
    data_range = high - low
    c1, c2 = (SSIM_K1 * data_range) ** 2, (SSIM_K2 * data_range) ** 2
    mean_a, mean_b = _gaussian_filter(a), _gaussian_filter(b)
    var_a = _gaussian_filter(a * a) - mean_a**2
    var_b = _gaussian_filter(b * b) - mean_b**2
    covariance = _gaussian_filter(a * b) - mean_a * mean_b
    luminance = (2 * mean_a * mean_b + c1) / (mean_a**2 + mean_b**2 + c1)
    structure = (2 * covariance + c2) / (var_a + var_b + c2)
    return float(np.mean(np.mean(luminance * structure, axis=(1, 2, 3))))
