"""``keras.applications.vgg16``."""
from __future__ import annotations

from . import imagenet_utils
from ._vgg import vgg

VGG16 = vgg("VGG16", "vgg16", (2, 2, 3, 3, 3), ("64373286793e3c8b2b4e3219cbf3544b", "6d6bbae143d832006294945121d1f1fc"))


def preprocess_input(x, data_format=None):
    """Caffe-style ImageNet preprocessing (RGB to BGR, channel means subtracted)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


decode_predictions = imagenet_utils.decode_predictions
