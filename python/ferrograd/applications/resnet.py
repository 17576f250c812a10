"""``keras.applications.resnet``: ResNet50, ResNet101 and ResNet152 (v1)."""
from __future__ import annotations

from . import imagenet_utils
from ._resnet import resnet

ResNet50 = resnet("ResNet50", "resnet50", (3, 4, 6, 3), preact=False)
ResNet101 = resnet("ResNet101", "resnet101", (3, 4, 23, 3), preact=False)
ResNet152 = resnet("ResNet152", "resnet152", (3, 8, 36, 3), preact=False)


def preprocess_input(x, data_format=None):
    """Caffe-style ImageNet preprocessing (RGB to BGR, channel means subtracted)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


decode_predictions = imagenet_utils.decode_predictions
