"""keras.ops.linalg: values against NumPy (and PyTorch for lu_factor) on awkward shapes and
batches, finite-difference gradients of every differentiable op, thread independence, errors,
and symbolic use in a functional model."""
import numpy as np
import pytest
from conftest import gradcheck

import ferrograd as fg
from ferrograd import ops

RNG = np.random.default_rng(0)
SQUARE = [(1, 1), (3, 3), (17, 17), (2, 3, 5, 5), (60, 60)]
RECT = [(1, 1), (5, 3), (3, 5), (2, 7, 4), (2, 4, 7), (17, 17)]


def _spd(shape, rng=RNG):
    x = rng.normal(size=shape)
    n = shape[-1]
    return x @ np.swapaxes(x, -1, -2) + n * np.eye(n)


@pytest.mark.parametrize("shape", SQUARE, ids=str)
@pytest.mark.parametrize("dtype,tol", [("float64", 1e-9), ("float32", 2e-4)])
def test_square_ops_equal_numpy(shape, dtype, tol):
    a = RNG.normal(size=shape).astype(dtype)
    ref = a.astype(np.float64)
    got = ops.inv(a)
    assert got.dtype == dtype
    np.testing.assert_allclose(got.numpy(), np.linalg.inv(ref), rtol=tol * 10, atol=tol * 10)
    with np.errstate(over="ignore"):  # a 60x60 determinant overflows float32 (-inf, as NumPy gives)
        np.testing.assert_allclose(ops.det(a).numpy(), np.linalg.det(ref).astype(dtype), rtol=tol, atol=tol)
    sign, logabs = ops.slogdet(a)
    s2, l2 = np.linalg.slogdet(ref)
    np.testing.assert_array_equal(sign.numpy(), s2)
    np.testing.assert_allclose(logabs.numpy(), l2, rtol=tol, atol=tol)
    b = RNG.normal(size=shape[:-1] + (2,)).astype(dtype)
    np.testing.assert_allclose(ops.solve(a, b).numpy(), np.linalg.solve(ref, b.astype(np.float64)),
                               rtol=tol * 10, atol=tol * 10)
    spd = _spd(shape).astype(dtype)
    np.testing.assert_allclose(ops.cholesky(spd).numpy(), np.linalg.cholesky(spd.astype(np.float64)), rtol=tol,
                               atol=tol)
    np.testing.assert_allclose(ops.cholesky(spd, upper=True).numpy(),
                               np.swapaxes(np.linalg.cholesky(spd.astype(np.float64)), -1, -2), rtol=tol, atol=tol)
    np.testing.assert_allclose(ops.cholesky_inverse(ops.cholesky(spd)).numpy(), np.linalg.inv(spd.astype(np.float64)),
                               rtol=tol * 10, atol=tol * 10)
    np.testing.assert_allclose(ops.cholesky_inverse(ops.cholesky(spd, upper=True), upper=True).numpy(),
                               np.linalg.inv(spd.astype(np.float64)), rtol=tol * 10, atol=tol * 10)
    sym = (a + np.swapaxes(a, -1, -2)).astype(np.float64)
    w, v = ops.eigh(sym.astype(dtype))
    w2, v2 = np.linalg.eigh(sym)
    np.testing.assert_allclose(w.numpy(), w2, rtol=tol * 10, atol=tol * 10)
    # eigenvectors up to sign: compare the reconstruction and the orthonormality
    vn = v.numpy().astype(np.float64)
    np.testing.assert_allclose(vn @ (w.numpy()[..., None] * np.swapaxes(vn, -1, -2)), sym, rtol=tol * 50,
                               atol=tol * 50)


def test_eigh_reads_the_lower_triangle_and_solve_triangular_one_triangle():
    a = RNG.normal(size=(4, 4))
    lower = np.tril(a) + np.tril(a, -1).T
    np.testing.assert_allclose(ops.eigh(a)[0].numpy(), np.linalg.eigh(lower)[0], atol=1e-12)
    b = RNG.normal(size=(4, 3))
    t = np.tril(a) + 4 * np.eye(4)
    np.testing.assert_allclose(ops.solve_triangular(t + np.triu(RNG.normal(size=(4, 4)), 1), b, lower=True).numpy(),
                               np.linalg.solve(t, b), atol=1e-12)
    u = np.triu(a) + 4 * np.eye(4)
    np.testing.assert_allclose(ops.solve_triangular(u, b[:, 0]).numpy(), np.linalg.solve(u, b[:, 0]), atol=1e-12)


@pytest.mark.parametrize("shape", RECT, ids=str)
def test_svd_qr_pinv_lstsq_rank_equal_numpy(shape):
    a = RNG.normal(size=shape)
    for full in (True, False):
        u, s, vh = ops.svd(a, full_matrices=full)
        u2, s2, vh2 = np.linalg.svd(a, full_matrices=full)
        assert u.shape == u2.shape and s.shape == s2.shape and vh.shape == vh2.shape
        np.testing.assert_allclose(s.numpy(), s2, atol=1e-10)
        k = s2.shape[-1]
        rec = (u.numpy()[..., :, :k] * s.numpy()[..., None, :]) @ vh.numpy()[..., :k, :]
        np.testing.assert_allclose(rec, a, atol=1e-10)
        eye = np.eye(u2.shape[-1])
        np.testing.assert_allclose(np.swapaxes(u.numpy(), -1, -2) @ u.numpy(), np.broadcast_to(eye, u2.shape[:-2] +
                                                                                                eye.shape), atol=1e-10)
    np.testing.assert_allclose(ops.svd(a, compute_uv=False).numpy(), np.linalg.svd(a, compute_uv=False), atol=1e-10)
    for mode in ("reduced", "complete"):
        q, r = ops.qr(a, mode=mode)
        q2, r2 = np.linalg.qr(a, mode=mode)
        np.testing.assert_allclose(q.numpy(), q2, atol=1e-10)  # LAPACK's Householder signs
        np.testing.assert_allclose(r.numpy(), r2, atol=1e-10)
    if a.ndim == 2:
        np.testing.assert_allclose(ops.linalg.pinv(a).numpy(), np.linalg.pinv(a), atol=1e-10)
        b = RNG.normal(size=(shape[0], 2))
        np.testing.assert_allclose(ops.lstsq(a, b).numpy(), np.linalg.lstsq(a, b, rcond=None)[0], atol=1e-9)
        np.testing.assert_allclose(ops.lstsq(a, b[:, 0]).numpy(), np.linalg.lstsq(a, b[:, 0], rcond=None)[0],
                                   atol=1e-9)
    low = a[..., :, :1] * np.ones(shape[-1])  # rank 1
    assert ops.matrix_rank(low).numpy().tolist() == np.linalg.matrix_rank(low).tolist()
    assert ops.matrix_rank(a).dtype == "int32"


def test_lu_factor_equals_torch():
    torch = pytest.importorskip("torch")
    for shape in [(1, 1), (4, 4), (3, 6, 6)]:
        a = RNG.normal(size=shape)
        lu, piv = ops.lu_factor(a)
        lu2, piv2 = torch.linalg.lu_factor(torch.tensor(a))
        np.testing.assert_allclose(lu.numpy(), lu2.numpy(), atol=1e-12)
        assert piv.dtype == "int32"
        np.testing.assert_array_equal(piv.numpy(), piv2.numpy() - 1)  # 0-based, as Keras returns them


def test_singular_and_degenerate_values():
    z = np.array([[1.0, 2.0], [2.0, 4.0]])
    assert ops.det(z).numpy() == 0.0
    sign, logabs = ops.slogdet(z)
    assert sign.numpy() == 0.0 and logabs.numpy() == -np.inf
    assert ops.logdet(np.diag([2.0, 3.0])).numpy() == pytest.approx(np.log(6.0))
    assert np.isnan(ops.logdet(np.diag([-2.0, 3.0])).numpy())
    assert ops.inv(np.ones((3, 0, 0))).shape == (3, 0, 0)
    assert ops.det(np.ones((2, 0, 0))).numpy().tolist() == [1.0, 1.0]
    ints = ops.inv(np.array([[2, 0], [0, 4]]))
    assert ints.dtype == "float32" and ints.numpy().tolist() == [[0.5, 0], [0, 0.25]]


def test_threads_do_not_change_results():
    a = RNG.normal(size=(8, 9, 9))
    before = fg.get_num_threads()
    try:
        fg.set_num_threads(1)
        one = [ops.inv(a).numpy(), ops.svd(a)[1].numpy(), ops.eigh(a + np.swapaxes(a, 1, 2))[1].numpy()]
        fg.set_num_threads(2)
        two = [ops.inv(a).numpy(), ops.svd(a)[1].numpy(), ops.eigh(a + np.swapaxes(a, 1, 2))[1].numpy()]
    finally:
        fg.set_num_threads(before)
    for x, y in zip(one, two):
        np.testing.assert_array_equal(x, y)


# ---- gradients ---------------------------------------------------------------------------------
def test_grad_inv_det_slogdet():
    a = RNG.normal(size=(2, 3, 3)) + 3 * np.eye(3)
    gradcheck(ops.inv, a)
    gradcheck(ops.det, a)
    gradcheck(lambda x: ops.slogdet(x)[1], a)
    gradcheck(lambda x: ops.logdet(x), _spd((3, 3)))


def test_grad_solve_and_solve_triangular():
    a = RNG.normal(size=(2, 3, 3)) + 3 * np.eye(3)
    gradcheck(ops.solve, a, RNG.normal(size=(2, 3, 2)))
    gradcheck(ops.solve, a[0], RNG.normal(size=(3,)))
    gradcheck(ops.solve, a, RNG.normal(size=(3, 2)))  # b broadcast over the batch
    gradcheck(lambda x, b: ops.solve_triangular(x, b, lower=True), a, RNG.normal(size=(2, 3, 2)))
    gradcheck(lambda x, b: ops.solve_triangular(x, b), a[0], RNG.normal(size=(3,)))


def test_grad_cholesky_and_eigh_through_symmetric_inputs():
    x = RNG.normal(size=(2, 3, 3))

    def chol(x, upper=False):
        a = ops.matmul(x, ops.swapaxes(x, -1, -2)) + 3.0 * ops.eye(3, dtype="float64")
        return ops.cholesky(a, upper=upper)

    gradcheck(chol, x)
    gradcheck(lambda x: chol(x, upper=True), x)
    gradcheck(lambda x: ops.cholesky_inverse(chol(x)), x)

    def eig_parts(x):
        w, v = ops.eigh(x + ops.swapaxes(x, -1, -2))
        return ops.concatenate([w, ops.reshape(v * v, (2, 9))], axis=-1)  # v * v: sign-free

    gradcheck(eig_parts, x)


def test_grad_svd_and_qr():
    for shape in [(4, 3), (3, 4), (3, 3)]:
        a = RNG.normal(size=shape)

        def svd_parts(x):
            u, s, vh = ops.svd(x, full_matrices=False)
            return ops.concatenate([s, ops.reshape(u * u, (-1,)), ops.reshape(vh * vh, (-1,))], axis=0)

        gradcheck(svd_parts, a, atol=1e-5, rtol=1e-4)
        gradcheck(lambda x: ops.svd(x, compute_uv=False), a)
        gradcheck(lambda x: ops.linalg.pinv(x), a, atol=1e-5, rtol=1e-4)
    a = RNG.normal(size=(2, 5, 3))
    gradcheck(lambda x: ops.concatenate([ops.reshape(q, (2, -1)) for q in ops.qr(x)], axis=-1), a)


def test_gradient_errors_name_the_case():
    x = fg.tensor(RNG.normal(size=(4, 3)), requires_grad=True)
    u, s, vh = ops.svd(x)  # full_matrices=True
    with pytest.raises(Exception, match="full_matrices=False"):
        ops.sum(u).backward()
    q, r = ops.qr(fg.tensor(RNG.normal(size=(3, 4)), requires_grad=True))
    with pytest.raises(Exception, match="M >= N"):
        ops.sum(q).backward()


# ---- errors and symbolic use ---------------------------------------------------------------------
def test_errors():
    with pytest.raises(ValueError, match="singular"):
        ops.inv(np.array([[1.0, 2.0], [2.0, 4.0]]))
    with pytest.raises(ValueError, match=r"singular \(matrix 1 of the batch\)"):
        ops.solve(np.stack([np.eye(2), np.zeros((2, 2))]), np.ones((2, 2)))
    with pytest.raises(ValueError, match="not positive definite"):
        ops.cholesky(np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="square"):
        ops.inv(np.ones((2, 3)))
    with pytest.raises(ValueError, match="matrix or a batch"):
        ops.det(np.ones(3))
    with pytest.raises(ValueError, match="non-finite"):
        ops.svd(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="does not match"):
        ops.solve(np.eye(3), np.ones((4, 2)))
    with pytest.raises(ValueError, match="zero on its diagonal"):
        ops.solve_triangular(np.zeros((2, 2)), np.ones(2))
    with pytest.raises(ValueError, match="mode"):
        ops.qr(np.eye(2), mode="r")
    with pytest.raises(AttributeError, match="complex"):
        ops.linalg.eig  # noqa: B018
    with pytest.raises(AttributeError, match="forward-mode"):
        ops.linalg.jvp  # noqa: B018


def test_symbolic_functional_model(tmp_path):
    inp = fg.Input(shape=(3, 3), dtype="float64")
    w, v = ops.eigh(inp + ops.swapaxes(inp, -1, -2))
    inv = ops.linalg.inv(inp + 3.0 * ops.eye(3, dtype="float64"))
    assert w.shape == (None, 3) and v.shape == (None, 3, 3) and inv.shape == (None, 3, 3)
    u, s, vh = ops.svd(inp, full_matrices=False)
    model = fg.Model(inp, [w, inv, s, ops.det(inp)])
    x = RNG.normal(size=(2, 3, 3))
    outs = model.predict(x, verbose=0)  # predict feeds float32, as Keras casts float64 data to floatx
    np.testing.assert_allclose(outs[0], np.linalg.eigh(x + np.swapaxes(x, 1, 2))[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(outs[1], np.linalg.inv(x + 3 * np.eye(3)), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(outs[3], np.linalg.det(x), rtol=1e-5, atol=1e-5)
    path = tmp_path / "m.keras"
    model.save(path)
    again = fg.models.load_model(path).predict(x, verbose=0)
    for a, b in zip(outs, again):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("ord_", [2, -2, "nuc"])
def test_spectral_and_nuclear_norms_match_numpy(ord_):
    x = np.random.default_rng(3).normal(size=(2, 3, 4, 5))
    for axis in [(2, 3), (1, 3), (3, 0)]:
        for keepdims in (False, True):
            got = ops.norm(x, ord=ord_, axis=axis, keepdims=keepdims).numpy()
            want = np.linalg.norm(x, ord=ord_, axis=axis, keepdims=keepdims)
            assert got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=1e-12)
    assert ops.norm(np.ones((3, 3), np.float32), ord=2).dtype == "float32"
    gradcheck(lambda t: ops.norm(t, ord=ord_), np.random.default_rng(4).normal(size=(3, 4)))


def test_lu_factor_of_empty_matrices():
    # found by the API fuzzer: a 0 x 0 matrix made a chunk size of 0 (an internal panic)
    lu, piv = ops.lu_factor(np.zeros((0, 0), "float32"))
    assert tuple(lu.shape) == (0, 0) and tuple(piv.shape) == (0,)
    lu, piv = ops.lu_factor(np.zeros((3, 0, 0), "float32"))
    assert tuple(lu.shape) == (3, 0, 0) and tuple(piv.shape) == (3, 0)
