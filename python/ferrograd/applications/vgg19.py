"""``keras.applications.vgg19``."""
from __future__ import annotations

from . import imagenet_utils
from ._vgg import build_vgg


def VGG19(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", name="vgg19"):
    """The VGG19 image classifier (16 convolutions in five blocks, then three dense layers when
    ``include_top``). ``weights``: ``"imagenet"`` (Keras' published weights, read from their
    legacy ``.h5`` file with h5py), ``None`` (random initialization) or a weights file path.
    Inputs are 224x224 RGB images by default, preprocessed with :func:`preprocess_input`."""
    return build_vgg("vgg19", (2, 2, 4, 4, 4), name,
                     ("cbe5617147190e668d6c5d5026f83318", "253f8cb515780f3b799900260a226db6"),
                     include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation)


def preprocess_input(x, data_format=None):
    """Caffe-style ImageNet preprocessing (RGB to BGR, channel means subtracted)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


decode_predictions = imagenet_utils.decode_predictions
