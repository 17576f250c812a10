"""The ResNet v1 and v2 builders shared by ``resnet``, ``resnet50`` and ``resnet_v2`` (He et al.,
CVPR 2015 and ECCV 2016), with Keras' layer names so that its published weights load."""
from __future__ import annotations

from . import imagenet_utils as iu

_BASE = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
_HASHES = {
    "resnet50": ("2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"),
    "resnet101": ("f1aeb4b969a6efcfb50fad2f0c20cfc5", "88cf7a10940856eca736dc7b7e228a21"),
    "resnet152": ("100835be76be38e30d865e96f2aaae62", "ee4c566cf9a93f14d82f913c2dc6dd0c"),
    "resnet50v2": ("3ef43a0b657b3be2300d5770ece849e0", "fac2f116257151a9d068a22e544a4917"),
    "resnet101v2": ("6343647c601c52e1368623803854d971", "c0ed64b8031c3730f411d2eb4eea35b5"),
    "resnet152v2": ("a49b44d1979771252814e80f8ec446f9", "ed17cf2e0169df9d443503ef94b23b33"),
}
_EPS = 1.001e-5


def _bn_axis():
    from .. import config

    return 3 if config.image_data_format() == "channels_last" else 1


def _bn(name):
    from .. import layers

    return layers.BatchNormalization(axis=_bn_axis(), epsilon=_EPS, name=name)


def block_v1(x, filters, kernel_size=3, stride=1, conv_shortcut=True, name=None):
    """A bottleneck block (1x1, kxk, 1x1 with 4x filters) with batch norm after each convolution
    and the ReLU after the residual sum."""
    from .. import layers

    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=name + "_0_conv")(x)
        shortcut = _bn(name + "_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=name + "_1_conv")(x)
    x = layers.Activation("relu", name=name + "_1_relu")(_bn(name + "_1_bn")(x))
    x = layers.Conv2D(filters, kernel_size, padding="same", name=name + "_2_conv")(x)
    x = layers.Activation("relu", name=name + "_2_relu")(_bn(name + "_2_bn")(x))
    x = layers.Conv2D(4 * filters, 1, name=name + "_3_conv")(x)
    x = _bn(name + "_3_bn")(x)
    x = layers.Add(name=name + "_add")([shortcut, x])
    return layers.Activation("relu", name=name + "_out")(x)


def stack_v1(x, filters, blocks, stride1=2, name=None):
    x = block_v1(x, filters, stride=stride1, name=name + "_block1")
    for i in range(2, blocks + 1):
        x = block_v1(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def block_v2(x, filters, kernel_size=3, stride=1, conv_shortcut=False, name=None):
    """A pre-activation bottleneck block: batch norm and ReLU before the convolutions, the stride on
    the 3x3 convolution, a plain residual sum."""
    from .. import layers

    preact = layers.Activation("relu", name=name + "_preact_relu")(_bn(name + "_preact_bn")(x))
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=name + "_0_conv")(preact)
    else:
        shortcut = layers.MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
    x = layers.Conv2D(filters, 1, strides=1, use_bias=False, name=name + "_1_conv")(preact)
    x = layers.Activation("relu", name=name + "_1_relu")(_bn(name + "_1_bn")(x))
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=name + "_2_pad")(x)
    x = layers.Conv2D(filters, kernel_size, strides=stride, use_bias=False, name=name + "_2_conv")(x)
    x = layers.Activation("relu", name=name + "_2_relu")(_bn(name + "_2_bn")(x))
    x = layers.Conv2D(4 * filters, 1, name=name + "_3_conv")(x)
    return layers.Add(name=name + "_out")([shortcut, x])


def stack_v2(x, filters, blocks, stride1=2, name=None):
    x = block_v2(x, filters, conv_shortcut=True, name=name + "_block1")
    for i in range(2, blocks):
        x = block_v2(x, filters, name=f"{name}_block{i}")
    return block_v2(x, filters, stride=stride1, name=f"{name}_block{blocks}")


_DOC = """The {0} image classifier (ResNet {1}, bottleneck blocks {2}). ``weights``: ``"imagenet"``
    (Keras' published weights, read from their legacy ``.h5`` file with h5py), ``None`` (random
    initialization) or a weights file path. Inputs are 224x224 RGB images by default, preprocessed
    with :func:`preprocess_input` ({3})."""


def resnet(public_name, stem, blocks, preact):
    """The constructor of a ResNet with ``blocks`` bottleneck blocks in its four stages (v2, with
    pre-activation blocks, when ``preact``)."""
    def build(include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name):
        from .. import layers

        img_input = iu.begin(weights, include_top, classes, classifier_activation, input_tensor, input_shape,
                             pooling)
        x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
        x = layers.Conv2D(64, 7, strides=2, use_bias=True, name="conv1_conv")(x)
        if not preact:
            x = layers.Activation("relu", name="conv1_relu")(_bn("conv1_bn")(x))
        x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
        x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
        for i, (filters, n) in enumerate(zip((64, 128, 256, 512), blocks)):
            if preact:
                x = stack_v2(x, filters, n, stride1=1 if i == 3 else 2, name=f"conv{i + 2}")
            else:
                x = stack_v1(x, filters, n, stride1=1 if i == 0 else 2, name=f"conv{i + 2}")
        if preact:
            x = layers.Activation("relu", name="post_relu")(_bn("post_bn")(x))
        if include_top:
            x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
            x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
        elif pooling == "avg":
            x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        elif pooling == "max":
            x = layers.GlobalMaxPooling2D(name="max_pool")(x)
        file_name = f"{stem}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
        return iu.finish(x, img_input, input_tensor, name, weights, file_name, _BASE + file_name,
                         _HASHES[stem][0 if include_top else 1])

    doc = _DOC.format(public_name, "v2, pre-activation" if preact else "v1", "-".join(map(str, blocks)),
                      "tf mode: pixels scaled to [-1, 1]" if preact else "caffe mode")
    return iu.constructor(public_name, build, stem, doc)
