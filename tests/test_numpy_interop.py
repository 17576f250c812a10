"""Arrays of every layout become tensors holding the same values (copies where they cannot be shared)."""
import numpy as np
import pytest

import ferrograd as fg


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.bool_])
def test_any_layout_keeps_its_values(dtype):
    base = (np.arange(60).reshape(3, 4, 5) % 7).astype(dtype)
    views = {
        "transposed": base.T,
        "fortran": np.asfortranarray(base),
        "permuted": base.transpose(1, 0, 2),
        "strided": base[:, ::2, 1::2],
        "negative": base[::-1, :, ::-1],
        "broadcast": np.broadcast_to(base[:1], (3, 4, 5)),
        "column": base[:, 0, :].T,
        "scalar": base[1, 2, 3],
    }
    for name, v in views.items():
        for make in (fg.tensor, fg.from_numpy, fg.as_tensor):
            if make is fg.from_numpy and not isinstance(v, np.ndarray):
                with pytest.raises(TypeError, match="ndarray"):  # as torch.from_numpy
                    make(v)
                continue
            t = make(v)
            np.testing.assert_array_equal(t.numpy(), np.asarray(v), err_msg=f"{name} via {make.__name__}")
            assert t.shape == np.shape(v)


def test_converted_dtype_keeps_the_layout():
    a = np.arange(6, dtype=np.float64).reshape(2, 3).T
    np.testing.assert_array_equal(fg.from_numpy(a, "float32").numpy(), a.astype(np.float32))
