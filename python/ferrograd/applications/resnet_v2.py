"""``keras.applications.resnet_v2``: ResNet50V2, ResNet101V2 and ResNet152V2 (pre-activation)."""
from __future__ import annotations

from . import imagenet_utils
from ._resnet import build_resnet

_DOC = """The {0} image classifier (ResNet v2, pre-activation bottleneck blocks {1}). ``weights``: ``"imagenet"``
    (Keras' published weights, read from their legacy ``.h5`` file with h5py), ``None`` (random
    initialization) or a weights file path. Inputs are 224x224 RGB images by default, preprocessed
    with :func:`preprocess_input` (tf mode: pixels scaled to [-1, 1])."""


def ResNet50V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
             classifier_activation="softmax", name="resnet50v2"):
    return build_resnet("resnet50v2", (3, 4, 6, 3), True, name, include_top, weights, input_tensor, input_shape,
                        pooling, classes, classifier_activation)


def ResNet101V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
              classes=1000, classifier_activation="softmax", name="resnet101v2"):
    return build_resnet("resnet101v2", (3, 4, 23, 3), True, name, include_top, weights, input_tensor, input_shape,
                        pooling, classes, classifier_activation)


def ResNet152V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
              classes=1000, classifier_activation="softmax", name="resnet152v2"):
    return build_resnet("resnet152v2", (3, 8, 36, 3), True, name, include_top, weights, input_tensor, input_shape,
                        pooling, classes, classifier_activation)


ResNet50V2.__doc__ = _DOC.format("ResNet50V2", "3-4-6-3")
ResNet101V2.__doc__ = _DOC.format("ResNet101V2", "3-4-23-3")
ResNet152V2.__doc__ = _DOC.format("ResNet152V2", "3-8-36-3")


def preprocess_input(x, data_format=None):
    """ImageNet preprocessing in tf mode (pixels scaled to [-1, 1])."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
