"""The VGG16/VGG19 builder shared by ``vgg16`` and ``vgg19`` (Simonyan & Zisserman, ICLR 2015)."""
from __future__ import annotations

from . import imagenet_utils as iu

_BASE = "https://storage.googleapis.com/tensorflow/keras-applications/"


def build_vgg(stem, convs_per_block, name, hashes, include_top, weights, input_tensor, input_shape, pooling, classes,
              classifier_activation):
    """A VGG network with ``convs_per_block`` 3x3 convolutions in each of its five blocks."""
    from .. import config, layers
    from ..models import Model

    iu.check_weights_argument(weights, include_top, classes)
    if include_top:
        iu.validate_activation(classifier_activation, weights)
    input_shape = iu.obtain_input_shape(input_shape, default_size=224, min_size=32,
                                        data_format=config.image_data_format(), require_flatten=include_top,
                                        weights=weights)
    img_input = iu.model_input(input_tensor, input_shape)
    x = img_input
    for block, (filters, convs) in enumerate(zip((64, 128, 256, 512, 512), convs_per_block), start=1):
        for i in range(1, convs + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same", name=f"block{block}_conv{i}")(x)
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
    model = Model(iu.model_inputs(input_tensor, img_input), x, name=name)
    file_name = f"{stem}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    return iu.load_pretrained(model, weights, file_name, f"{_BASE}{stem}/{file_name}",
                              hashes[0] if include_top else hashes[1])
