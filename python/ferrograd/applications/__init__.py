"""``keras.applications``: image classification networks with Keras' architectures and layer
names, so that Keras' published ImageNet weights (legacy ``.h5`` files, read with h5py) load.

Available: VGG16, VGG19, ResNet50/101/152 and their V2 (pre-activation) versions, with the
``vgg16``, ``vgg19``, ``resnet``, ``resnet50``, ``resnet_v2`` and ``imagenet_utils`` modules
(``preprocess_input``, ``decode_predictions``). Other Keras applications raise a clear
AttributeError naming them.
"""
from . import imagenet_utils, resnet, resnet50, resnet_v2, vgg16, vgg19
from .resnet import ResNet50, ResNet101, ResNet152
from .resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2
from .vgg16 import VGG16
from .vgg19 import VGG19

__all__ = ["VGG16", "VGG19", "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2", "ResNet152V2",
           "imagenet_utils", "resnet", "resnet50", "resnet_v2", "vgg16", "vgg19"]


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"keras.applications.{name} is not available in ferrograd yet (available: "
                         f"{', '.join(__all__)})")
