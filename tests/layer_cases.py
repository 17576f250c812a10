"""Layer cases built with NON-DEFAULT arguments, shared by the tests and by the script that measured
real Keras on the same cases (tests/fixtures/make_keras_layer_fixtures.py).

``cases(K)`` takes the module playing ``keras`` (real Keras 3, or ``ferrograd``) and returns
``{case: (make, input_shapes)}``: ``make()`` builds the layer, ``input_shapes`` lists the per-sample
shapes of its inputs (several for merge layers). Every argument a case sets differs from Keras'
default wherever that is allowed, so a dropped or altered argument shows in ``get_config``.
Regularizer factors are powers of two so that Keras' float32 storage prints them exactly.
"""


def cases(K):
    L, init, reg, con = K.layers, K.initializers, K.regularizers, K.constraints

    def weights(prefix, bias=True):
        """Non-default initializers, regularizers and constraints for the ``prefix`` weight (and bias)."""
        out = {f"{prefix}_initializer": init.RandomNormal(mean=0.5, stddev=0.25, seed=3),
               f"{prefix}_regularizer": reg.L2(0.25),
               f"{prefix}_constraint": con.MaxNorm(max_value=3.0, axis=1)}
        if bias:
            out.update(bias_initializer=init.Constant(0.5), bias_regularizer=reg.L1L2(l1=0.125, l2=0.5),
                       bias_constraint=con.NonNeg())
        return out

    act = {"activity_regularizer": reg.L1(0.25)}
    cf = {"data_format": "channels_first"}

    return {
        "Dense": (lambda: L.Dense(5, activation="tanh", use_bias=False, **weights("kernel"), **act,
                                  name="my_dense", trainable=False), [(3, 4)]),
        "Dense_bias": (lambda: L.Dense(3, activation="relu", **weights("kernel")), [(4,)]),
        "Activation": (lambda: L.Activation("sigmoid", name="my_activation"), [(3, 4)]),
        "Dropout": (lambda: L.Dropout(0.25, noise_shape=(None, 1, 4), seed=7), [(3, 4)]),
        "Flatten": (lambda: L.Flatten(**cf), [(3, 4, 2)]),
        "Reshape": (lambda: L.Reshape((2, -1)), [(3, 4)]),
        "Masking": (lambda: L.Masking(mask_value=0.5), [(3, 4)]),
        "Conv1D": (lambda: L.Conv1D(4, 3, padding="causal", dilation_rate=2, groups=2, activation="relu",
                                    use_bias=False, **weights("kernel"), **act, **cf), [(4, 9)]),
        "Conv1D_strided": (lambda: L.Conv1D(4, 3, strides=2, padding="same", **weights("kernel")), [(9, 3)]),
        "Conv2D": (lambda: L.Conv2D(4, (3, 2), strides=(2, 1), padding="same", groups=2, activation="relu",
                                    use_bias=False, **weights("kernel"), **act, **cf), [(4, 7, 6)]),
        "Conv2D_dilated": (lambda: L.Conv2D(3, 3, dilation_rate=(2, 1), **weights("kernel")), [(9, 7, 2)]),
        "Conv1DTranspose": (lambda: L.Conv1DTranspose(3, 3, strides=2, padding="same", output_padding=1,
                                                      activation="relu", use_bias=False, **weights("kernel"),
                                                      **act, **cf), [(2, 5)]),
        "Conv1DTranspose_dilated": (lambda: L.Conv1DTranspose(2, 3, dilation_rate=2, **weights("kernel")),
                                    [(5, 3)]),
        "Conv2DTranspose": (lambda: L.Conv2DTranspose(3, (3, 2), strides=(2, 2), output_padding=(1, 0),
                                                      activation="relu", use_bias=False, **weights("kernel"),
                                                      **act, **cf), [(2, 4, 5)]),
        "Conv2DTranspose_same": (lambda: L.Conv2DTranspose(3, 3, strides=2, padding="same", **weights("kernel")),
                                 [(4, 5, 2)]),
        "DepthwiseConv1D": (lambda: L.DepthwiseConv1D(3, strides=2, padding="same", depth_multiplier=2,
                                                      activation="relu", use_bias=False, **weights("depthwise"),
                                                      **act, **cf), [(3, 8)]),
        "DepthwiseConv1D_dilated": (lambda: L.DepthwiseConv1D(3, dilation_rate=2, **weights("depthwise")),
                                    [(9, 2)]),
        "DepthwiseConv2D": (lambda: L.DepthwiseConv2D((3, 2), strides=(1, 2), padding="same", depth_multiplier=2,
                                                      activation="relu", use_bias=False, **weights("depthwise"),
                                                      **act, **cf), [(3, 6, 5)]),
        "DepthwiseConv2D_dilated": (lambda: L.DepthwiseConv2D(3, dilation_rate=(2, 2), **weights("depthwise")),
                                    [(8, 7, 2)]),
        "SeparableConv1D": (lambda: L.SeparableConv1D(4, 3, strides=2, padding="same", depth_multiplier=2,
                                                      activation="relu", use_bias=False,
                                                      **weights("depthwise", bias=False),
                                                      **weights("pointwise"), **act, **cf), [(3, 8)]),
        "SeparableConv1D_dilated": (lambda: L.SeparableConv1D(3, 3, dilation_rate=2,
                                                              **weights("depthwise", bias=False),
                                                              **weights("pointwise")), [(9, 2)]),
        "SeparableConv2D": (lambda: L.SeparableConv2D(4, (3, 2), strides=(2, 1), padding="same",
                                                      depth_multiplier=2, activation="relu", use_bias=False,
                                                      **weights("depthwise", bias=False), **weights("pointwise"),
                                                      **act, **cf), [(3, 7, 6)]),
        "SeparableConv2D_dilated": (lambda: L.SeparableConv2D(3, 3, dilation_rate=(1, 2),
                                                              **weights("depthwise", bias=False),
                                                              **weights("pointwise")), [(6, 8, 2)]),
        "MaxPooling1D": (lambda: L.MaxPooling1D(3, strides=2, padding="same", **cf), [(2, 7)]),
        "MaxPooling2D": (lambda: L.MaxPooling2D((3, 2), strides=(2, 1), padding="same", **cf), [(2, 7, 5)]),
        "AveragePooling1D": (lambda: L.AveragePooling1D(3, strides=2, padding="same", **cf), [(2, 7)]),
        # Symmetric "same" padding: for an odd total Keras' torch backend pads average pooling by
        # replicating the edge, where TensorFlow and JAX (and ferrograd) leave the pad out of the mean.
        "AveragePooling2D": (lambda: L.AveragePooling2D((3, 5), strides=(2, 1), padding="same", **cf),
                             [(2, 7, 5)]),
        "GlobalAveragePooling1D": (lambda: L.GlobalAveragePooling1D(keepdims=True, **cf), [(3, 5)]),
        "GlobalAveragePooling2D": (lambda: L.GlobalAveragePooling2D(keepdims=True, **cf), [(3, 4, 5)]),
        "GlobalMaxPooling1D": (lambda: L.GlobalMaxPooling1D(keepdims=True, **cf), [(3, 5)]),
        "GlobalMaxPooling2D": (lambda: L.GlobalMaxPooling2D(keepdims=True, **cf), [(3, 4, 5)]),
        "BatchNormalization": (lambda: L.BatchNormalization(
            axis=1, momentum=0.5, epsilon=0.125, center=False, scale=False, beta_initializer=init.Constant(0.5),
            gamma_initializer=init.Constant(2.0), moving_mean_initializer=init.Constant(0.25),
            moving_variance_initializer=init.Constant(4.0), beta_regularizer=reg.L2(0.25),
            gamma_regularizer=reg.L1(0.5), beta_constraint=con.NonNeg(), gamma_constraint=con.MaxNorm(2.0),
            renorm_momentum=0.5), [(3, 4)]),
        "BatchNormalization_affine": (lambda: L.BatchNormalization(
            beta_initializer=init.RandomNormal(mean=0.5, stddev=0.25, seed=1), gamma_initializer=init.Constant(2.0),
            moving_mean_initializer=init.Constant(0.25), moving_variance_initializer=init.Constant(4.0)), [(4, 3)]),
        "UpSampling1D": (lambda: L.UpSampling1D(3), [(4, 2)]),
        "UpSampling2D": (lambda: L.UpSampling2D((2, 3), interpolation="bilinear", **cf), [(2, 3, 4)]),
        "UpSampling2D_nearest": (lambda: L.UpSampling2D(3), [(3, 2, 2)]),
        "ZeroPadding1D": (lambda: L.ZeroPadding1D((1, 2), **cf), [(2, 4)]),
        "ZeroPadding2D": (lambda: L.ZeroPadding2D(((1, 2), (0, 1)), **cf), [(2, 3, 4)]),
        "Cropping1D": (lambda: L.Cropping1D((1, 2)), [(6, 2)]),
        "Cropping2D": (lambda: L.Cropping2D(((1, 0), (1, 2)), **cf), [(2, 4, 5)]),
        "Conv3D": (lambda: L.Conv3D(4, (3, 2, 2), strides=(2, 1, 1), padding="same", groups=2, activation="relu",
                                    use_bias=False, **weights("kernel"), **act, **cf), [(2, 5, 4, 3)]),
        "Conv3D_dilated": (lambda: L.Conv3D(3, 2, dilation_rate=(2, 1, 1), **weights("kernel")), [(5, 4, 3, 2)]),
        "Conv3DTranspose": (lambda: L.Conv3DTranspose(3, (3, 2, 2), strides=(2, 2, 1), output_padding=(1, 0, 0),
                                                      activation="relu", use_bias=False, **weights("kernel"),
                                                      **act, **cf), [(2, 3, 4, 3)]),
        "Conv3DTranspose_same": (lambda: L.Conv3DTranspose(3, 3, strides=2, padding="same", **weights("kernel")),
                                 [(3, 4, 3, 2)]),
        "MaxPooling3D": (lambda: L.MaxPooling3D((3, 2, 2), strides=(2, 1, 1), padding="same", **cf), [(2, 7, 5, 4)]),
        "AveragePooling3D": (lambda: L.AveragePooling3D((2, 2, 1), strides=(1, 2, 1), **cf), [(2, 5, 4, 3)]),
        "GlobalAveragePooling3D": (lambda: L.GlobalAveragePooling3D(keepdims=True, **cf), [(2, 3, 4, 5)]),
        "GlobalMaxPooling3D": (lambda: L.GlobalMaxPooling3D(keepdims=True, **cf), [(2, 3, 4, 5)]),
        "UpSampling3D": (lambda: L.UpSampling3D((2, 1, 3), **cf), [(2, 2, 3, 2)]),
        "ZeroPadding3D": (lambda: L.ZeroPadding3D(((1, 2), (0, 1), (2, 0)), **cf), [(2, 3, 2, 2)]),
        "Cropping3D": (lambda: L.Cropping3D(((1, 0), (1, 2), (0, 1)), **cf), [(2, 4, 5, 3)]),
        "Permute": (lambda: L.Permute((2, 3, 1)), [(2, 3, 4)]),
        "RepeatVector": (lambda: L.RepeatVector(3), [(4,)]),
        "Add": (lambda: L.Add(name="my_add"), [(3, 4), (3, 4), (3, 4)]),
        "Subtract": (lambda: L.Subtract(trainable=False), [(3, 4), (3, 4)]),
        "Multiply": (lambda: L.Multiply(), [(3, 4), (3, 4)]),
        "Average": (lambda: L.Average(), [(3, 4), (3, 4), (3, 4)]),
        "Maximum": (lambda: L.Maximum(), [(3, 4), (3, 4)]),
        "Minimum": (lambda: L.Minimum(), [(3, 4), (3, 4)]),
        "Concatenate": (lambda: L.Concatenate(axis=1), [(3, 4), (2, 4)]),
    }


def inputs_for(input_shapes, seed=0, batch=2):
    """The float32 inputs a case is called on (the same arrays in both environments)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return [rng.standard_normal((batch,) + tuple(s)).astype(np.float32) for s in input_shapes]
