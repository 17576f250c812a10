"""``keras.applications.resnet``: ResNet50, ResNet101 and ResNet152 (v1)."""
from __future__ import annotations

from . import imagenet_utils
from ._resnet import build_resnet

_DOC = """The {0} image classifier (ResNet v1, bottleneck blocks {1}). ``weights``: ``"imagenet"``
    (Keras' published weights, read from their legacy ``.h5`` file with h5py), ``None`` (random
    initialization) or a weights file path. Inputs are 224x224 RGB images by default, preprocessed
    with :func:`preprocess_input` (caffe mode)."""


def ResNet50(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
             classifier_activation="softmax", name="resnet50"):
    return build_resnet("resnet50", (3, 4, 6, 3), False, name, include_top, weights, input_tensor, input_shape,
                        pooling, classes, classifier_activation)


def ResNet101(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
              classes=1000, classifier_activation="softmax", name="resnet101"):
    return build_resnet("resnet101", (3, 4, 23, 3), False, name, include_top, weights, input_tensor, input_shape,
                        pooling, classes, classifier_activation)


def ResNet152(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
              classes=1000, classifier_activation="softmax", name="resnet152"):
    return build_resnet("resnet152", (3, 8, 36, 3), False, name, include_top, weights, input_tensor, input_shape,
                        pooling, classes, classifier_activation)


ResNet50.__doc__ = _DOC.format("ResNet50", "3-4-6-3")
ResNet101.__doc__ = _DOC.format("ResNet101", "3-4-23-3")
ResNet152.__doc__ = _DOC.format("ResNet152", "3-8-36-3")


def preprocess_input(x, data_format=None):
    """Caffe-style ImageNet preprocessing (RGB to BGR, channel means subtracted)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


decode_predictions = imagenet_utils.decode_predictions
