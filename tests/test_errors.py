"""Bad input raises a clear Python exception, never a crash.

All cases run in one subprocess, so a segfault or abort fails the tests instead of killing
pytest; each case is then checked for the exception class and the words of its message.
"""
import json
import subprocess
import sys
import textwrap

import pytest

CASES = [
    # (id, code, exception class, fragments the message must contain)
    ("broadcast", "fg.ones((3,)) + fg.ones((4,))", "ValueError", ["add", "(3,)", "(4,)"]),
    ("matmul_inner", "fg.ones((2, 3)) @ fg.ones((4, 5))", "ValueError", ["matmul", "3", "4"]),
    ("matmul_scalar", "ops.matmul(fg.tensor(1.0), fg.ones((2,)))", "ValueError", ["matmul", "1-D"]),
    ("reshape", "fg.ones((2, 3)).reshape(4, 2)", "ValueError", ["reshape", "6"]),
    ("reshape_two_unknown", "fg.ones((2, 3)).reshape(-1, -1)", "ValueError", ["one unknown"]),
    ("axis_sum", "ops.sum(fg.ones((2, 3)), axis=2)", "IndexError", ["sum", "axis 2", "rank 2"]),
    ("axis_repeat", "ops.sum(fg.ones((2, 3)), axis=(0, 0))", "ValueError", ["repeated axis"]),
    ("axis_softmax", "ops.softmax(fg.ones((2, 3)), axis=-3)", "IndexError", ["softmax", "-3"]),
    ("index_oob", "fg.ones((2, 3))[5]", "IndexError", ["index 5", "size 2"]),
    ("index_too_many", "fg.ones((2, 3))[0, 0, 0]", "IndexError", ["too many indices"]),
    ("index_array_oob", "fg.ones((2, 3))[[0, 7]]", "IndexError", ["index 7", "size 2"]),
    ("take_oob", "ops.take(fg.ones((4,)), fg.tensor([-5]))", "IndexError", ["take", "-5"]),
    ("take_float_idx", "ops.take(fg.ones((4,)), fg.tensor([1.0]))", "TypeError", ["integers"]),
    ("index_float", "fg.ones((4,))[fg.tensor([1.5])]", "IndexError", ["integers or booleans"]),
    ("mask_shape", "fg.ones((4,))[fg.tensor([True, False])]", "IndexError", ["boolean index"]),
    ("slice_step0", "fg.ones((4,))[::0]", "ValueError", ["step", "zero"]),
    ("dtype_name", "fg.zeros((2,), dtype='complex64')", "TypeError", ["complex64", "float32"]),
    ("string_data", "fg.tensor(['a', 'b'])", "TypeError", ["cannot convert"]),
    ("object_operand", "fg.ones((2,)) + object()", "TypeError", []),
    ("grad_on_int", "t = fg.tensor([1, 2]); t.requires_grad = True", "TypeError", ["floating-point"]),
    ("backward_nonscalar", "x = fg.ones((2,)); x.requires_grad = True; (x * 2).backward()", "RuntimeError",
     ["scalar outputs", "(2,)"]),
    ("concat_mismatch", "ops.concatenate([fg.ones((2, 3)), fg.ones((3, 2))], axis=0)", "ValueError",
     ["concatenate", "(2, 3)", "(3, 2)"]),
    ("concat_empty", "ops.concatenate([], axis=0)", "ValueError", ["at least one"]),
    ("stack_mismatch", "ops.stack([fg.ones((2,)), fg.ones((3,))])", "ValueError", ["same shape"]),
    ("split_uneven", "ops.split(fg.ones((5,)), 2)", "ValueError", ["5", "2 equal"]),
    ("max_empty", "ops.max(fg.ones((0, 3)), axis=0)", "ValueError", ["zero-size", "no identity"]),
    ("argmax_empty", "ops.argmax(fg.ones((0,)))", "ValueError", ["empty"]),
    ("broadcast_to", "ops.broadcast_to(fg.ones((3,)), (2, 4))", "ValueError", ["broadcast", "(3,)"]),
    ("squeeze_non1", "ops.squeeze(fg.ones((2, 3)), axis=0)", "ValueError", ["squeeze", "not 1"]),
    ("transpose_perm", "ops.transpose(fg.ones((2, 3)), (0, 0))", "ValueError", ["permutation"]),
    ("pad_width", "ops.pad(fg.ones((2, 3)), ((1, 1),) * 3)", "ValueError", ["pad_width"]),
    ("pad_mode", "ops.pad(fg.ones((2, 3)), 1, mode='wrapx')", "ValueError", ["constant", "wrapx"]),
    ("arange_zero_step", "ops.arange(0, 5, 0)", "ValueError", ["step"]),
    ("arange_nan", "ops.arange(0, float('nan'))", "ValueError", ["finite"]),
    ("clip_nan", "ops.clip(fg.ones((2,)), float('nan'), 1.0)", "ValueError", ["NaN"]),
    ("uniform_bounds", "fg.random.uniform((2,), 1.0, 0.0)", "ValueError", ["minval"]),
    ("normal_std", "fg.random.normal((2,), stddev=-1.0)", "ValueError", ["stddev"]),
    ("randint_bounds", "fg.random.randint((2,), 5, 5)", "ValueError", ["low < high"]),
    ("negative_shape", "fg.zeros((2, -3))", "ValueError", ["negative"]),
    ("huge_shape", "fg.zeros((2**40, 2**40))", "ValueError", ["too many elements"]),
    ("set_threads", "fg.set_num_threads(0)", "ValueError", ["thread count"]),
    ("item_many", "fg.ones((3,)).item()", "ValueError", ["one-element"]),
    ("from_numpy_type", "fg.from_numpy([1, 2])", "TypeError", ["numpy.ndarray"]),
    ("from_numpy_dtype", "fg.from_numpy(np.array(['x']))", "TypeError", ["unsupported array dtype"]),
    ("take_along_rank", "ops.take_along_axis(fg.ones((2, 3)), fg.tensor([0]), axis=1)", "ValueError",
     ["same rank"]),
    ("one_hot_float", "ops.one_hot(fg.tensor([0.5]), 3)", "TypeError", ["integers"]),
    ("assign_shape", "fg.zeros((2, 3)).assign(fg.ones((4,)))", "ValueError", ["assign", "(4,)", "(2, 3)"]),
    ("setitem_grad", "x = fg.ones((2,)); x.requires_grad = True; x[0] = 3.0", "ValueError", ["requires grad"]),
    ("unknown_unary", "fg._core.unary(fg.ones((2,)), 'frobnicate')", "ValueError", ["frobnicate"]),
    ("int_overflow", "fg.ones((2,), dtype='int64') + 2**70", "OverflowError", ["int64"]),
    ("grad_assign_shape", "x = fg.ones((2,)); x.grad = fg.ones((3,))", "ValueError", ["gradient", "(2,)"]),
    ("inplace_saved_input", "x = fg.ones((2,)); x.requires_grad = True; w = fg.ones((2,)); y = (x * w).sum(); "
     "w.assign(fg.zeros((2,))); y.backward()", "RuntimeError",
     ["backward", "in-place", "input 1 of 'multiply'", "(2,)", "version 1", "version 0"]),
    ("inplace_saved_setitem", "x = fg.ones((3,)); x.requires_grad = True; y = ops.exp(x); s = (y * y).sum(); "
     "y2 = y.detach(); y2[1] = 0.0; s.backward()", "RuntimeError", ["input 0 of 'multiply'", "version 1"]),
    ("assign_broadcast_view", "ops.broadcast_to(fg.ones((1, 2)), (3, 2)).assign(0.0)", "ValueError",
     ["assign", "share memory", "(3, 2)"]),
    ("optimizer_shared_variable", "w = fg.ones((2,)); fg._core.optimizer_step('sgd', [w, w.detach()], "
     "[fg.ones((2,)), fg.ones((2,))], [[], []], 0.1, 1)", "ValueError", ["optimizer", "variables 0 and 1",
                                                                        "share memory"]),
    ("backward_twice", "x = fg.ones((2,)); x.requires_grad = True; y = (x * x).sum(); y.backward(); y.backward()",
     "RuntimeError", ["second time", "retain_graph"]),
    # keras.config, the activation/regularization/preprocessing layers, utils and random additions
    ("config_floatx", "fg.config.set_floatx('float16')", "ValueError", ["float32 only", "float16"]),
    ("config_data_format", "fg.config.set_image_data_format('nhwc')", "ValueError", ["data_format=nhwc"]),
    ("missing_name", "fg.layers.Normalizatio", "AttributeError", ["keras.layers.Normalizatio",
                                                                "not available in ferrograd yet"]),
    ("relu_negative", "fg.layers.ReLU(max_value=-1.0)", "ValueError", ["max_value", "-1.0"]),
    ("leaky_negative", "fg.layers.LeakyReLU(negative_slope=-0.1)", "ValueError", ["negative_slope=-0.1"]),
    ("dot_axes", "fg.layers.Dot(axes=(1, 2, 3))", "ValueError", ["two elements"]),
    ("dot_mismatch", "fg.layers.Dot(axes=1)([fg.ones((2, 3)), fg.ones((2, 4))])", "ValueError",
     ["Incompatible input shapes", "3", "4"]),
    ("gaussian_noise_std", "fg.layers.GaussianNoise(-0.5)", "ValueError", ["stddev=-0.5"]),
    ("alpha_dropout_rate", "fg.layers.AlphaDropout(1.5)", "ValueError", ["rate=1.5"]),
    ("spatial_dropout_rank", "fg.layers.SpatialDropout2D(0.5)(fg.ones((2, 3)), training=True)", "ValueError",
     ["expected ndim=4", "(2, 3)"]),
    ("resizing_bicubic", "fg.layers.Resizing(4, 4, interpolation='bicubic')", "NotImplementedError",
     ["bicubic", "bilinear and nearest"]),
    ("resizing_size", "fg.layers.Resizing(0, 4)", "ValueError", ["height", "positive"]),
    ("random_flip_mode", "fg.layers.RandomFlip('diagonal')", "ValueError", ["unknown mode", "diagonal"]),
    ("random_contrast_factor", "fg.layers.RandomContrast(1.5)", "ValueError", ["factor=1.5", "[0, 1]"]),
    ("utils_normalize_order", "fg.utils.normalize(np.ones((2, 2)), order=0)", "ValueError", ["order=0"]),
    ("utils_split_sizes", "fg.utils.split_dataset(np.ones(4), left_size=3, right_size=3)", "ValueError",
     ["greater than the number of samples"]),
    ("utils_timeseries_stride", "fg.utils.timeseries_dataset_from_array(np.ones(9), None, 2, sequence_stride=0)",
     "ValueError", ["sequence_stride=0"]),
    ("random_categorical_rank", "fg.random.categorical(fg.ones((3,)), 2)", "ValueError", ["2D", "(3,)"]),
    ("random_gamma", "fg.random.gamma((2,), -1.0)", "ValueError", ["gamma", "alpha must be finite and > 0", "-1"]),
    ("cifar100_mode", "fg.datasets.cifar100.load_data(label_mode='medium')", "ValueError", ["label_mode=medium"]),
    # recurrent layers and the fused recurrence
    ("rnn_rank", "fg.layers.LSTM(4)(fg.ones((2, 3)))", "ValueError", ["lstm", "expected ndim=3", "(2, 3)"]),
    ("rnn_state_shape", "fg.layers.GRU(4)(fg.ones((2, 3, 5)), initial_state=[fg.ones((2, 3))])", "ValueError",
     ["gru", "(2, 4)", "(2, 3)"]),
    ("rnn_state_count", "fg.layers.LSTM(4)(fg.ones((2, 3, 5)), initial_state=[fg.ones((2, 4))])", "ValueError",
     ["expects 2 initial state", "Received: 1"]),
    ("rnn_mask_shape", "fg.layers.SimpleRNN(4)(fg.ones((2, 3, 5)), mask=fg.tensor(np.ones((2, 4), bool)))",
     "ValueError", ["mask", "(2, 3)", "(2, 4)"]),
    ("rnn_units", "fg.layers.LSTM(0)", "ValueError", ["units", "positive integer", "got 0"]),
    ("rnn_stateful", "fg.Sequential([fg.Input((3, 5)), fg.layers.LSTM(4, stateful=True)])", "ValueError",
     ["stateful=True", "batch size", "static"]),
    ("rnn_features", "l = fg.layers.LSTM(4); l(fg.ones((2, 3, 5))); l(fg.ones((2, 3, 6)))", "ValueError",
     ["expected axis -1", "value 5", "(2, 3, 6)"]),
    ("rnn_fused_int", "fg._ops_rnn.fused_rnn('simple', fg.ones((2, 3, 4), dtype='int32'), fg.ones((4, 4)), "
     "fg.ones((2, 4)))", "TypeError", ["rnn_sequence", "int32", "float32"]),
    ("rnn_fused_c0", "fg._ops_rnn.fused_rnn('lstm', fg.ones((2, 3, 16)), fg.ones((4, 16)), fg.ones((2, 4)))",
     "ValueError", ["rnn_sequence", "c0"]),
    ("rnn_fused_act", "fg._ops_rnn.fused_rnn('simple', fg.ones((2, 3, 4)), fg.ones((4, 4)), fg.ones((2, 4)), "
     "activation='gelu')", "ValueError", ["rnn_sequence", "gelu", "tanh"]),
    ("rnn_fused_kernel", "fg._ops_rnn.fused_rnn('gru', fg.ones((2, 3, 12)), fg.ones((4, 8)), fg.ones((2, 4)))",
     "ValueError", ["recurrent_kernel", "(4, 8)", "3 * units"]),
    ("rnn_fused_no_steps", "fg._ops_rnn.fused_rnn('simple', fg.ones((2, 0, 4)), fg.ones((4, 4)), fg.ones((2, 4)))",
     "ValueError", ["at least one time step"]),
    ("bidirectional_mode", "fg.layers.Bidirectional(fg.layers.LSTM(4), merge_mode='max')", "ValueError",
     ["merge mode", "max"]),
    ("time_distributed_rank", "fg.layers.TimeDistributed(fg.layers.Dense(3))(fg.ones((4,)))", "ValueError",
     ["TimeDistributed", "3 dimensions", "(4,)"]),
    ("attention_heads", "ops.dot_product_attention(fg.ones((1, 3, 4, 8)), fg.ones((1, 5, 3, 8)), "
     "fg.ones((1, 5, 3, 8)))", "ValueError", ["dot_product_attention", "(3)", "must divide", "(4)"]),
    ("attention_head_dim", "ops.dot_product_attention(fg.ones((1, 3, 4, 8)), fg.ones((1, 5, 4, 6)), "
     "fg.ones((1, 5, 4, 6)))", "ValueError", ["dot_product_attention", "head_dim", "H=8"]),
    ("attention_rank", "ops.dot_product_attention(fg.ones((3, 4, 8)), fg.ones((3, 4, 8)), fg.ones((3, 4, 8)))",
     "ValueError", ["dot_product_attention", "query", "4-D", "(3, 4, 8)"]),
    ("attention_int", "ops.dot_product_attention(fg.ones((1, 3, 2, 4), dtype='int32'), fg.ones((1, 3, 2, 4)), "
     "fg.ones((1, 3, 2, 4)))", "TypeError", ["dot_product_attention", "floating-point", "int32"]),
    ("attention_mask_shape", "q = fg.ones((2, 3, 2, 4)); ops.dot_product_attention(q, q, q, "
     "mask=fg.ones((2, 1, 4, 3), dtype='bool'))", "ValueError", ["mask", "(2, 1, 4, 3)", "(2, 2, 3, 3)"]),
    ("attention_mask_dtype", "q = fg.ones((2, 3, 2, 4)); ops.dot_product_attention(q, q, q, mask=fg.ones((3, 3)))",
     "TypeError", ["mask", "boolean", "float32"]),
    ("attention_kv_shape", "ops.dot_product_attention(fg.ones((1, 3, 2, 4)), fg.ones((1, 5, 2, 4)), "
     "fg.ones((1, 6, 2, 4)))", "ValueError", ["key and value", "(1, 5, 2, 4)", "(1, 6, 2, 4)"]),
    ("einsum_trace", "ops.einsum('ii->i', fg.ones((3, 3)))", "ValueError", ["einsum", "repeated subscripts"]),
    ("einsum_rank", "ops.einsum('abc,cd->abd', fg.ones((2, 3)), fg.ones((3, 4)))", "ValueError",
     ["einsum", "'abc'", "rank 2"]),
    ("einsum_sizes", "ops.einsum('ab,bc->ac', fg.ones((2, 3)), fg.ones((4, 5)))", "ValueError",
     ["einsum", "'b'", "3", "4"]),
    ("top_k_large", "ops.top_k(fg.ones((2, 3)), 4)", "ValueError", ["top_k", "k=4", "(2, 3)"]),
    ("tril_rank", "ops.tril(fg.ones((3,)))", "ValueError", ["tril", "rank >= 2", "(3,)"]),
    ("glu_odd", "ops.glu(fg.ones((2, 3)))", "ValueError", ["glu", "even", "(2, 3)"]),
    ("tensordot_axes", "ops.tensordot(fg.ones((2, 3)), fg.ones((2, 3)), axes=1)", "ValueError",
     ["tensordot", "(2, 3)"]),
    ("diagonal_rank", "ops.diagonal(fg.ones((3,)))", "ValueError", ["diagonal", "rank >= 2", "(3,)"]),
    ("quantile_q", "ops.quantile(fg.ones((3,)), 1.5)", "ValueError", ["quantile", "[0, 1]"]),
    ("norm_bad_matrix_ord", "ops.norm(fg.ones((3, 3)), ord=3)", "ValueError", ["norm", "invalid norm order 3"]),
    ("ops_stft", "ops.stft(fg.ones((20,)), 8, 2, 4)", "ValueError", ["fft_length", "sequence_length=8"]),
    ("segment_max_ids", "ops.segment_max(fg.ones((3, 2)), [0, 1])", "ValueError",
     ["segment_max", "one id per row", "(2,)"]),
    ("arcsin_type", "ops.arcsin('a')", "TypeError", ["cannot convert str", "numbers"]),
    ("segment_ids_range", "ops.segment_sum(fg.ones((3, 2)), [0, 5, 1], num_segments=2)", "ValueError",
     ["segment_sum", "segment_ids", "5", "[0, 2)"]),
    ("linalg_eig", "ops.linalg.eig", "AttributeError", ["keras.ops.linalg.eig", "complex"]),
    ("resize_bicubic", "ops.image.resize(fg.ones((1, 4, 4, 1)), (6, 6), interpolation='bicubic')",
     "NotImplementedError", ["resize", "bicubic", "not available in ferrograd yet"]),
    ("resize_fill_mode", "ops.image.resize(fg.ones((1, 4, 4, 1)), (6, 6), fill_mode='reflect')", "ValueError",
     ["resize", "fill_mode", "reflect"]),
    ("image_dataset_no_files", "fg.utils.image_dataset_from_directory(__import__('tempfile').mkdtemp(), verbose=0)",
     "ValueError", ["No images found", ".png"]),
    ("crop_too_big", "ops.image.crop_images(fg.ones((1, 4, 4, 1)), 1, 1, target_height=5, target_width=1)",
     "ValueError", ["crop_images", "(1, 4, 4, 1)"]),
    ("mha_heads", "fg.layers.MultiHeadAttention(num_heads=0, key_dim=4)", "ValueError",
     ["num_heads", "positive integer", "num_heads=0"]),
    ("gqa_heads", "fg.layers.GroupedQueryAttention(head_dim=4, num_query_heads=6, num_key_value_heads=4)",
     "ValueError", ["num_query_heads", "divisible", "num_key_value_heads=4"]),
    ("attention_score_mode", "fg.layers.Attention(score_mode='sum')", "ValueError", ["score_mode", "score_mode=sum",
                                                                                     "dot", "concat"]),
    ("attention_not_list", "fg.layers.Attention()(fg.ones((2, 3, 4)))", "ValueError",
     ["Attention", "list of inputs", "[query, value]"]),
    ("mha_flash_dropout", "fg.layers.MultiHeadAttention(2, 4, dropout=0.5, flash_attention=True)", "ValueError",
     ["Dropout", "flash attention"]),
    ("group_norm_groups", "fg.layers.GroupNormalization(groups=3)(fg.ones((2, 4)))", "ValueError",
     ["groups (3)", "channels (4)"]),
    ("einsum_dense_equation", "fg.layers.EinsumDense('ab->b', 3)(fg.ones((2, 4)))", "ValueError",
     ["Invalid einsum equation", "'ab->b'"]),
    # losses, metrics, schedules, callbacks (issue 17)
    ("focal_axis", "fg.losses.CategoricalFocalCrossentropy(axis=True)", "ValueError", ["`axis`", "type `int`"]),
    ("focal_gamma", "fg.losses.BinaryFocalCrossentropy(gamma=-1.0)", "ValueError", ["gamma", "gamma=-1.0"]),
    ("loss_reduction", "fg.losses.Tversky(reduction='avg')", "ValueError", ["reduction", "reduction=avg"]),
    ("loss_id", "fg.losses.get('kldd')", "ValueError", ["Could not interpret loss identifier", "'kldd'"]),
    ("f1_average", "fg.metrics.F1Score(average='mean')", "ValueError", ["`average`", "average=mean"]),
    ("fbeta_beta", "fg.metrics.FBetaScore(beta=2)", "ValueError", ["`beta`", "Python float", "beta=2"]),
    ("f1_rank", "fg.metrics.F1Score().update_state(np.zeros(3), np.zeros(3))", "ValueError",
     ["2D inputs", "(3,)"]),
    ("iou_target", "fg.metrics.IoU(num_classes=2, target_class_ids=[3])", "ValueError",
     ["Target class id 3", "[0, 2)"]),
    ("r2_aggregation", "fg.metrics.R2Score(class_aggregation='max')", "ValueError",
     ["class_aggregation", "class_aggregation=max"]),
    ("tp_thresholds", "fg.metrics.TruePositives(thresholds=[2.0])", "ValueError", ["Threshold values", "[2.0]"]),
    ("precision_at_recall", "fg.metrics.PrecisionAtRecall(recall=-0.1)", "ValueError",
     ["`recall`", "[0, 1]", "recall=-0.1"]),
    ("metric_id", "fg.metrics.get('r2')", "ValueError", ["Could not interpret metric identifier", "'r2'"]),
    ("poly_decay_steps", "fg.optimizers.schedules.PolynomialDecay(0.1, 0)", "ValueError",
     ["`decay_steps` must be > 0", "decay_steps=0"]),
    ("restarts_steps", "fg.optimizers.schedules.CosineDecayRestarts(0.1, -2)", "ValueError",
     ["`first_decay_steps` must be > 0", "first_decay_steps=-2"]),
    ("schedule_unknown", "fg.optimizers.schedules.deserialize({'class_name': 'NoDecay', 'config': {}})",
     "ValueError", ["learning rate schedule", "'NoDecay'"]),
    ("backup_dir", "fg.callbacks.BackupAndRestore('')", "ValueError", ["Empty `backup_dir`"]),
    ("backup_freq", "fg.callbacks.BackupAndRestore('b', save_freq='batch')", "ValueError",
     ["save_freq", "save_freq=batch", "'epoch' or an integer"]),
    ("tensorboard_histograms", "fg.callbacks.TensorBoard('logs', histogram_freq=1)", "ValueError",
     ["histogram_freq=1", "not available"]),
    ("callback_missing", "fg.callbacks.OrbaxCheckpoint", "AttributeError",
     ["keras.callbacks.OrbaxCheckpoint", "not available in ferrograd yet"]),
    # fused attention kernel (fg._core.dot_product_attention)
    ("attn_heads", "fg._core.dot_product_attention(fg.ones((1, 2, 3, 4)), fg.ones((1, 5, 2, 4)), "
     "fg.ones((1, 5, 2, 4)))",
     "ValueError", ["dot_product_attention", "multiple", "(1, 2, 3, 4)", "(1, 5, 2, 4)"]),
    ("attn_head_size", "fg._core.dot_product_attention(fg.ones((1, 2, 2, 4)), fg.ones((1, 5, 2, 8)), "
     "fg.ones((1, 5, 2, 8)))",
     "ValueError", ["dot_product_attention", "H=4", "H=8"]),
    ("attn_kv_shape", "fg._core.dot_product_attention(fg.ones((1, 2, 2, 4)), fg.ones((1, 5, 2, 4)), "
     "fg.ones((1, 6, 2, 4)))",
     "ValueError", ["dot_product_attention", "(1, 5, 2, 4)", "(1, 6, 2, 4)"]),
    ("attn_batch", "fg._core.dot_product_attention(fg.ones((2, 2, 2, 4)), fg.ones((1, 5, 2, 4)), "
     "fg.ones((1, 5, 2, 4)))",
     "ValueError", ["dot_product_attention", "batch"]),
    ("attn_rank", "fg._core.dot_product_attention(fg.ones((2, 2, 4)), fg.ones((1, 5, 2, 4)), fg.ones((1, 5, 2, 4)))",
     "ValueError", ["dot_product_attention", "rank 4", "(2, 2, 4)"]),
    ("attn_int", "fg._core.dot_product_attention(fg.ones((1, 2, 2, 4), dtype='int32'), fg.ones((1, 5, 2, 4)), "
     "fg.ones((1, 5, 2, 4)))",
     "TypeError", ["dot_product_attention", "int32", "float32"]),
    ("attn_mixed_dtype", "fg._core.dot_product_attention(fg.ones((1, 2, 2, 4)), "
     "fg.ones((1, 5, 2, 4), dtype='float64'), fg.ones((1, 5, 2, 4)))",
     "TypeError", ["dot_product_attention", "one dtype"]),
    ("attn_mask_shape", "fg._core.dot_product_attention(fg.ones((1, 2, 2, 4)), fg.ones((1, 5, 2, 4)), "
     "fg.ones((1, 5, 2, 4)), mask=fg.ones((3, 5), dtype='bool'))",
     "ValueError", ["dot_product_attention", "mask", "(3, 5)", "(1, 2, 2, 5)"]),
    ("attn_bias_shape", "fg._core.dot_product_attention(fg.ones((1, 2, 2, 4)), fg.ones((1, 5, 2, 4)), "
     "fg.ones((1, 5, 2, 4)), bias=fg.ones((2, 4)))",
     "ValueError", ["dot_product_attention", "bias", "(2, 4)"]),
    ("attn_mask_dtype", "fg._core.dot_product_attention(fg.ones((1, 2, 2, 4)), fg.ones((1, 5, 2, 4)), "
     "fg.ones((1, 5, 2, 4)), mask=fg.ones((2, 5)))",
     "TypeError", ["dot_product_attention", "mask", "bool"]),
    ("attn_dropout_range", "fg._core.dot_product_attention(fg.ones((1, 2, 2, 4)), fg.ones((1, 5, 2, 4)), "
     "fg.ones((1, 5, 2, 4)), dropout_rate=1.5)",
     "ValueError", ["dot_product_attention", "dropout_rate", "1.5"]),
    ("attn_dropout_one", "fg.ops._attention(fg.ones((1, 2, 2, 4)), fg.ones((1, 5, 2, 4)), "
     "fg.ones((1, 5, 2, 4)), dropout_rate=1.0)",
     "ValueError", ["dot_product_attention", "dropout_rate", "[0, 1)"]),
    ("attn_scale", "fg._core.dot_product_attention(fg.ones((1, 2, 2, 4)), fg.ones((1, 5, 2, 4)), "
     "fg.ones((1, 5, 2, 4)), scale=float('inf'))",
     "ValueError", ["dot_product_attention", "scale"]),
    # issue 18: integer semantics, sizes that overflow or cannot be allocated, escaped panics
    ("int_pow_negative", "ops.power(fg.tensor([2, 3]), fg.tensor([1, -1]))", "ValueError",
     ["power", "negative integer powers", "exponent -1", "int64"]),
    ("int32_pow_negative_scalar", "fg.tensor([2], dtype='int32') ** -3", "ValueError",
     ["power", "negative integer powers", "-3", "int32"]),
    ("zeros_out_of_memory", "fg.zeros((2**50,))", "MemoryError", ["alloc", "out of memory", "bytes"]),
    ("repeat_counts_out_of_memory", "ops.repeat(fg.tensor([1, 2]), [2**50, 1])", "MemoryError",
     ["repeat", "cannot allocate"]),
    ("repeat_counts_overflow", "ops.repeat(fg.tensor([1, 2, 3, 4, 5]), [2**62] * 5)", "ValueError",
     ["repeat", "sum to more than"]),
    ("repeat_scalar_overflow", "ops.repeat(ops.broadcast_to(fg.tensor([1]), (2**40,)), 2**40)",
     "ValueError", ["repeat", "too many elements"]),
    ("tile_overflow", "ops.tile(ops.broadcast_to(fg.tensor([1]), (2**40,)), (2**40,))", "ValueError",
     ["too many elements"]),
    ("pad_overflow", "ops.pad(ops.broadcast_to(fg.tensor([1.0]), (2**62,)), [(2**63 - 1, 2**63 - 1)])",
     "ValueError",
     ["pad", "too many elements"]),
    ("pad_reflect_out_of_memory", "ops.pad(fg.tensor([1.0, 2.0]), [(2**50, 0)], mode='reflect')",
     "MemoryError", ["pad", "cannot allocate"]),
    ("pad_edge_too_many", "ops.pad(fg.tensor([1.0, 2.0]), [(2**62, 0)], mode='edge')", "ValueError",
     ["pad", "too many elements"]),
    ("shuffle_huge_axis", "fg.random.shuffle(ops.broadcast_to(fg.tensor([1]), (2**50,)))", "MemoryError",
     ["permutation", "cannot allocate"]),
    ("resize_taps_out_of_memory", "ops.image.resize(fg.ones((1, 4, 4, 1)), (2**50, 4))", "MemoryError",
     ["upsample_bilinear", "cannot allocate"]),
    ("resize_too_many", "ops.image.resize(fg.ones((1, 4, 4, 1)), (2**40, 2**40))", "ValueError",
     ["upsample_bilinear", "too many elements"]),
    ("from_numpy_uint64_overflow", "fg.from_numpy(np.array([1, 2**64 - 1], dtype='uint64'))", "OverflowError",
     ["uint64", "18446744073709551615", "int64"]),
    ("tensor_uint64_overflow", "fg.tensor(np.array([2**63], dtype='uint64'))", "OverflowError",
     ["uint64", "9223372036854775808"]),
    ("debug_panic", "fg._core._debug_panic()", "RuntimeError",
     ["ferrograd internal error in _debug_panic", "deliberate panic", "this is a bug, please report it"]),
    ("debug_panic_worker", "fg.set_num_threads(2); fg._core._debug_panic(on_worker=True)", "RuntimeError",
     ["ferrograd internal error in _debug_panic", "deliberate panic in task 63", "please report it"]),
    # issue 14: BERT models, local Hugging Face checkpoints, semantic search
    ("bert_preset_not_a_directory", "from ferrograd.hub.models import BertBackbone; "
     "BertBackbone.from_preset('bert_base_en_uncased')", "ValueError",
     ["BertBackbone.from_preset", "only local directories are supported", "bert_base_en_uncased"]),
    ("bert_unknown_argument", "from ferrograd.hub.models import BertBackbone; BertBackbone(50, 1, 2, 8, 16, "
     "rope=True)", "ValueError", ["BertBackbone", "['rope'] are not supported"]),
    ("bert_float_token_ids", "from ferrograd.hub.models import BertBackbone; BertBackbone(50, 1, 2, 8, 16)("
     "{'token_ids': np.ones((1, 4), 'float32'), 'segment_ids': np.zeros((1, 4), 'int32'), "
     "'padding_mask': np.ones((1, 4), 'int32')})", "TypeError", ["token_ids", "integer ids", "float32"]),
    ("bert_too_long", "from ferrograd.hub.models import BertBackbone; x = np.ones((1, 9), 'int32'); "
     "BertBackbone(50, 1, 2, 8, 16, max_sequence_length=8)({'token_ids': x, 'segment_ids': 0 * x, "
     "'padding_mask': x})", "ValueError", ["9 tokens", "max_sequence_length=8"]),
    ("cosine_top_k_k", "from ferrograd.hub import cosine_top_k; cosine_top_k(fg.ones((2, 3)), fg.ones((4, 3)), k=9)",
     "ValueError", ["cosine_top_k", "[1, 4]", "k=9"]),
    ("mean_pool_shapes", "from ferrograd.hub import mean_pool; mean_pool(fg.ones((2, 3, 4)), np.ones((2, 5)))",
     "ValueError", ["mean_pool", "(2, 3, 4)", "(2, 5)"]),
    # issue 14: GPT-2 and ViT models
    ("gpt2_preset_not_a_directory", "from ferrograd.hub.models import GPT2CausalLM; "
     "GPT2CausalLM.from_preset('gpt2_base_en')", "ValueError",
     ["GPT2CausalLM.from_preset", "only local directories are supported", "gpt2_base_en"]),
    ("gpt2_unknown_argument", "from ferrograd.hub.models import GPT2Backbone; GPT2Backbone(50, 1, 2, 8, 16, "
     "rope=True)", "ValueError", ["GPT2Backbone", "['rope'] are not supported"]),
    ("gpt2_float_prompts", "from ferrograd.hub.models import GPT2Backbone, GPT2CausalLM; "
     "GPT2CausalLM(GPT2Backbone(50, 1, 2, 8, 16)).generate([[1.5, 2.0]], max_length=8)", "TypeError",
     ["generate", "integer token ids", "float64"]),
    ("gpt2_prompt_too_long", "from ferrograd.hub.models import GPT2Backbone, GPT2CausalLM; "
     "GPT2CausalLM(GPT2Backbone(50, 1, 2, 8, 16, max_sequence_length=8)).generate([list(range(9))], max_length=8)",
     "ValueError", ["9 tokens long", "max_sequence_length=8"]),
    ("vit_channels_first", "from ferrograd.hub.models import ViTBackbone; ViTBackbone((8, 8, 3), 4, 1, 2, 8, 8, "
     "data_format='channels_first')", "ValueError", ["ViTBackbone", "data_format='channels_first' is not implemented"]),
    ("vit_pooling", "from ferrograd.hub.models import ViTBackbone, ViTImageClassifier; "
     "ViTImageClassifier(ViTBackbone((8, 8, 3), 4, 1, 2, 8, 8), 3, pooling='max')", "ValueError",
     ["ViTImageClassifier", "pooling", "'max'"]),
    # issue 14: hub tokenizers
    ("wordpiece_vocab_missing", "from ferrograd.hub.tokenizers import WordPieceTokenizer; "
     "WordPieceTokenizer(vocabulary='/nonexistent/vocab.txt')", "FileNotFoundError",
     ["WordPieceTokenizer", "/nonexistent/vocab.txt", "does not exist"]),
    ("wordpiece_no_oov", "from ferrograd.hub.tokenizers import WordPieceTokenizer; WordPieceTokenizer(['a', 'b'])",
     "ValueError", ["oov_token", "[UNK]"]),
    ("wordpiece_detokenize_range", "from ferrograd.hub.tokenizers import WordPieceTokenizer; "
     "WordPieceTokenizer(['[UNK]', 'a']).detokenize([0, 7])", "ValueError", ["between 0 and 1", "7"]),
    ("wordpiece_input_type", "from ferrograd.hub.tokenizers import WordPieceTokenizer; "
     "WordPieceTokenizer(['[UNK]', 'a'])(['a', 3.5])", "TypeError", ["string", "float"]),
    ("bert_tokenizer_no_vocab_txt", "import tempfile; from ferrograd.hub.tokenizers import BertTokenizer; "
     "BertTokenizer.from_preset(tempfile.mkdtemp())", "FileNotFoundError", ["from_preset", "vocab.txt"]),
    ("bert_tokenizer_missing_special", "from ferrograd.hub.tokenizers import BertTokenizer; "
     "BertTokenizer(['[UNK]', '[CLS]', '[SEP]'])", "ValueError", ["[PAD]", "vocabulary"]),
    ("byte_pair_unknown_merge", "from ferrograd.hub.tokenizers import BytePairTokenizer; "
     "BytePairTokenizer({'a': 0}, ['a b'])", "ValueError", ["Merge rule 'a b'", "not in the vocabulary"]),
    ("text_vectorization_non_string", "fg.layers.TextVectorization().adapt([1, 2])", "TypeError",
     ["expects strings", "int"]),
    ("text_vectorization_seq_len_mode", "fg.layers.TextVectorization(output_mode='count', output_sequence_length=3)",
     "ValueError", ["output_sequence_length", "not 'int'"]),
    ("text_vectorization_unknown_arg", "fg.layers.TextVectorization(max_token=3)", "TypeError", ["max_token"]),
    ("text_vectorization_ragged", "fg.layers.TextVectorization(ragged=True)", "ValueError", ["ragged=True"]),
    ("string_lookup_duplicates", "fg.layers.StringLookup(vocabulary=['a', 'b', 'a'])", "ValueError",
     ["repeated", "'a'"]),
    ("string_lookup_empty", "fg.layers.StringLookup(vocabulary=[])", "ValueError", ["empty vocabulary"]),
    ("string_lookup_no_oov", "fg.layers.StringLookup(vocabulary=['a'], num_oov_indices=0)(['b'])", "ValueError",
     ["num_oov_indices=0", '"b"']),
    ("integer_lookup_strings", "fg.layers.IntegerLookup(vocabulary=[1, 2])(['x'])", "TypeError",
     ["expects integers"]),
    ("string_input_to_dense", "fg.layers.Dense(2)(fg.Input(shape=(1,), dtype='string'))", "TypeError",
     ["Dense", "cannot take a string input"]),
    ("glove_window", "fg.text.GloVe(window_size=0)", "ValueError", ["window_size", ">= 1"]),
    ("glove_x_max", "fg.text.GloVe(x_max=float('nan'))", "ValueError", ["x_max", "finite"]),
    ("glove_empty_corpus", "fg.text.GloVe().fit([])", "ValueError", ["corpus is empty"]),
    ("glove_min_count", "fg.text.GloVe(min_count=5).fit(['a b a'])", "ValueError", ["min_count=5"]),
    ("glove_numbers", "fg.text.GloVe(min_count=1).fit([1, 2])", "TypeError", ["documents must be strings", "int"]),
    ("glove_one_string", "fg.text.GloVe().fit('not a file')", "TypeError", ["single string that is not a file"]),
    ("glove_fit_first", "fg.text.GloVe().fit()", "ValueError", ["pass a corpus"]),
    ("glove_unknown_word", "g = fg.text.GloVe(min_count=1); g.fit(['a b'], epochs=1); g.most_similar('zz')",
     "KeyError", ["'zz'", "not in the vocabulary"]),
    ("glove_file_malformed", "import tempfile, os; p = os.path.join(tempfile.mkdtemp(), 'v.txt'); "
     "open(p, 'w').write('a 1 2\\nb 1\\n'); fg.text.load_glove(p)", "ValueError",
     ["line 2 has 2 fields", "a word and 2 numbers"]),
    ("glove_file_not_number", "import tempfile, os; p = os.path.join(tempfile.mkdtemp(), 'v.txt'); "
     "open(p, 'w').write('a 1 2\\nb 1 x\\n'); fg.text.load_glove(p)", "ValueError",
     ["line 2, value 2", "not a number"]),
    ("glove_file_missing", "fg.text.load_glove('/nonexistent/glove.txt')", "OSError", ["/nonexistent/glove.txt"]),
    ("linalg_inv_singular", "ops.inv(np.array([[1.0, 2.0], [2.0, 4.0]]))", "ValueError", ["inv", "singular"]),
    ("linalg_inv_not_square", "ops.inv(np.ones((2, 3)))", "ValueError", ["inv", "square", "(2, 3)"]),
    ("linalg_cholesky_not_pd", "ops.cholesky(np.array([[1.0, 2.0], [2.0, 1.0]]))", "ValueError",
     ["cholesky", "not positive definite", "order 2"]),
    ("linalg_solve_shapes", "ops.solve(np.eye(3), np.ones((4, 2)))", "ValueError", ["solve", "(4, 2)", "(3, 3)"]),
    ("linalg_det_vector", "ops.det(np.ones(3))", "ValueError", ["det", "(..., M, N)"]),
    ("linalg_svd_nan", "ops.svd(np.array([[1.0, float('nan')]]))", "ValueError", ["svd", "non-finite"]),
    ("linalg_qr_mode", "ops.qr(np.eye(2), mode='full')", "ValueError", ["mode", "full"]),
    ("linalg_lstsq_rank", "ops.lstsq(np.ones((2, 2, 2)), np.ones(2))", "ValueError", ["lstsq", "2-D"]),
    ("pca_components", "fg.text.WordVectors(['a', 'b'], np.eye(2)).project(n_components=3)", "ValueError",
     ["n_components", "1..=2"]),
]

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import ferrograd as fg
    from ferrograd import ops
    cases = json.loads(sys.stdin.read())
    out = {}
    for cid, code in cases:
        try:
            exec(code, {"fg": fg, "ops": ops, "np": np})
            out[cid] = ["no exception", ""]
        except Exception as e:
            out[cid] = [type(e).__name__, str(e)]
    print("RESULTS" + json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def results():
    payload = json.dumps([(c[0], c[1]) for c in CASES])
    p = subprocess.run([sys.executable, "-c", SCRIPT], input=payload, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, f"the subprocess crashed (exit {p.returncode}):\n{p.stderr[-3000:]}"
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULTS")][-1]
    return json.loads(line[len("RESULTS"):])


@pytest.mark.parametrize("cid,code,exc,fragments", CASES, ids=[c[0] for c in CASES])
def test_clear_error(results, cid, code, exc, fragments):
    got_exc, msg = results[cid]
    assert got_exc == exc, f"{code!r} raised {got_exc}: {msg}"
    for f in fragments:
        assert f in msg, f"{code!r}: message {msg!r} lacks {f!r}"


def test_panic_is_an_exception_not_a_base_exception():
    """An escaped Rust panic is a RuntimeError: `except Exception` catches it and the process lives on."""
    code = textwrap.dedent(
        """
        import ferrograd as fg
        for on_worker in (False, True, False):
            try:
                fg._core._debug_panic(on_worker=on_worker)
            except Exception as e:
                assert type(e) is RuntimeError, type(e)
        # The engine still works after the panics (the team, the allocator, the GIL).
        x = fg.ones((300, 300))
        assert float(fg.ops.sum(x @ x)) == 300.0 ** 3
        print("OK")
        """
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "OK" in p.stdout, p.stderr[-2000:]


def test_every_binding_is_guarded():
    """Each #[pyfunction] and #[pymethods] method wraps its body in errors::guard, so no Rust panic
    reaches Python as PanicException (a BaseException). A new binding without it fails here."""
    import pathlib
    import re

    src = pathlib.Path(__file__).resolve().parent.parent / "src" / "py"
    if not src.is_dir():
        pytest.skip("the Rust sources are not next to the tests")
    missing = []
    for path in sorted(src.glob("*.rs")):
        text = path.read_text()
        starts = [m.end() for m in re.finditer(r"^#\[pyfunction\]", text, re.M)]
        for m in re.finditer(r"^#\[pymethods\]\s*impl\s+\w+\s*\{", text, re.M):
            starts += [m.end() + f.start() for f in re.finditer(r"\n    (?:pub )?fn ", text[m.end():])
                       if not text[m.end():m.end() + f.start()].count("\n}\n")]
        for start in starts:
            fn = re.compile(r"fn\s+(\w+)").search(text, start)
            # A signature holds no braces: the body opens at the first "{" outside parentheses.
            depth, body = 0, fn.end()
            while text[body] != "{" or depth:
                depth += {"(": 1, ")": -1}.get(text[body], 0)
                body += 1
            if not text[body + 1:].lstrip().startswith("guard("):
                missing.append(f"{path.name}: {fn.group(1)}")
    assert not missing, f"bindings without errors::guard: {missing}"
