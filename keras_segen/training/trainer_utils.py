"""Small pieces shared by the custom-train-step trainers (GAN, VAE, ...)."""

import keras


def batch_images(data):
    """The images of a ``fit`` batch: ``data`` itself, or its first element for tuples."""
    return data[0] if isinstance(data, (tuple, list)) else data


def deserialize_submodels(config, keys, custom_objects=None):
    """A copy of ``config`` with the serialised sub-models under ``keys`` rebuilt."""
    config = dict(config)
    for key in keys:
        config[key] = keras.saving.deserialize_keras_object(config[key], custom_objects)
    return config
