"""``keras.applications.resnet_v2``: ResNet50V2, ResNet101V2 and ResNet152V2 (pre-activation)."""
from __future__ import annotations

from . import imagenet_utils
from ._resnet import resnet

ResNet50V2 = resnet("ResNet50V2", "resnet50v2", (3, 4, 6, 3), preact=True)
ResNet101V2 = resnet("ResNet101V2", "resnet101v2", (3, 4, 23, 3), preact=True)
ResNet152V2 = resnet("ResNet152V2", "resnet152v2", (3, 8, 36, 3), preact=True)


def preprocess_input(x, data_format=None):
    """ImageNet preprocessing in tf mode (pixels scaled to [-1, 1])."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
