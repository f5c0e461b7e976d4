"""Metrics of paired outputs (image-to-image translation): PSNR and SSIM, in NumPy."""

import numpy as np


def _paired(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim != 4:
        raise ValueError(
            f"Paired images must have the same (N, H, W, C) shape; got {a.shape} and {b.shape}."
        )
    return a, b


def psnr(images, references, max_val=2.0):
    """Mean peak signal-to-noise ratio in dB; ``max_val`` 2 for images in [-1, 1].

    Each image pair's PSNR ``10 log10(max_val^2 / MSE)`` is averaged over the batch.

    Example:
        >>> black, grey = np.zeros((1, 8, 8, 3)), np.full((1, 8, 8, 3), 0.5)
        >>> round(keras_segen.metrics.psnr(black, grey), 4)  # 10 log10(2**2 / 0.5**2)
        12.0412
    """
    a, b = _paired(images, references)
    mse = np.mean((a - b) ** 2, axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        return float(np.mean(10.0 * np.log10(max_val**2 / mse)))


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


def ssim(images, references, max_val=2.0):
    """Mean structural similarity (Wang et al. 2004, 11x11 Gaussian window, sigma 1.5).

    Computed as ``tf.image.ssim`` does (K1 0.01, K2 0.03, 'valid' borders, mean over
    positions and channels, then over the batch), in NumPy on every backend.

    Example:
        >>> images = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3))
        >>> round(keras_segen.metrics.ssim(images, images), 4)
        1.0
        >>> keras_segen.metrics.ssim(images, images[::-1]) < 0.1  # unrelated noise
        True
    """
    a, b = _paired(images, references)
    if min(a.shape[1:3]) < SSIM_WINDOW:
        raise ValueError(
            f"ssim needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW}; got {a.shape[1:3]}."
        )
    c1, c2 = (SSIM_K1 * max_val) ** 2, (SSIM_K2 * max_val) ** 2
    mean_a, mean_b = _gaussian_filter(a), _gaussian_filter(b)
    var_a = _gaussian_filter(a * a) - mean_a**2
    var_b = _gaussian_filter(b * b) - mean_b**2
    covariance = _gaussian_filter(a * b) - mean_a * mean_b
    luminance = (2 * mean_a * mean_b + c1) / (mean_a**2 + mean_b**2 + c1)
    structure = (2 * covariance + c2) / (var_a + var_b + c2)
    return float(np.mean(np.mean(luminance * structure, axis=(1, 2, 3))))
