"""``keras.applications.vgg16``."""
from __future__ import annotations

from . import imagenet_utils
from ._vgg import build_vgg


def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", name="vgg16"):
    """The VGG16 image classifier (13 convolutions in five blocks, then three dense layers when
    ``include_top``). ``weights``: ``"imagenet"`` (Keras' published weights, read from their
    legacy ``.h5`` file with h5py), ``None`` (random initialization) or a weights file path.
    Inputs are 224x224 RGB images by default, preprocessed with :func:`preprocess_input`."""
    return build_vgg("vgg16", (2, 2, 3, 3, 3), name,
                     ("64373286793e3c8b2b4e3219cbf3544b", "6d6bbae143d832006294945121d1f1fc"),
                     include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation)


def preprocess_input(x, data_format=None):
    """Caffe-style ImageNet preprocessing (RGB to BGR, channel means subtracted)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


decode_predictions = imagenet_utils.decode_predictions
