"""einc — a tensor-expression compiler, from Python (docs/python.md).

    import einc, numpy as np
    p = einc.compile("examples/01_matmul.ein", dims={"M": 64})
    print(p.report())                      # the cost report as a table
    out = p.run(A=a, B=b)                  # {"C": numpy array}
    c = einc.einsum("ij,jk->ik", a, b)     # numpy.einsum's semantics

A thin binding of the C++ embedding API (include/einc/einc.h): the native
module ``einc._einc`` does the work; this package adapts arguments and
results to Python.
"""
from __future__ import annotations

from typing import List

from . import _einc
from ._einsum import einsum, einsum_path
from ._errors import CompileError, Diagnostic, EincWarning, InternalError, RunError
from ._program import Program, compile
from ._report import Report

__version__: str = _einc.version()


def available_backends() -> List[str]:
    """The backends this build can run here ("cpu", "reference", "cuda")."""
    return _einc.available_backends()


def default_backend() -> str:
    """The backend a run uses when none is named: "cpu", or "reference"
    where the build has no JIT."""
    return _einc.default_backend()


__all__ = [
    "CompileError",
    "Diagnostic",
    "EincWarning",
    "InternalError",
    "Program",
    "Report",
    "RunError",
    "available_backends",
    "compile",
    "default_backend",
    "einsum",
    "einsum_path",
]
