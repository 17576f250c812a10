"""``keras.applications.resnet50``: the ResNet50 module of older Keras versions."""
from .resnet import ResNet50, decode_predictions, preprocess_input

__all__ = ["ResNet50", "decode_predictions", "preprocess_input"]
