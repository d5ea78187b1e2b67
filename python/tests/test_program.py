"""einc.compile, Program.report and Program.run (python/tests/test_program.py).

Reports must equal the CLI's (`einc report --format json` parsed by Python's
json; the table as printed); runs must equal numpy on every backend for
every dtype, with strided, negative-stride and broadcast inputs.
"""
import json
import pathlib
import subprocess
import warnings

import numpy as np
import pytest

import einc
from conftest import EXAMPLES, cli_path

MATMUL = """dim M = 4, K = 5, N = 3
input A[M, K]
input B[K, N]
C[i, j] = A[i, k] * B[k, j]
output C
"""

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.ein"))


def cli(*args):
    return subprocess.run([cli_path(), *args], capture_output=True, text=True)


def test_examples_exist():
    assert len(EXAMPLE_FILES) >= 10


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_report_equals_cli_json_and_table(path):
    json_run = cli("report", "--format", "json", str(path))
    table_run = cli("report", str(path))
    if json_run.returncode != 0:
        with pytest.raises(einc.CompileError):
            einc.compile(str(path)).report()
        return
    report = einc.compile(str(path)).report()
    assert isinstance(report, dict)
    assert report == json.loads(json_run.stdout)
    assert str(report) == table_run.stdout
    assert repr(report) == table_run.stdout
    assert report.to_json() == json_run.stdout
    assert "<table>" in report._repr_html_()


def test_report_with_dims_and_repeat_equals_cli():
    path = str(EXAMPLES / "05_transformer_block.ein")
    run = cli("report", "--format", "json", "--dim", "T=64", "--repeat", "3", path)
    assert run.returncode == 0, run.stderr
    report = einc.compile(pathlib.Path(path), dims={"T": 64}).report(repeat=3)
    assert report == json.loads(run.stdout)
    assert report["repeat"] == 3 and report["dims"]["T"] == 64
    for fmt in ["csv", "markdown"]:
        assert report.format(fmt) == cli("report", "--format", fmt, "--dim", "T=64", "--repeat", "3", path).stdout


def test_report_fields_are_the_schema():
    report = einc.compile(MATMUL).report()
    assert set(report) >= {"file", "dims", "tensors", "statements", "repeat", "totals"}
    statement = report["statements"][0]
    for key in ["line", "column", "source", "target", "accumulate", "kind", "shape", "dtype", "outputs",
                "dot_products", "reduction_length", "macs", "naive_macs", "flops", "transcendentals", "bytes",
                "params", "intensity", "formula", "contractions"]:
        assert key in statement
    assert statement["macs"] == 4 * 5 * 3
    assert report["file"] == "<input>"
    assert einc.compile(MATMUL, filename="mm.ein").report()["file"] == "mm.ein"


def test_counts_past_64_bits_stay_exact():
    source = "dim N = 1000000000000\ninput a[N]\ninput b[N]\ns = a[i] * b[i]\noutput s\n"
    report = einc.compile(source).report(repeat=1000000000)
    assert report["totals"]["macs"] == 10**12 * 10**9


def test_program_introspection_and_bind():
    p = einc.compile("dim M, K = 5, N = 3\ninput A[M, K]\ninput B[K, N]\nC[i, j] = A[i, k] * B[k, j]\noutput C\n")
    assert p.dims == {"M": None, "K": 5, "N": 3}
    assert p.outputs == ["C"]
    assert [i["name"] for i in p.inputs] == ["A", "B"]
    assert p.inputs[0]["shape"] is None and p.inputs[1]["shape"] == [5, 3]
    q = p.bind(M=7)
    assert q.dims["M"] == 7 and p.dims["M"] is None
    assert q.report()["statements"][0]["macs"] == 7 * 5 * 3
    assert "sum" in q.dump_ir()
    assert q.emit("ir")
    with pytest.raises(ValueError):
        q.emit("nope")


def test_run_matmul(backend):
    p = einc.compile(MATMUL)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 5)).astype(np.float32)
    b = rng.standard_normal((5, 3)).astype(np.float32)
    out = p.run(A=a, B=b, backend=backend, threads=2)
    assert list(out) == ["C"]
    assert out["C"].dtype == np.float32 and out["C"].flags.c_contiguous
    np.testing.assert_allclose(out["C"], a @ b, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(p.run({"A": a, "B": b}, backend=backend)["C"], out["C"])


@pytest.mark.parametrize("view", ["transposed", "strided", "reversed", "broadcast", "fortran", "readonly"])
def test_run_any_strides(view, backend):
    p = einc.compile(MATMUL)
    rng = np.random.default_rng(1)
    base = rng.standard_normal((4, 5)).astype(np.float32)
    if view == "transposed":
        a = np.ascontiguousarray(base.T).T
    elif view == "strided":
        big = np.zeros((8, 15), np.float32)
        big[::2, ::3] = base
        a = big[::2, ::3]
    elif view == "reversed":
        a = np.ascontiguousarray(base[::-1, ::-1])[::-1, ::-1]
    elif view == "broadcast":
        base = np.broadcast_to(base[:1], (4, 5))
        a = base
    elif view == "fortran":
        a = np.asfortranarray(base)
    else:
        a = base.copy()
        a.setflags(write=False)
    b = rng.standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(p.run(A=a, B=b, backend=backend)["C"], np.asarray(base) @ b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", ["f32", "f64", "f16", "i32"])
def test_run_dtypes(dtype, backend):
    np_dtype = {"f32": np.float32, "f64": np.float64, "f16": np.float16, "i32": np.int32}[dtype]
    source = f"dim M = 3, K = 4\ninput A[M, K] : {dtype}\ninput x[K] : {dtype}\ny[i] = A[i, k] * x[k]\noutput y\n"
    rng = np.random.default_rng(2)
    a = rng.integers(-4, 5, size=(3, 4)).astype(np_dtype)
    x = rng.integers(-4, 5, size=(4,)).astype(np_dtype)
    y = einc.compile(source).run(A=a, x=x, backend=backend)["y"]
    assert y.dtype == np_dtype
    np.testing.assert_array_equal(y, a @ x)


def bf16_bits(values):
    bits = np.asarray(values, np.float32).view(np.uint32)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def bf16_values(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def test_run_bf16_as_uint16(backend):
    source = "dim M = 3, K = 4\ninput A[M, K] : bf16\ninput x[K] : bf16\ny[i] = A[i, k] * x[k]\noutput y\n"
    a = np.arange(12, dtype=np.float32).reshape(3, 4) / 4
    x = np.array([1.0, -2.0, 0.5, 3.0], np.float32)
    y = einc.compile(source).run(A=bf16_bits(a), x=bf16_bits(x), backend=backend)["y"]
    assert y.dtype == np.uint16
    np.testing.assert_array_equal(bf16_values(y), a @ x)  # exact: few bits
    with pytest.raises(TypeError, match="uint16"):
        einc.compile(source).run(A=a, x=x)


QUANTISED_LINEAR = """dim T = 5, D = 40, F = 7
input x[T, D]
input sx
param wq[F, D] : i8
param sw[F], b[F]
xq[t, d] = i8(x[t, d] / sx)
y[t, f] = f32(sum(d: xq[t, d] * wq[f, d])) * sx * sw[f] + b[f]
output xq, y
"""


def test_quantised_linear_layer_matches_numpy(backend):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 40)).astype(np.float32)
    x[0, :4] = [0.01, 0.03, -0.05, np.nan]  # ties at x / sx = 0.5, 1.5, -2.5: to even; NaN: 0
    x[1, :2] = [1e6, -1e6]  # saturated
    sx = np.array(0.02, dtype=np.float32)
    wq = rng.integers(-128, 128, (7, 40)).astype(np.int8)
    sw = (rng.random(7) * 0.01).astype(np.float32)
    b = rng.standard_normal(7).astype(np.float32)
    out = einc.compile(QUANTISED_LINEAR).run(x=x, sx=sx, wq=wq, sw=sw, b=b, backend=backend)
    with np.errstate(invalid="ignore"):
        xq = np.clip(np.nan_to_num(np.rint(x / sx), nan=0.0), -128, 127).astype(np.int8)  # rint: ties to even
    assert out["xq"].dtype == np.int8
    np.testing.assert_array_equal(out["xq"], xq)
    acc = xq.astype(np.int32) @ wq.astype(np.int32).T
    np.testing.assert_allclose(out["y"], acc.astype(np.float32) * sx * sw + b, rtol=1e-5, atol=1e-4)


ZERO_POINTS = """dim T = 6, D = 33, F = 9
input xq[T, D] : i8
input zx : i8
param wq[F, D] : i8
param zw[F] : i8
param sw[F]
y[t, f] = relu(f32(sum(d: (xq[t, d] - zx) * (wq[f, d] - zw[f]))) * sw[f])
output y
"""


def test_zero_points_match_numpy(backend):
    rng = np.random.default_rng(2)
    xq = rng.integers(-128, 128, (6, 33)).astype(np.int8)
    wq = rng.integers(-128, 128, (9, 33)).astype(np.int8)
    zx = np.array(-128, dtype=np.int8)
    zw = rng.integers(-128, 128, 9).astype(np.int8)
    sw = (rng.random(9) * 0.01).astype(np.float32)
    y = einc.compile(ZERO_POINTS).run(xq=xq, zx=zx, wq=wq, zw=zw, sw=sw, backend=backend)["y"]
    acc = (xq.astype(np.int32) - zx) @ (wq.astype(np.int32) - zw[:, None]).T  # exact in int32 here
    np.testing.assert_allclose(y, np.maximum(acc.astype(np.float32) * sw, 0), rtol=1e-6, atol=1e-6)


def test_run_symbolic_dims_bound_from_shapes(backend):
    p = einc.compile("dim M, K, N\ninput A[M, K]\ninput B[K, N]\nC[i, j] = A[i, k] * B[k, j]\noutput C\n")
    for m, k, n in [(2, 3, 4), (0, 3, 2), (5, 0, 1)]:
        a = np.ones((m, k), np.float32)
        b = np.ones((k, n), np.float32)
        np.testing.assert_array_equal(p.run(A=a, B=b, backend=backend)["C"], a @ b)


def test_outputs_own_their_memory():
    p = einc.compile(MATMUL)
    a, b = np.ones((4, 5), np.float32), np.ones((5, 3), np.float32)
    c = p.run(A=a, B=b)["C"]
    del p
    c += 1  # writable, alive after the program is gone
    assert (c == 6).all()


def test_run_errors():
    p = einc.compile(MATMUL)
    a, b = np.ones((4, 5), np.float32), np.ones((5, 3), np.float32)
    with pytest.raises(TypeError, match="declared f32"):
        p.run(A=a.astype(np.float64), B=b)
    with pytest.raises(TypeError, match="numpy.ndarray"):
        p.run(A=a.tolist(), B=b)
    with pytest.raises(TypeError):
        p.run(A=None, B=b)
    with pytest.raises(einc.RunError):
        p.run(A=a)  # B missing
    with pytest.raises(einc.RunError):
        p.run(A=np.ones((4, 6), np.float32), B=b)  # wrong shape
    with pytest.raises(einc.RunError):
        p.run(A=np.ones((4, 5, 1), np.float32), B=b)  # wrong rank
    with pytest.raises(einc.RunError):
        p.run(A=a, B=b, Z=b)  # not an input
    with pytest.raises(ValueError):
        p.run(A=a, B=b, backend="nope")
    with pytest.raises(TypeError):
        p.run({"A": a}, A=a, B=b)
    with pytest.raises(TypeError):
        p.run([a, b])
    if "cuda" not in einc.available_backends():
        with pytest.raises(einc.RunError):
            p.run(A=a, B=b, backend="cuda")


def test_compile_error_has_position_and_caret(tmp_path):
    script = tmp_path / "bad.ein"
    script.write_text("dim M = 4, K = 5\ninput A[M, K]\nC[i] = A[i, k] * Q[k]\noutput C\n")
    with pytest.raises(einc.CompileError) as info:
        einc.compile(script)
    error = info.value
    assert str(error).startswith(f"{script}:3:")
    assert "^" in str(error)
    first = error.diagnostics[0]
    assert isinstance(first, einc.Diagnostic)
    assert (first.severity, first.file, first.line) == ("error", str(script), 3)
    assert first.column > 0 and "Q" in first.message
    assert (error.file, error.line, error.column) == (first.file, first.line, first.column)
    with pytest.raises(einc.CompileError, match="<input>:1:"):
        einc.compile("input A[Q]\n")
    with pytest.raises(einc.CompileError):
        einc.compile(str(tmp_path / "missing.ein"))
    with pytest.raises(TypeError):
        einc.compile(42)
    with pytest.raises(TypeError):
        einc.compile(MATMUL, dims={"M": "four"})


def test_warning_goes_to_warnings_module():
    source = ("dim T = 4, D = 8, F = 16\ninput n[T, D], wg[D, F], wu[D, F]\n"
              "g[t, f] = silu(n[t, d]*wg[d, f]) * (n[t, d]*wu[d, f])\noutput g\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        einc.compile(source)
    assert any(issubclass(w.category, einc.EincWarning) and "silu" in str(w.message) for w in caught)


def test_inputs_are_not_copied_by_python():
    """A strided, negative-stride 16 MB input reaches einc without a numpy
    copy (numpy reports its allocations to tracemalloc)."""
    import tracemalloc

    p = einc.compile("dim N\ninput x[N]\ns = x[i]\noutput s\n")
    big = np.ones(2 * (1 << 22), np.float32)
    x = big[::-2]
    p.run(x=x, backend="reference")  # warm: compiles
    tracemalloc.start()
    try:
        s = p.run(x=x, backend="reference")["s"]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert s == 1 << 22
    assert peak < 1 << 20, f"{peak} bytes allocated while running on a 16 MB view"
    # ... while a big-endian one is copied (einc reads native byte order only).
    swapped = x.astype(">f4")
    tracemalloc.start()
    try:
        p.run(x=swapped, backend="reference")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak >= 16 << 20
