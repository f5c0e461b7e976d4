"""Input normalisation for ImageNet-pretrained backbones, from the library's [0, 1] images."""

import keras
import numpy as np
from keras import ops

# Per-channel statistics of the ImageNet training set, as the Keras Applications use them.
_CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)
MODES = ("tf", "torch", "caffe", "raw")
# A 1x1 convolution kernel (1, 1, in, out) that reverses the channel order and scales by 255.
_BGR_FROM_RGB_255 = 255.0 * np.eye(3, dtype="float32")[::-1].reshape(1, 1, 3, 3)


def _mean(statistics):
    return (sum(statistics) / len(statistics),)


@keras.saving.register_keras_serializable(package="keras_segen")
class ImagenetPreprocessing(keras.layers.Layer):
    """Maps RGB images in ``[0, 1]`` to what a Keras Applications backbone expects.

    Modes follow ``keras.applications.imagenet_utils.preprocess_input``: ``"tf"`` scales to
    ``[-1, 1]`` (MobileNetV2), ``"torch"`` standardises with ImageNet mean and std, and
    ``"caffe"`` scales to ``[0, 255]``, swaps RGB to BGR and subtracts the BGR mean (VGG16,
    ResNet50); ``"raw"`` scales to ``[0, 255]`` for the networks that normalise inside
    themselves (EfficientNet, EfficientNetV2, MobileNetV3, ConvNeXt). Images with other
    than 3 channels use the mean of the three channels' statistics and are not flipped.
    Keeping it inside the model means every model takes ``[0, 1]`` images.

    Example:
        >>> white = np.ones((1, 1, 1, 3), "float32")
        >>> keras.ops.convert_to_numpy(keras_segen.layers.ImagenetPreprocessing("tf")(white))
        array([[[[1., 1., 1.]]]], dtype=float32)
        >>> caffe = keras_segen.layers.ImagenetPreprocessing("caffe")(white)  # 255 - BGR mean
        >>> keras.ops.convert_to_numpy(caffe).ravel().astype(float).round(3).tolist()
        [151.061, 138.221, 131.32]
    """

    def __init__(self, mode="tf", **kwargs):
        super().__init__(**kwargs)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}; got {mode!r}.")
        self.mode = mode

    def call(self, x):
        if self.mode == "tf":
            return x * 2.0 - 1.0
        if self.mode == "raw":
            return x * 255.0
        rgb = x.shape[-1] == 3
        if self.mode == "torch":
            mean = _TORCH_MEAN if rgb else _mean(_TORCH_MEAN)
            std = _TORCH_STD if rgb else _mean(_TORCH_STD)
            mean = ops.convert_to_tensor(mean, dtype=x.dtype)
            return (x - mean) / ops.convert_to_tensor(std, dtype=x.dtype)
        if not rgb:
            return x * 255.0 - ops.convert_to_tensor(_mean(_CAFFE_BGR_MEAN), dtype=x.dtype)
        # RGB -> BGR and the scaling as one 1x1 convolution with a fixed kernel (exact in
        # float): TFLite's int8 converter gave the channel flip (REVERSE_V2) here a scale of 1,
        # turning an image in [0, 1] into 0s and 1s; channel slices concatenated back lost
        # the image too.
        swap = ops.convert_to_tensor(_BGR_FROM_RGB_255, dtype=x.dtype)
        return ops.conv(x, swap) - ops.convert_to_tensor(_CAFFE_BGR_MEAN, dtype=x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
