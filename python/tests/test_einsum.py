"""einc.einsum against numpy.einsum (python/tests/test_einsum.py).

The differential test runs 300 generated cases (einsum_cases.py) in float32,
float64, float16 and int32 on every backend and requires numpy's result:
same dtype, same shape, same values (exact: the data are small integers;
float16 within its rounding where sums pass 2048), a numpy scalar where
numpy returns one. A case numpy 1.24 rejects must be rejected by einc with a
ValueError too. numpy 1.24 predates numpy gh-30349 (summing away the
ellipsis dims by an explicit output without "...", "i...->i"): einc, like
numpy 1.24, rejects that, and the tests compare only against what numpy 1.24
accepts or rejects.
"""
import numpy as np
import pytest

import einc
from einsum_cases import generate, make_operand

CASES = generate(seed=17, count=300)
DTYPES = [np.float32, np.float64, np.float16, np.int32]


def check_equal(got, expected, dtype):
    assert isinstance(got, np.generic) == isinstance(expected, np.generic)
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.dtype == expected.dtype
    assert got.shape == expected.shape
    if dtype == np.float16:
        np.testing.assert_allclose(got.astype(np.float64), expected.astype(np.float64), rtol=2e-3, atol=0)
    else:
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("index", range(len(CASES)), ids=lambda i: f"{i}:{CASES[i].subscripts}")
def test_generated_case_matches_numpy(index, backend):
    case = CASES[index]
    dtype = DTYPES[index % len(DTYPES)]
    rng = np.random.default_rng(index)
    operands = [make_operand(rng, s, dtype, layout) for s, layout in zip(case.shapes, case.layouts)]
    try:
        expected = np.einsum(case.subscripts, *operands)
    except ValueError:
        with pytest.raises(ValueError):
            einc.einsum(case.subscripts, *operands, backend=backend)
        return
    got = einc.einsum(case.subscripts, *operands, backend=backend)
    check_equal(got, expected, dtype)


@pytest.mark.parametrize("index", range(0, len(CASES), 2))
def test_generated_case_with_a_changed_extent_behaves_like_numpy(index):
    """One extent of the case grown by one (a mismatch where the label is
    shared, a new extent where it is not): numpy's accepting or rejecting
    is einc's too, and an accepted case gives numpy's result."""
    case = CASES[index]
    shapes = [list(s) for s in case.shapes]
    grown = [(k, d) for k, s in enumerate(shapes) for d in range(len(s))]
    if not grown:
        pytest.skip("no dimension to change")
    k, d = grown[index % len(grown)]
    shapes[k][d] += 1
    rng = np.random.default_rng(index)
    operands = [make_operand(rng, s, np.float64, "plain") for s in shapes]
    try:
        expected = np.einsum(case.subscripts, *operands)
    except ValueError:
        with pytest.raises(einc.CompileError):
            einc.einsum(case.subscripts, *operands, backend="reference")
        return
    check_equal(einc.einsum(case.subscripts, *operands, backend="reference"), expected, np.float64)


def test_generated_cases_cover_the_features():
    """The generator reaches every feature the differential test claims."""
    texts = [c.subscripts for c in CASES]
    assert sum("..." in t for t in texts) >= 30
    assert sum("->" not in t for t in texts) >= 60
    assert sum(any(0 in s for s in c.shapes) for c in CASES) >= 10
    assert sum(any(any(t.count(l) > 1 for l in set(t) - {".", ","}) for t in c.subscripts.split("->")[0].split(","))
               for c in CASES) >= 30
    assert sum(len(c.shapes) == 3 for c in CASES) >= 30
    for layout in ["plain", "transposed", "strided", "reversed", "broadcast"]:
        assert sum(layout in c.layouts for c in CASES) >= 30


# Named forms: numpy's documentation examples and the corner cases.
NAMED = [
    ("ii", [(4, 4)]),
    ("ii->i", [(4, 4)]),
    ("ij->ji", [(2, 3)]),
    ("ij", [(2, 3)]),
    ("ji", [(2, 3)]),
    ("i,i", [(5,), (5,)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (3, 4)]),
    ("...ii->...i", [(3, 4, 4)]),
    ("i...->...", [(4, 3, 2)]),
    ("ijk,ijk->", [(2, 3, 4), (2, 3, 4)]),
    ("bij,bjk->bik", [(1, 2, 3), (5, 3, 4)]),
    ("ij,ij->ij", [(1, 3), (4, 1)]),
    ("Ab,bA", [(2, 3), (3, 2)]),
    (" i j , j k -> i k ", [(2, 3), (3, 4)]),
    ("i,i->", [(0,), (0,)]),
    ("ij,jk->ik", [(2, 0), (0, 3)]),
    (",ij->ij", [(), (2, 3)]),
    ("->", [()]),
    ("ii->", [(1, 1)]),
]


@pytest.mark.parametrize("subscripts,shapes", NAMED, ids=[n for n, _ in NAMED])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int32])
def test_named_form_matches_numpy(subscripts, shapes, dtype, backend):
    rng = np.random.default_rng(1)
    operands = [rng.integers(-3, 4, size=s).astype(dtype) for s in shapes]
    check_equal(einc.einsum(subscripts, *operands, backend=backend), np.einsum(subscripts, *operands), dtype)


def test_float_values_within_rounding(backend):
    rng = np.random.default_rng(5)
    for dtype, rtol in [(np.float32, 1e-5), (np.float64, 1e-12)]:
        a = rng.standard_normal((17, 33)).astype(dtype)
        b = rng.standard_normal((33, 9)).astype(dtype)
        got = einc.einsum("ij,jk->ik", a, b, backend=backend)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, np.einsum("ij,jk->ik", a, b), rtol=rtol, atol=rtol * 10)


def test_dtype_promotion_as_numpy():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.arange(3, dtype=np.float64)
    c = np.arange(3, dtype=np.int32)
    for ops in [(a, b), (a, c), (a.astype(np.float16), b.astype(np.float32)), (a, 2.0)]:
        spec = "ij,j->i" if np.ndim(ops[1]) else "ij,->ij"
        check_equal(einc.einsum(spec, *ops), np.einsum(spec, *ops), None)


def test_int8_wraps_like_numpy():
    a = np.full((3, 40), 7, dtype=np.int8)
    b = np.full((40,), 9, dtype=np.int8)
    check_equal(einc.einsum("ij,j->i", a, b), np.einsum("ij,j->i", a, b), np.int8)


def test_array_likes_and_interleaved_form():
    check_equal(einc.einsum("i,i", [1.0, 2.0], [3.0, 4.0]), np.einsum("i,i", [1.0, 2.0], [3.0, 4.0]), None)
    a = np.arange(6.0).reshape(2, 3)
    b = np.arange(12.0).reshape(3, 4)
    check_equal(einc.einsum(a, [0, 1], b, [1, 2], [0, 2]), np.einsum(a, [0, 1], b, [1, 2], [0, 2]), None)
    check_equal(einc.einsum(a, [Ellipsis, 1], [Ellipsis]), np.einsum(a, [Ellipsis, 1], [Ellipsis]), None)


def test_big_endian_and_misaligned_operands():
    a = np.arange(12, dtype=">f8").reshape(3, 4)
    raw = np.zeros(4 * 12 + 1, dtype=np.uint8)[1:].view(np.float32).reshape(3, 4)  # misaligned
    raw[...] = np.arange(12).reshape(3, 4)
    check_equal(einc.einsum("ij->j", a), np.einsum("ij->j", a), None)
    check_equal(einc.einsum("ij,ij->i", raw, raw), np.einsum("ij,ij->i", raw, raw), None)


BAD_SUBSCRIPTS = [
    ("ij,jk->ik", 1),      # fewer operands than terms
    ("i", 2),              # more operands than terms
    ("i-j", 1),
    ("i>j", 1),
    ("i.j", 1),
    ("ii->ii", 1),
    ("ij->k", 1),
    ("i1", 1),
    ("ijk", 1),            # too many subscripts for a 2-d operand
    ("i", 1),              # too few, no ellipsis
    ("i->i->i", 1),
    ('i"', 1),
    ("i\n", 1),
    ("......", 1),
]


@pytest.mark.parametrize("subscripts,count", BAD_SUBSCRIPTS)
def test_bad_subscripts_rejected_like_numpy(subscripts, count):
    operands = [np.ones((2, 2))] * count
    with pytest.raises(ValueError):
        np.einsum(subscripts, *operands)
    with pytest.raises(einc.CompileError) as info:
        einc.einsum(subscripts, *operands)
    assert isinstance(info.value, ValueError)
    assert "einstein sum" in str(info.value) or "einsum" in str(info.value)


@pytest.mark.parametrize("subscripts,shapes", [
    ("ij,jk->ik", [(2, 3), (4, 5)]),
    ("ii", [(2, 3)]),
    ("...i,...i", [(2, 3), (4, 3)]),
    ("i,i", [(2,), (0,)]),
])
def test_wrong_shapes_rejected_like_numpy(subscripts, shapes):
    operands = [np.ones(s) for s in shapes]
    with pytest.raises(ValueError):
        np.einsum(subscripts, *operands)
    with pytest.raises(einc.CompileError):
        einc.einsum(subscripts, *operands)


@pytest.mark.parametrize("operand", [
    np.ones(3, dtype=np.int64), np.ones(3, dtype=bool), np.ones(3, dtype=np.complex64),
    np.ones(3, dtype=np.uint16), np.array(["a", "b", "c"]), None, {"a": 1},
])
def test_unsupported_dtypes_and_non_arrays_raise_type_error(operand):
    with pytest.raises(TypeError):
        einc.einsum("i->", operand)


def test_no_operands_and_bad_options():
    with pytest.raises(ValueError):
        einc.einsum("i")
    with pytest.raises(ValueError):
        einc.einsum("i", np.ones(2), backend="nope")
    with pytest.raises(TypeError):
        einc.einsum("i", np.ones(2), backend=3)
    with pytest.raises(ValueError):
        einc.einsum("i", np.ones(2), threads=-1)
    with pytest.raises(TypeError):
        einc.einsum("i", np.ones(2), threads=1.5)
    with pytest.raises(TypeError):
        einc.einsum("i", np.ones(2), out=np.ones(2))  # not supported (docs/python.md)


def test_einsum_path():
    a, b, c = np.ones((10, 20)), np.ones((20, 30)), np.ones((30, 2))
    path, text = einc.einsum_path("ij,jk,kl->il", a, b, c)
    assert path[0] == "einsum_path"
    assert len(path) == 3 and all(len(step) == 2 for step in path[1:])
    # Contracting (b, c) first is cheaper: 20*30*2 + 10*20*2 MACs.
    assert path[1] == (1, 2)
    lines = text.splitlines()
    assert lines[0] == "  Complete contraction:  ij,jk,kl->il"
    assert "Naive scaling:  4" in text and "Optimized scaling:  3" in text
    assert "Optimized MAC count:  1.600e+03" in text  # 20*30*2 + 10*20*2, einc's report
    assert "Naive MAC count:  1.200e+04" in text
    assert "Largest intermediate:  4.000e+01 elements" in text  # jl: 20*2
    assert lines[-2].split() == ["3", "jk,kl->jl", "ij,jl->il"]
    assert lines[-1].split() == ["3", "ij,jl->il", "il->il"]
    # numpy agrees on the path here.
    assert path == np.einsum_path("ij,jk,kl->il", a, b, c, optimize="greedy")[0]
    assert einc.einsum_path("ij->ji", a)[0] == ["einsum_path", (0,)]
    assert "Naive scaling:  2" in einc.einsum_path("ij->ji", a)[1]
    for spec, ops in [("i,i", [np.ones(3)] * 2), ("...ij,...jk", [np.ones((2, 3, 4)), np.ones((4, 5))]),
                      ("ij,jk,l->ikl", [np.ones((2, 3)), np.ones((3, 4)), np.ones(5)])]:
        assert einc.einsum_path(spec, *ops)[0] == np.einsum_path(spec, *ops, optimize="greedy")[0]
