"""Attention, einsum and normalization layer cases with NON-DEFAULT arguments, shared by the tests and
by the script that measured real Keras on them (tests/fixtures/make_keras_attention_fixtures.py).

``cases(K)`` takes the module playing ``keras`` (real Keras 3, or ``ferrograd``) and returns
``{case: (make, mode, input_shapes, call_kwargs, masked_tail)}``: ``make()`` builds the layer;
``mode`` says how it is called: "x" (one tensor), "list" (``layer([q, v(, k)])``) or "qv"
(``layer(q, v(, k))``); ``input_shapes`` are per-sample shapes; ``masked_tail`` is None or, per
input, the number of trailing steps of each batch row that are padding (a Keras mask riding on
that input).
"""


def cases(K):
    L, init, reg, con = K.layers, K.initializers, K.regularizers, K.constraints

    def proj():
        return dict(kernel_initializer=init.RandomNormal(mean=0.0, stddev=0.5, seed=3),
                    bias_initializer=init.Constant(0.25), kernel_regularizer=reg.L2(0.25),
                    bias_regularizer=reg.L1(0.5), kernel_constraint=con.MaxNorm(max_value=3.0, axis=0),
                    bias_constraint=con.NonNeg())

    def affine():
        return dict(beta_initializer=init.Constant(0.5), gamma_initializer=init.Constant(2.0),
                    beta_regularizer=reg.L2(0.25), gamma_regularizer=reg.L1(0.5), beta_constraint=con.NonNeg(),
                    gamma_constraint=con.MaxNorm(max_value=2.0, axis=0))

    tails2 = [(1, 0), (0, 2)]
    return {
        "LayerNormalization": (lambda: L.LayerNormalization(epsilon=0.125, center=False, **affine()), "x",
                               [(3, 4)], {}, None),
        "LayerNormalization_axes": (lambda: L.LayerNormalization(axis=[-2, -1], epsilon=0.25, scale=False,
                                                                 **affine()), "x", [(3, 4)], {}, None),
        "LayerNormalization_axis23": (lambda: L.LayerNormalization(axis=(3, 2)), "x", [(3, 4, 2)], {}, None),
        "LayerNormalization_rms": (lambda: L.LayerNormalization(rms_scaling=True), "x", [(3, 4)], {}, None),
        "RMSNormalization": (lambda: L.RMSNormalization(epsilon=0.25, name="my_rms"), "x", [(3, 4)], {}, None),
        "RMSNormalization_axes": (lambda: L.RMSNormalization(axis=[1, 2]), "x", [(3, 4)], {}, None),
        "GroupNormalization": (lambda: L.GroupNormalization(groups=2, epsilon=0.125, **affine()), "x", [(3, 4)],
                               {}, None),
        "GroupNormalization_instance": (lambda: L.GroupNormalization(groups=-1, axis=1, center=False), "x",
                                        [(4, 3)], {}, None),
        "UnitNormalization": (lambda: L.UnitNormalization(axis=[1, 2]), "x", [(3, 4)], {}, None),
        "EinsumDense": (lambda: L.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de",
                                              activation="relu", **proj()), "x", [(3, 4)], {}, None),
        "EinsumDense_ellipsis": (lambda: L.EinsumDense("...b,bc->...c", output_shape=5, bias_axes="c",
                                                       kernel_initializer=init.RandomNormal(stddev=0.5, seed=1)),
                                 "x", [(3, 4)], {}, None),
        "EinsumDense_right": (lambda: L.EinsumDense("ab...,bc->ac...", output_shape=(5,), bias_axes="c"), "x",
                              [(4, 3)], {}, None),
        "EinsumDense_no_bias": (lambda: L.EinsumDense("ab,bc->ac", output_shape=3), "x", [(4,)], {}, None),
        "Attention": (lambda: L.Attention(use_scale=True, score_mode="concat", dropout=0.5, seed=3), "list",
                      [(3, 4), (5, 4)], {}, tails2),
        "Attention_causal": (lambda: L.Attention(use_scale=True), "list", [(4, 3), (4, 3)],
                             {"use_causal_mask": True, "return_attention_scores": True}, [(0, 0), (1, 2)]),
        "Attention_key": (lambda: L.Attention(), "list", [(3, 4), (5, 2), (5, 4)], {}, None),
        "AdditiveAttention": (lambda: L.AdditiveAttention(dropout=0.25, seed=5), "list", [(3, 4), (5, 4)],
                              {"return_attention_scores": True}, tails2),
        "AdditiveAttention_noscale": (lambda: L.AdditiveAttention(use_scale=False), "list",
                                      [(3, 4), (5, 4), (5, 4)], {"use_causal_mask": True}, None),
        "MultiHeadAttention": (lambda: L.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=2, dropout=0.25,
                                                            output_shape=5, seed=7, **proj()), "qv",
                               [(3, 4), (5, 6)], {}, tails2),
        "MultiHeadAttention_causal": (lambda: L.MultiHeadAttention(num_heads=3, key_dim=2), "qv",
                                      [(4, 4), (4, 4)], {"use_causal_mask": True}, None),
        "MultiHeadAttention_masked_causal": (lambda: L.MultiHeadAttention(num_heads=2, key_dim=3), "qv",
                                             [(4, 4), (4, 4)], {"use_causal_mask": True,
                                                                "return_attention_scores": True}, [(1, 0), (1, 2)]),
        "MultiHeadAttention_key": (lambda: L.MultiHeadAttention(num_heads=2, key_dim=2, use_bias=False), "qv",
                                   [(3, 4), (5, 6), (5, 2)], {"return_attention_scores": True}, None),
        "MultiHeadAttention_axes": (lambda: L.MultiHeadAttention(num_heads=2, key_dim=2, attention_axes=(1, 2)),
                                    "qv", [(2, 3, 4), (2, 3, 4)], {"return_attention_scores": True}, None),
        "MultiHeadAttention_window": (lambda: L.MultiHeadAttention(num_heads=1, key_dim=4, sliding_window=2,
                                                                   use_gate=True), "qv", [(5, 4), (5, 4)], {}, None),
        "GroupedQueryAttention": (lambda: L.GroupQueryAttention(head_dim=3, num_query_heads=4,
                                                                  num_key_value_heads=2, dropout=0.25, seed=2,
                                                                  **proj()), "qv", [(3, 4), (5, 4)], {}, tails2),
        "GroupedQueryAttention_causal": (lambda: L.GroupQueryAttention(head_dim=2, num_query_heads=3,
                                                                         num_key_value_heads=1, use_bias=False),
                                         "qv", [(4, 4), (4, 4)],
                                         {"use_causal_mask": True, "return_attention_scores": True}, None),
    }


def inputs_for(input_shapes, seed=0, batch=2):
    """The float32 inputs a case is called on (the same arrays in both environments)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return [rng.standard_normal((batch,) + tuple(s)).astype(np.float32) for s in input_shapes]


def masks_for(input_shapes, tails, batch=2):
    """Boolean (batch, steps) masks: row b of input i has its last ``tails[i][b]`` steps masked."""
    import numpy as np

    if tails is None:
        return None
    out = []
    for s, t in zip(input_shapes, tails):
        m = np.ones((batch, s[0]), dtype=bool)
        for b in range(batch):
            if t[b]:
                m[b, s[0] - t[b]:] = False
        out.append(m)
    return out


def weight_values(shapes, seed):
    """Values for the layer's weights, in order (variances/scales kept positive where it matters)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(tuple(s)) * 0.5).astype(np.float32) for s in shapes]
