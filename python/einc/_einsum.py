"""einc.einsum and einc.einsum_path (python/einc/_einsum.py).

numpy.einsum's semantics live in the C++ (frontend/einsum_subscripts.cpp
parses the subscripts rule for rule as numpy does, ir/lower_einsum.cpp binds
labels and broadcasts extents of 1); this file only does what numpy does
before its C core: turn the operands into arrays, promote them to one dtype
(numpy.result_type), translate the interleaved form
``einsum(a, [0, 1], b, [1, 2])`` into a subscripts string. Plain arrays of
one dtype skip all that and go straight to the native einsum
(python/src/einsum.cpp); einc keeps the compiled program per subscripts,
dtypes and shapes (einc::compile_einsum).
"""
from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple

import numpy as np

from . import _einc
from ._arrays import viewable
from ._einsum_path import render
from ._program import run_options
from ._report import make_report

# numpy dtype -> the einc dtype einsum computes in. int8 products and sums
# are i32 in einc (docs/language.md); the result is cast back to int8, which
# wraps exactly as numpy's int8 arithmetic does (both are modular).
_EINC_DTYPES = {
    np.dtype(np.float32): "f32",
    np.dtype(np.float64): "f64",
    np.dtype(np.float16): "f16",
    np.dtype(np.int32): "i32",
    np.dtype(np.int8): "i8",
}

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _sublist_text(sublist: Any) -> str:
    text = ""
    for item in sublist:
        if item is Ellipsis:
            text += "..."
            continue
        if isinstance(item, bool) or not isinstance(item, (int, np.integer)) or not 0 <= item < 52:
            raise ValueError("subscript is not within the valid range [0, 52)")
        text += _LETTERS[int(item)]
    return text


def _interleaved(args: Sequence[Any]) -> Tuple[str, List[Any]]:
    """numpy's einsum(op0, sublist0, op1, sublist1, ..., [sublistout])."""
    operands = list(args[0::2])
    sublists = list(args[1::2])
    output = None
    if len(args) % 2 == 1:
        output = operands.pop()  # the trailing output sublist
    subscripts = ",".join(_sublist_text(s) for s in sublists)
    if output is not None:
        subscripts += "->" + _sublist_text(output)
    return subscripts, operands


def _prepare(subscripts: Any, operands: Sequence[Any]) -> Tuple[str, List[np.ndarray], np.dtype]:
    if not isinstance(subscripts, str):
        subscripts, operands = _interleaved((subscripts,) + tuple(operands))
    if not operands:
        raise ValueError("No input operands")
    arrays = [np.asarray(op) for op in operands]
    try:
        common = np.result_type(*arrays)
    except TypeError as e:
        raise TypeError(f"einc.einsum: the operands have no common dtype ({e})") from None
    if common not in _EINC_DTYPES:
        raise TypeError(
            f"einc.einsum: dtype {common} is not supported (einc computes in float32, float64, float16, "
            f"int32 and int8); cast the operands first, e.g. x.astype(numpy.int32)"
        )
    arrays = [viewable(a.astype(common, copy=False)) for a in arrays]
    return subscripts, arrays, common


def _compiled(subscripts: str, arrays: Sequence[np.ndarray], common: np.dtype) -> Any:
    """The program einsum runs (einc keeps it per subscripts, dtypes and shapes)."""
    dtype = _EINC_DTYPES[common]
    return _einc.compile_einsum(subscripts, [(dtype, list(a.shape)) for a in arrays])


def einsum(subscripts: Any, *operands: Any, backend: Optional[str] = None, threads: int = 0,
           optimize: Any = None) -> Any:
    """numpy.einsum, computed by einc.

    The same subscripts (implicit output, ``...``, repeated labels, both
    cases of letters, numpy's broadcasting of extents of 1), the interleaved
    form, numpy's dtype promotion, the same errors (a ValueError —
    :class:`einc.CompileError` — for what numpy rejects), and the result
    dtype and shape of numpy.einsum (a 0-d result is a numpy scalar).
    Operands are read in place with any strides. Supported dtypes: float32,
    float64, float16, int32 and int8 (a TypeError for others, e.g. int64:
    cast first). ``backend``: "cpu" (default where built), "reference" or
    "cuda"; ``threads``: cpu workers (0: one per core). ``optimize`` is
    accepted for numpy compatibility and ignored: einc always picks the
    pairwise order of least cost. Compiled programs are cached per
    subscripts, dtypes and shapes. As in Program.run, the GIL is released
    and a Ctrl-C stops the computation (KeyboardInterrupt).
    """
    if backend is not None or type(threads) is not int or threads:
        backend, threads = run_options(backend, threads)
    # Plain arrays of one dtype go to einc as they are; anything else is
    # converted as numpy would first.
    result = _einc.einsum(subscripts, operands, backend, threads) if type(subscripts) is str else None
    if result is None:
        text, arrays, _ = _prepare(subscripts, operands)
        result = _einc.einsum(text, arrays, backend, threads)
        if result is None:
            raise AssertionError("einc internal error: einsum refused the operands it had converted")
    return result[()] if result.ndim == 0 else result


def einsum_path(subscripts: Any, *operands: Any, optimize: Any = "greedy") -> Tuple[List[Any], str]:
    """numpy.einsum_path for einc's plan: ``(path, text)``.

    ``path`` is ``["einsum_path", (i, j), ...]`` in numpy's (opt_einsum's)
    convention — each pair names two entries of the current operand list,
    which are removed and their product appended — as einc's cost model
    chose it (docs/cost-model.md). ``text`` is laid out as numpy prints it
    (scaling, each step's current and remaining terms) with einc's MACs in
    place of numpy's FLOP estimate. ``optimize`` is ignored.
    """
    text, arrays, common = _prepare(subscripts, operands)
    report = make_report(_compiled(text, arrays, common), 1)
    statement = report["statements"][-1]
    contractions = statement.get("contractions", [])
    path = [tuple(step) for step in contractions[0]["path"]] if contractions else []
    if not path:
        path = [tuple(range(len(arrays)))]  # one step over every operand (numpy's form too)
    return ["einsum_path"] + path, render(text, [a.shape for a in arrays], statement, path)
