"""Reading image and mask files exactly, with Pillow and NumPy (no TensorFlow).

One reader serves the data check, the ``tf.data`` pipelines, evaluation and prediction,
so a file means the same thing everywhere:

- **Images** come back as ``uint8 (H, W, 3)``. EXIF orientation is applied (the picture a
  viewer shows; annotation tools label that one). Grey and palette images become RGB,
  the alpha channel of RGBA/LA images is dropped (colours are kept as stored, not blended),
  and 16-bit images are reduced to 8 bits (``value / 257``, rounded).
- **Masks** come back as the raw label values ``(H, W)`` (int32): a palette (``"P"``) PNG
  gives its indices, not the palette colours; 8- and 16-bit grey PNGs give their values;
  an RGB mask gives its colours ``(H, W, 3)`` for a colour table to map (an RGB mask whose
  three channels are equal everywhere is grey and gives one channel). Lossy formats (JPEG,
  WebP) are refused: compression blurs the edges between labels into values that are no
  class.
"""

import os

import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
MASK_SUFFIXES = (".png", ".bmp", ".tif", ".tiff")
LOSSY_SUFFIXES = (".jpg", ".jpeg", ".webp")


class DataFileError(ValueError):
    """A file that cannot be used: ``path`` and ``problem`` say which and why.

    Example:
        >>> import PIL.Image
        >>> PIL.Image.new("L", (2, 2)).save("mask.jpg")
        >>> try:
        ...     keras_segen.data.read_mask("mask.jpg")
        ... except keras_segen.data.DataFileError as error:
        ...     print(error.path, "|", error.problem[:29])
        mask.jpg | masks must be lossless (PNG);
    """

    def __init__(self, path, problem):
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem


def is_hidden(path):
    """Dot files (``.DS_Store``) and AppleDouble files are not data."""
    return os.path.basename(str(path)).startswith(".")


def _open(path, what):
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(path)
        image.load()  # decodes everything: a truncated file fails here, not later
    except FileNotFoundError:
        raise DataFileError(path, f"{what} file is missing") from None
    except UnidentifiedImageError:
        raise DataFileError(path, f"not a readable {what} file (unknown or damaged format)")
    except (OSError, SyntaxError, ValueError) as error:  # Pillow's truncated/corrupt errors
        raise DataFileError(path, f"truncated or damaged {what} file ({error})") from None
    return image


def _sixteen_to_eight(values):
    return np.clip(np.round(values.astype(np.float64) / 257.0), 0, 255).astype(np.uint8)


def read_image(path):
    """An image file as ``uint8 (H, W, 3)``, exactly as described in the module docstring.

    Example:
        >>> import PIL.Image
        >>> PIL.Image.fromarray(np.full((2, 3), 65535, np.uint16)).save("grey16.png")
        >>> image = keras_segen.data.read_image("grey16.png")  # 16-bit grey -> 8-bit RGB
        >>> image.shape, image.dtype, int(image.max())
        ((2, 3, 3), dtype('uint8'), 255)
    """
    from PIL import ImageOps

    with _open(path, "image") as image:
        try:
            image = ImageOps.exif_transpose(image)
        except Exception:  # a damaged EXIF block: the pixels are still good
            pass
        if image.mode in ("I;16", "I;16B", "I;16L", "I"):
            grey = _sixteen_to_eight(np.asarray(image))
            return np.repeat(grey[..., None], 3, axis=-1)
        if image.mode == "F":
            raise DataFileError(path, "32-bit float images are not supported; save 8 or 16 bit")
        if image.mode in ("LA", "PA"):
            image = image.convert("RGBA")
        return np.asarray(image.convert("RGB"))  # RGBA -> RGB keeps the colours as stored


def raw_image_size(path):
    """``(width, height)`` as stored, before EXIF orientation (for size-mismatch hints)."""
    from PIL import Image

    with Image.open(path) as image:
        return image.size


def read_mask(path):
    """A mask file's raw values: ``int32 (H, W)``, or ``uint8 (H, W, 3)`` colours.

    Example:
        >>> import PIL.Image
        >>> mask = PIL.Image.fromarray(np.array([[0, 1], [255, 2]], np.uint8), mode="P")
        >>> mask.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0] + [224, 224, 192] * 253)
        >>> mask.save("voc_mask.png")  # a palette PNG, as Pascal VOC ships them
        >>> keras_segen.data.read_mask("voc_mask.png").tolist()  # indices, not colours
        [[0, 1], [255, 2]]
    """
    suffix = os.path.splitext(str(path))[1].lower()
    if suffix in LOSSY_SUFFIXES:
        raise DataFileError(
            path,
            f"masks must be lossless (PNG); {suffix} compression blurs label edges into "
            "values that are no class",
        )
    with _open(path, "mask") as mask:
        mode = mask.mode
        if mode in ("P", "L", "1", "I;16", "I;16B", "I;16L", "I"):
            return np.asarray(mask).astype(np.int32)
        if mode in ("RGB", "RGBA"):
            colours = np.asarray(mask.convert("RGB"))
            red, green, blue = colours[..., 0], colours[..., 1], colours[..., 2]
            if np.array_equal(red, green) and np.array_equal(red, blue):
                return red.astype(np.int32)  # a grey mask saved as RGB
            return colours
        if mode == "LA":
            return np.asarray(mask)[..., 0].astype(np.int32)
    raise DataFileError(path, f"mask mode {mode!r} is not supported; save class ids as PNG")
