"""Layers (``keras.layers`` names and arguments)."""
from .activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from .adaptive_pooling import (
    AdaptiveAveragePooling1D,
    AdaptiveAveragePooling2D,
    AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D,
    AdaptiveMaxPooling2D,
    AdaptiveMaxPooling3D,
)
from .attention import AdditiveAttention, Attention
from .color_augmentation import (
    AutoContrast,
    ContrastLimitedAdaptiveHistogramEqualization,
    Equalization,
    RandomColorDegeneration,
    RandomColorJitter,
    RandomGaussianBlur,
    RandomGrayscale,
    RandomHue,
    RandomInvert,
    RandomPosterization,
    RandomSaturation,
    RandomSharpness,
    Solarization,
)
from .conv import (
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Conv3DTranspose,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
)
from .conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from .core import Activation, Dense, Dropout, Flatten, Masking, Reshape
from .data_layers import CategoryEncoding, Discretization, Pipeline
from .dot import Dot, Identity
from .einsum_dense import EinsumDense
from .embedding import Embedding, ReversibleEmbedding
from .feature_normalization import Normalization
from .functions import (
    add,
    average,
    concatenate,
    deserialize,
    dot,
    maximum,
    minimum,
    multiply,
    serialize,
    subtract,
)
from .input_layer import Input, InputLayer
from .input_spec import InputSpec
from .layer import Layer
from .merging import Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract
from .multi_head_attention import GroupedQueryAttention, GroupQueryAttention, MultiHeadAttention
from .normalization import BatchNormalization
from .normalization_extra import GroupNormalization, LayerNormalization, RMSNormalization, UnitNormalization
from .pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from .preprocessing import (
    CenterCrop,
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomShear,
    RandomTranslation,
    RandomZoom,
    Rescaling,
    Resizing,
)
from .regularization import (
    ActivityRegularization,
    AlphaDropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from .reshaping import (
    Cropping1D,
    Cropping2D,
    Cropping3D,
    Lambda,
    Permute,
    RepeatVector,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)

__all__ = [
    "Layer", "Input", "InputLayer", "Embedding", "Dense", "Activation", "Dropout", "Flatten", "Reshape", "Masking",
    "Conv1D", "Conv2D", "Conv1DTranspose", "Conv2DTranspose", "DepthwiseConv1D", "DepthwiseConv2D",
    "SeparableConv1D", "SeparableConv2D",
    "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
    "BatchNormalization", "UpSampling1D", "UpSampling2D", "ZeroPadding1D", "ZeroPadding2D", "Cropping1D",
    "Cropping2D", "Permute",
    "RepeatVector", "Lambda", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
    "LayerNormalization", "RMSNormalization", "GroupNormalization", "UnitNormalization", "EinsumDense",
    "MultiHeadAttention", "GroupQueryAttention", "GroupedQueryAttention", "Attention", "AdditiveAttention",
]

# activation, regularization, preprocessing and misc layers; the function forms; Keras' aliases
__all__ += [
    "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "Dot", "Identity", "Normalization",
    "ActivityRegularization", "AlphaDropout", "GaussianDropout", "GaussianNoise",
    "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "CenterCrop", "RandomBrightness", "RandomContrast", "RandomCrop", "RandomFlip", "Rescaling", "Resizing",
    "RandomRotation", "RandomTranslation", "RandomZoom", "AutoContrast", "RandomColorDegeneration",
    "RandomGrayscale", "RandomInvert", "Solarization", "CategoryEncoding", "Discretization", "Pipeline",
    "RandomShear", "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
    "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D", "RandomPosterization",
    "RandomSharpness",
    "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot", "serialize", "deserialize",
    "AvgPool1D", "AvgPool2D", "MaxPool1D", "MaxPool2D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D",
    "GlobalMaxPool2D", "Convolution1D", "Convolution2D", "Convolution1DTranspose", "Convolution2DTranspose",
    "SeparableConvolution1D", "SeparableConvolution2D",
    "Conv3D", "Conv3DTranspose", "MaxPooling3D", "AveragePooling3D", "GlobalAveragePooling3D", "GlobalMaxPooling3D",
    "UpSampling3D", "ZeroPadding3D", "Cropping3D", "AvgPool3D", "MaxPool3D", "GlobalAvgPool3D", "GlobalMaxPool3D",
    "Convolution3D", "Convolution3DTranspose", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D",
    "ReversibleEmbedding", "InputSpec", "Wrapper", "RandomHue", "RandomSaturation", "RandomColorJitter",
    "RandomGaussianBlur", "Equalization", "ContrastLimitedAdaptiveHistogramEqualization",
]
AvgPool1D, AvgPool2D = AveragePooling1D, AveragePooling2D
MaxPool1D, MaxPool2D = MaxPooling1D, MaxPooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
Convolution1D, Convolution2D = Conv1D, Conv2D
Convolution1DTranspose, Convolution2DTranspose = Conv1DTranspose, Conv2DTranspose
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
AvgPool3D, MaxPool3D, GlobalAvgPool3D, GlobalMaxPool3D = (AveragePooling3D, MaxPooling3D, GlobalAveragePooling3D,
                                                          GlobalMaxPooling3D)
Convolution3D, Convolution3DTranspose = Conv3D, Conv3DTranspose


def __dir__():
    # the public names only: the family modules (core, conv, normalization...) stay internal
    return sorted(__all__)


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"{__name__.replace('ferrograd', 'keras')}.{name} is not available in ferrograd yet")

# recurrent layers (issue 13): the generic RNN, the built-in cells and layers, the RNN wrappers
from .augment_policies import AugMix, RandAugment  # noqa: E402
from .hashing import HashedCrossing, Hashing  # noqa: E402
from .image_augmentation import (  # noqa: E402
    CutMix,
    MixUp,
    RandomElasticTransform,
    RandomErasing,
    RandomPerspective,
)
from .recurrent import GRU, LSTM, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell  # noqa: E402
from .rnn import RNN, StackedRNNCells  # noqa: E402
from .rnn_wrappers import Bidirectional, TimeDistributed, Wrapper  # noqa: E402
from .spectral_normalization import SpectralNormalization  # noqa: E402
from .spectrogram import MelSpectrogram, STFTSpectrogram  # noqa: E402

__all__ += ["RNN", "StackedRNNCells", "SimpleRNNCell", "LSTMCell", "GRUCell", "SimpleRNN", "LSTM", "GRU",
            "Bidirectional", "TimeDistributed", "SpectralNormalization", "Hashing", "HashedCrossing",
            "STFTSpectrogram", "CutMix", "MixUp", "RandomElasticTransform", "RandomErasing", "RandomPerspective",
            "MelSpectrogram", "AugMix", "RandAugment"]


def _mark_single_input():
    """Keras checks the input count of its one-tensor layers (``input_spec``): calling one on a
    list of tensors raises a ValueError naming the count, and so do ours."""
    import sys

    families = {"activation_layers", "adaptive_pooling", "color_augmentation", "conv", "core", "data_layers",
                "einsum_dense", "embedding", "feature_normalization", "normalization", "normalization_extra",
                "pooling", "preprocessing", "regularization", "reshaping", "spectrogram"}
    multi = {"Lambda", "Pipeline"}
    for name in __all__:
        cls = getattr(sys.modules[__name__], name, None)
        if (isinstance(cls, type) and issubclass(cls, Layer) and cls.__name__ not in multi
                and cls.__module__.rsplit(".", 1)[-1] in families):
            cls._single_input = True
    TimeDistributed._single_input = True


_mark_single_input()

# text preprocessing (issue 15): vocabulary lookups and TextVectorization, on src/text/
from .lookup import IntegerLookup, StringLookup  # noqa: E402
from .text_vectorization import TextVectorization  # noqa: E402

__all__ += ["StringLookup", "IntegerLookup", "TextVectorization"]
