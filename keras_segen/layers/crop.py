"""Centre cropping of a skip connection to the size of the decoder tensor."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_segen")
class CenterCropLike(keras.layers.Layer):
    """Crops the centre of the first input to the spatial size of the second input.

    This is the "copy and crop" of U-Net with unpadded convolutions (Ronneberger et al.
    2015): the encoder map is larger than the decoder map and loses its border.

    Example:
        >>> skip = np.arange(36, dtype="float32").reshape(1, 6, 6, 1)
        >>> cropped = keras_segen.layers.CenterCropLike()([skip, np.zeros((1, 4, 4, 1))])
        >>> keras.ops.convert_to_numpy(cropped)[0, :, :, 0].astype(int).tolist()
        [[7, 8, 9, 10], [13, 14, 15, 16], [19, 20, 21, 22], [25, 26, 27, 28]]
    """

    def call(self, inputs):
        x, reference = inputs
        height, width = ops.shape(x)[1], ops.shape(x)[2]
        target_height, target_width = ops.shape(reference)[1], ops.shape(reference)[2]
        top = (height - target_height) // 2
        left = (width - target_width) // 2
        return x[:, top : top + target_height, left : left + target_width, :]

    def compute_output_shape(self, input_shape):
        x_shape, reference_shape = input_shape
        for axis in (1, 2):
            big, small = x_shape[axis], reference_shape[axis]
            if big is not None and small is not None and big < small:
                raise ValueError(
                    f"CenterCropLike cannot crop size {big} to the larger size {small} "
                    f"(axis {axis}); shapes {x_shape} and {reference_shape}."
                )
        return (x_shape[0], reference_shape[1], reference_shape[2], x_shape[3])
