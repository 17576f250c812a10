"""This stop's new layers through the layer-test helper (tests/test_layers.py::check_layer) with
non-default arguments: output shape against compute_output_shape, every constructor argument in the
config, config round trip (also through JSON), and save/load of a model holding the layer. The
random layers are compared at inference, where they pass their input through; their training
behaviour and Keras outputs are tested in test_image_augmentation.py, test_fft.py and
test_clahe.py."""
import pytest
from test_layers import check_layer

from ferrograd import layers

CASES = {
    "MixUp": (lambda: layers.MixUp(alpha=0.5, seed=1), (6, 5, 3)),
    "CutMix": (lambda: layers.CutMix(factor=(0.3, 0.8), seed=9, data_format="channels_first"), (3, 6, 5)),
    "RandomErasing": (lambda: layers.RandomErasing(factor=0.5, scale=0.3, fill_value=(1, 2, 3),
                                                   value_range=(0, 1), seed=4), (6, 5, 3)),
    "RandomPerspective": (lambda: layers.RandomPerspective(factor=(0.2, 0.6), scale=0.4, interpolation="nearest",
                                                           fill_value=2.0, seed=3), (6, 5, 3)),
    "RandomElasticTransform": (lambda: layers.RandomElasticTransform(factor=0.7, scale=(0.2, 0.5), fill_mode="wrap",
                                                                     value_range=(-1, 1), seed=2), (6, 5, 3)),
    "RandAugment": (lambda: layers.RandAugment(value_range=(0, 1), num_ops=3, factor=(0.2, 0.7),
                                               interpolation="nearest", seed=4), (6, 5, 3)),
    "AugMix": (lambda: layers.AugMix(value_range=(0, 1), num_chains=2, chain_depth=2, factor=0.5, alpha=0.5,
                                     all_ops=False, seed=3), (6, 5, 3)),
    "MelSpectrogram": (lambda: layers.MelSpectrogram(fft_length=64, sequence_stride=16, sequence_length=48,
                                                     window="hamming", sampling_rate=8000, num_mel_bins=10,
                                                     min_freq=30.0, max_freq=3000.0, top_db=50.0, mag_exp=1.5,
                                                     ref_power=2.0), (300,)),
    "CLAHE": (lambda: layers.ContrastLimitedAdaptiveHistogramEqualization(value_range=(-3, 3), clip_limit=2.0,
                                                                         tile_grid_size=(3, 2)), (13, 17, 3)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_layer_helper(case, tmp_path):
    make, shape = CASES[case]
    check_layer(make, shape, 0, training=False, tmp_path=tmp_path)
