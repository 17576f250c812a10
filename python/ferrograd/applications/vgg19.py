"""``keras.applications.vgg19``."""
from __future__ import annotations

from . import imagenet_utils
from ._vgg import vgg

VGG19 = vgg("VGG19", "vgg19", (2, 2, 4, 4, 4), ("cbe5617147190e668d6c5d5026f83318", "253f8cb515780f3b799900260a226db6"))


def preprocess_input(x, data_format=None):
    """Caffe-style ImageNet preprocessing (RGB to BGR, channel means subtracted)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


decode_predictions = imagenet_utils.decode_predictions
