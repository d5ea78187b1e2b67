"""einc's exceptions and diagnostics (python/einc/_errors.py).

The native module (python/src/errors.cpp) raises these classes for the C++
API's exceptions, so that they carry Python attributes and docstrings:
einc::CompileError -> CompileError, einc::RunError -> RunError,
einc::InternalError -> InternalError.
"""
from __future__ import annotations

from typing import List, NamedTuple


class Diagnostic(NamedTuple):
    """One diagnostic of the compiler, as einc::Diagnostic."""

    severity: str  #: "error", "warning" or "note"
    file: str
    line: int  #: 1-based; 0 when the diagnostic has no position
    column: int  #: 1-based byte offset; 0 without a position
    message: str
    rendered: str  #: clang-style text with the source line and a caret


class CompileError(ValueError):
    """The script (or einsum subscripts) was rejected.

    ``str(error)`` is the rendered diagnostics (``file:line:col: error: ...``
    with the source line and a caret); ``error.diagnostics`` lists them as
    :class:`Diagnostic`. A ValueError, like numpy.einsum's errors.
    """

    def __init__(self, message: str, diagnostics: List[Diagnostic] = ()):  # type: ignore[assignment]
        super().__init__(message)
        self.diagnostics: List[Diagnostic] = list(diagnostics)


class RunError(RuntimeError):
    """A problem with the data or the execution (a missing input, a wrong
    shape, a backend not available here); the script itself is fine."""


class InternalError(RuntimeError):
    """A bug inside einc (a broken invariant), never bad input: please report it."""


class EincWarning(UserWarning):
    """A compiler warning (issued through the ``warnings`` module)."""
