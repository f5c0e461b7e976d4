"""TensorBoard logs of a run: epoch scalars, learning rates and figures as images."""

import io

import keras
import numpy as np

from keras_segen.trainers.base import optimizers_in_use


def learning_rates(model):
    """``{name: current learning rate}`` of the optimizers ``fit`` updates:
    ``learning_rate``, or ``g_learning_rate`` and ``d_learning_rate`` for trainers with
    one optimizer per network (``GAN``, ``Pix2Pix``, ...)."""
    return {
        f"{prefix}_learning_rate" if prefix else "learning_rate": float(
            keras.ops.convert_to_numpy(optimizer.learning_rate)
        )
        for prefix, optimizer in optimizers_in_use(model).items()
    }


def figure_to_array(figure, dpi=80):
    """A matplotlib figure as a ``(height, width, 3)`` uint8 RGB array."""
    from PIL import Image

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert("RGB"))


class RunTensorBoard(keras.callbacks.Callback):
    """Writes ``{log_dir}/train`` and ``{log_dir}/validation`` event files after every epoch.

    Scalars are named as Keras' own ``TensorBoard`` callback names them (``epoch_loss``,
    ``epoch_mean_iou``, validation entries without their ``val_`` prefix), plus
    ``epoch_learning_rate`` (or ``epoch_g_learning_rate`` / ``epoch_d_learning_rate``);
    each of ``figures`` (``{tag: model -> Figure}``) is logged as an image.

    Example:
        >>> data = keras_segen.data.load_segmentation("shapes", image_size=32, num_examples=8)
        >>> model = keras_segen.unet((32, 32, 3), num_classes=4, filters=8, depth=2)
        >>> model.compile("adam", keras_segen.losses.CrossEntropy())
        >>> logs = keras_segen.runs.RunTensorBoard("runs/mine/logs")
        >>> history = model.fit(data, epochs=1, callbacks=[logs], verbose=0)
        >>> import os
        >>> sorted(os.listdir("runs/mine/logs"))
        ['train']
    """

    def __init__(self, log_dir, figures=None):
        super().__init__()
        self.log_dir = log_dir
        self.figures = figures or {}
        self._writers = {}

    def _writer(self, name):
        import tensorflow as tf

        if name not in self._writers:
            self._writers[name] = tf.summary.create_file_writer(f"{self.log_dir}/{name}")
        return self._writers[name]

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf

        logs = dict(logs or {})
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        train.update(learning_rates(self.model))
        validation = {k[len("val_") :]: v for k, v in logs.items() if k.startswith("val_")}
        for name, scalars in (("train", train), ("validation", validation)):
            if not scalars:
                continue
            with self._writer(name).as_default():
                for key, value in scalars.items():
                    tf.summary.scalar(f"epoch_{key}", float(value), step=epoch)
        if self.figures:
            with self._writer("train").as_default():
                for tag, draw in self.figures.items():
                    image = figure_to_array(draw(self.model))
                    tf.summary.image(tag, image[None], step=epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
