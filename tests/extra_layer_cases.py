"""Cases (NON-DEFAULT arguments) for the activation, regularization, preprocessing and Dot/Identity
layers, shared by tests/test_extra_layers.py and the script that measured real Keras on the same
cases (tests/fixtures/make_keras_extra_layer_fixtures.py).

``cases(K)`` takes the module playing ``keras`` and returns ``{case: (make, input_shapes)}`` as
tests/layer_cases.py does. The random layers are measured at inference (where they are
deterministic); their training behaviour is tested against its definition in the test file.
"""


def cases(K):
    L, init, reg, con = K.layers, K.initializers, K.regularizers, K.constraints
    cf = {"data_format": "channels_first"}
    return {
        "ReLU": (lambda: L.ReLU(max_value=1.5, negative_slope=0.25, threshold=0.5), [(3, 4)]),
        "ReLU6": (lambda: L.ReLU(max_value=6.0), [(5,)]),
        "LeakyReLU": (lambda: L.LeakyReLU(negative_slope=0.125), [(3, 4)]),
        "PReLU": (lambda: L.PReLU(alpha_initializer=init.Constant(0.25), alpha_regularizer=reg.L2(0.25),
                                  alpha_constraint=con.NonNeg(), shared_axes=[1]), [(3, 4)]),
        "ELU": (lambda: L.ELU(alpha=0.5), [(3, 4)]),
        "Softmax": (lambda: L.Softmax(axis=1), [(3, 4)]),
        "Softmax_axes": (lambda: L.Softmax(axis=(1, 2)), [(3, 4)]),
        "Identity": (lambda: L.Identity(name="my_identity"), [(3, 4)]),
        "Dot": (lambda: L.Dot(axes=(2, 2), normalize=True), [(3, 5), (4, 5)]),
        "Dot_2d": (lambda: L.Dot(axes=1), [(5,), (5,)]),
        "Dot_mixed": (lambda: L.Dot(axes=(1, 2)), [(3, 4), (2, 3)]),
        "ActivityRegularization": (lambda: L.ActivityRegularization(l1=0.25, l2=0.5), [(3, 4)]),
        "SpatialDropout1D": (lambda: L.SpatialDropout1D(0.25, seed=3), [(3, 4)]),
        "SpatialDropout2D": (lambda: L.SpatialDropout2D(0.25, seed=3, **cf), [(2, 3, 4)]),
        "SpatialDropout3D": (lambda: L.SpatialDropout3D(0.25, seed=3, **cf), [(2, 3, 4, 2)]),
        "GaussianNoise": (lambda: L.GaussianNoise(0.25, seed=3), [(3, 4)]),
        "GaussianDropout": (lambda: L.GaussianDropout(0.25, seed=3), [(3, 4)]),
        "AlphaDropout": (lambda: L.AlphaDropout(0.25, noise_shape=(None, 1, 4), seed=3), [(3, 4)]),
        "Rescaling": (lambda: L.Rescaling(0.5, offset=-1.0), [(3, 4)]),
        "Rescaling_per_channel": (lambda: L.Rescaling([0.5, 2.0, 4.0], offset=[1.0, 0.0, -1.0]), [(2, 2, 3)]),
        "CenterCrop": (lambda: L.CenterCrop(3, 2, **cf), [(2, 5, 5)]),
        "CenterCrop_upsize": (lambda: L.CenterCrop(6, 4), [(3, 5, 2)]),
        "Resizing": (lambda: L.Resizing(7, 3), [(4, 5, 2)]),
        "Resizing_pad": (lambda: L.Resizing(3, 8, pad_to_aspect_ratio=True, fill_value=2.0), [(5, 4, 3)]),
        "STFTSpectrogram": (lambda: L.STFTSpectrogram(mode="magnitude", frame_length=8, frame_step=4), [(32, 2)]),
        "Resizing_down": (lambda: L.Resizing(3, 2, **cf), [(2, 7, 5)]),
        "Resizing_nearest": (lambda: L.Resizing(5, 9, interpolation="nearest", crop_to_aspect_ratio=True),
                             [(4, 6, 2)]),
        "Resizing_nearest_down": (lambda: L.Resizing(3, 4, interpolation="nearest"), [(7, 9, 1)]),
        "Normalization": (lambda: L.Normalization(), [(3, 4)]),
        "Normalization_given": (lambda: L.Normalization(axis=(1, 2), mean=[[1.0, 2.0, 3.0, 4.0]] * 3,
                                                        variance=[[1.0, 4.0, 9.0, 16.0]] * 3, invert=True), [(3, 4)]),
        "Normalization_scalar": (lambda: L.Normalization(axis=None, mean=2.0, variance=0.25), [(3, 4)]),
        "RandomTranslation": (lambda: L.RandomTranslation(0.25, (-0.5, 0.25), fill_mode="wrap",
                                                          interpolation="nearest", seed=3, fill_value=1.0, **cf),
                              [(2, 4, 5)]),
        "RandomZoom": (lambda: L.RandomZoom((-0.5, 0.25), width_factor=0.25, fill_mode="constant", seed=3,
                                            fill_value=0.5), [(4, 5, 2)]),
        "RandomRotation": (lambda: L.RandomRotation((-0.25, 0.5), fill_mode="nearest", interpolation="nearest",
                                                    seed=3, fill_value=1.0), [(4, 5, 2)]),
        "AutoContrast": (lambda: L.AutoContrast(value_range=(0, 1)), [(4, 5, 3)]),
        "Solarization": (lambda: L.Solarization(addition_factor=(0.25, 0.5), threshold_factor=0.5,
                                                value_range=(0, 1), seed=3), [(4, 5, 3)]),
        "RandomInvert": (lambda: L.RandomInvert(factor=0.5, value_range=(0, 1), seed=3, **cf), [(3, 4, 5)]),
        "RandomGrayscale": (lambda: L.RandomGrayscale(factor=0.25, seed=3, **cf), [(3, 4, 5)]),
        "RandomColorDegeneration": (lambda: L.RandomColorDegeneration((-0.5, 0.25), value_range=(0, 1), seed=3),
                                    [(4, 5, 3)]),
        "AdaptiveAveragePooling1D": (lambda: L.AdaptiveAveragePooling1D(3), [(7, 2)]),
        "AdaptiveAveragePooling2D": (lambda: L.AdaptiveAveragePooling2D((2, 4), **cf), [(2, 5, 7)]),
        "AdaptiveAveragePooling3D": (lambda: L.AdaptiveAveragePooling3D((2, 3, 1)), [(5, 4, 3, 2)]),
        "AdaptiveMaxPooling1D": (lambda: L.AdaptiveMaxPooling1D(4, **cf), [(2, 9)]),
        "AdaptiveMaxPooling2D": (lambda: L.AdaptiveMaxPooling2D(3), [(7, 5, 2)]),
        "AdaptiveMaxPooling3D": (lambda: L.AdaptiveMaxPooling3D((3, 2, 2), **cf), [(2, 6, 5, 3)]),
        "AdaptiveAveragePooling2D_up": (lambda: L.AdaptiveAveragePooling2D((6, 3)), [(4, 2, 1)]),
        "RandomShear": (lambda: L.RandomShear(x_factor=0.25, y_factor=(0.1, 0.5), interpolation="nearest",
                                              fill_mode="constant", fill_value=0.5, seed=3), [(4, 5, 2)]),
        "RandomPosterization": (lambda: L.RandomPosterization((2, 6), value_range=(0, 1), seed=3, **cf),
                                [(3, 4, 5)]),
        "RandomSharpness": (lambda: L.RandomSharpness((0.25, 0.75), value_range=(-1, 1), seed=3), [(4, 5, 3)]),
        "RandomFlip": (lambda: L.RandomFlip("horizontal", seed=3, **cf), [(2, 4, 5)]),
        "RandomCrop": (lambda: L.RandomCrop(3, 2, seed=3), [(4, 5, 2)]),
        "RandomContrast": (lambda: L.RandomContrast((0.25, 0.5), value_range=(0, 1), seed=3), [(4, 5, 2)]),
        "RandomBrightness": (lambda: L.RandomBrightness((-0.25, 0.5), value_range=(-1, 1), seed=3), [(4, 5, 2)]),
    }


def affine_cases(K):
    """Translation, zoom and rotation with degenerate ranges (lower == upper), so that even in
    training the transform is fixed and Keras' outputs can be compared: {case: (make, input shape)}."""
    L = K.layers
    out = {}
    for fill in ("reflect", "wrap", "constant", "nearest"):
        for interp in ("bilinear", "nearest"):
            kw = {"fill_mode": fill, "interpolation": interp, "fill_value": 0.5}
            out[f"translation_{fill}_{interp}"] = (
                lambda kw=kw: L.RandomTranslation((0.3, 0.3), (-0.45, -0.45), **kw), (6, 7, 2))
            out[f"zoom_{fill}_{interp}"] = (
                lambda kw=kw: L.RandomZoom((0.3, 0.3), (-0.25, -0.25), **kw), (6, 7, 2))
            out[f"rotation_{fill}_{interp}"] = (
                lambda kw=kw: L.RandomRotation((0.1, 0.1), **kw), (6, 7, 2))
    out["rotation_channels_first"] = (lambda: L.RandomRotation((-0.2, -0.2), data_format="channels_first"), (2, 5, 6))
    out["zoom_unbatched"] = (lambda: L.RandomZoom((0.5, 0.5)), None)
    for fill in ("reflect", "constant"):
        out[f"shear_{fill}"] = (lambda fill=fill: L.RandomShear((0.3, 0.3), (0.1, 0.1), fill_mode=fill), (6, 7, 2))
    return out


def color_cases(K):
    """Colour layers in training with draws that cannot change the result (fixed ranges, certain
    probabilities): {case: (make, input shape, (low, high) of the uniform inputs)}."""
    L = K.layers
    cf = {"data_format": "channels_first"}
    return {
        "autocontrast": (lambda: L.AutoContrast(), (2, 4, 5, 3), (20, 200)),
        "autocontrast_unit": (lambda: L.AutoContrast(value_range=(0, 1)), (2, 4, 5, 3), (0.2, 0.6)),
        "solarization_default": (lambda: L.Solarization(), (2, 4, 5, 3), (0, 255)),
        "solarization_unit": (lambda: L.Solarization(value_range=(0, 1)), (2, 4, 5, 3), (0, 1)),
        "invert_always": (lambda: L.RandomInvert(factor=(1.0, 1.0), value_range=(0, 1)), (2, 4, 5, 3), (0, 1)),
        "grayscale_always": (lambda: L.RandomGrayscale(factor=1.0), (2, 4, 5, 3), (0, 255)),
        "grayscale_channels_first": (lambda: L.RandomGrayscale(factor=1.0, **cf), (2, 3, 4, 5), (0, 255)),
        "degeneration_fixed": (lambda: L.RandomColorDegeneration((0.25, 0.25)), (2, 4, 5, 3), (0, 255)),
        "posterization_fixed": (lambda: L.RandomPosterization((3, 3)), (2, 4, 5, 3), (0, 255)),
        "posterization_unit": (lambda: L.RandomPosterization((5, 5), value_range=(0, 1)), (2, 4, 5, 3), (0, 1)),
        "sharpness_fixed": (lambda: L.RandomSharpness((0.8, 0.8)), (2, 6, 5, 3), (0, 255)),
        "sharpness_blur_cf": (lambda: L.RandomSharpness((0.1, 0.1), value_range=(0, 1), **cf), (2, 3, 6, 5),
                              (0, 1)),
        "degeneration_clipped": (lambda: L.RandomColorDegeneration((-0.75, -0.75), value_range=(0, 1)),
                                 (2, 4, 5, 3), (0, 1)),
    }


def data_cases(K):
    """Categorical layers and Pipeline on explicit inputs: {case: (make, inputs, call kwargs)}."""
    import numpy as np

    L = K.layers
    ids = np.array([[0, 1, 1], [3, 3, 2]], np.int64)
    x = np.array([[-1.0, 0.0, 0.5], [1.0, 2.0, 3.0]], np.float32)
    return {
        "category_multi_hot": (lambda: L.CategoryEncoding(4), ids, {}),
        "category_binary_1d": (lambda: L.CategoryEncoding(5, output_mode="binary"), np.array([0, 4, 2]), {}),
        "category_one_hot": (lambda: L.CategoryEncoding(4, output_mode="one_hot"), np.array([[3], [0]]), {}),
        "category_one_hot_1d": (lambda: L.CategoryEncoding(4, output_mode="one_hot"), np.array([3, 2, 0, 1]), {}),
        "category_count": (lambda: L.CategoryEncoding(4, output_mode="count"), ids, {}),
        "category_count_weights": (lambda: L.CategoryEncoding(4, output_mode="count"), ids,
                                   {"count_weights": np.array([[0.5, 1.0, 2.0], [1.0, 0.25, 3.0]], np.float32)}),
        "discretization_int": (lambda: L.Discretization(bin_boundaries=[0.0, 1.0, 2.0]), x, {}),
        "discretization_one_hot": (lambda: L.Discretization(bin_boundaries=[0.0, 1.0], output_mode="one_hot"),
                                   x[:, :1], {}),
        "discretization_multi_hot": (lambda: L.Discretization(bin_boundaries=[0.0, 1.0], output_mode="multi_hot"),
                                     x, {}),
        "discretization_count": (lambda: L.Discretization(bin_boundaries=[0.5, 2.5], output_mode="count"), x, {}),
        "pipeline": (lambda: L.Pipeline([L.Rescaling(2.0, offset=1.0), L.ReLU(max_value=3.0)], name="pipe"), x, {}),
    }
