"""The VGG16/VGG19 builder shared by ``vgg16`` and ``vgg19`` (Simonyan & Zisserman, ICLR 2015)."""
from __future__ import annotations

from . import imagenet_utils as iu

_BASE = "https://storage.googleapis.com/tensorflow/keras-applications/"
_DOC = """The {0} image classifier ({1} convolutions in five blocks, then three dense layers when
    ``include_top``). ``weights``: ``"imagenet"`` (Keras' published weights, read from their legacy
    ``.h5`` file with h5py), ``None`` (random initialization) or a weights file path. Inputs are
    224x224 RGB images by default, preprocessed with :func:`preprocess_input` (caffe mode)."""


def vgg(public_name, stem, convs_per_block, hashes):
    """The constructor of a VGG network with ``convs_per_block`` 3x3 convolutions per block."""
    def build(include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name):
        from .. import layers

        img_input = iu.begin(weights, include_top, classes, classifier_activation, input_tensor, input_shape,
                             pooling)
        x = img_input
        for block, (filters, convs) in enumerate(zip((64, 128, 256, 512, 512), convs_per_block), start=1):
            for i in range(1, convs + 1):
                x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same",
                                  name=f"block{block}_conv{i}")(x)
            x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
        if include_top:
            x = layers.Flatten(name="flatten")(x)
            x = layers.Dense(4096, activation="relu", name="fc1")(x)
            x = layers.Dense(4096, activation="relu", name="fc2")(x)
            x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
        elif pooling == "avg":
            x = layers.GlobalAveragePooling2D()(x)
        elif pooling == "max":
            x = layers.GlobalMaxPooling2D()(x)
        file_name = f"{stem}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
        return iu.finish(x, img_input, input_tensor, name, weights, file_name, f"{_BASE}{stem}/{file_name}",
                         hashes[0] if include_top else hashes[1])

    return iu.constructor(public_name, build, stem, _DOC.format(public_name, sum(convs_per_block)))
