"""einc's exceptions and diagnostics (python/einc/_errors.py).

The native module (python/src/errors.cpp) raises these classes for the C++
API's exceptions, so that they carry Python attributes and docstrings:
einc::CompileError -> CompileError, einc::RunError -> RunError,
einc::InternalError -> InternalError.
"""
from __future__ import annotations

from typing import List, NamedTuple, Optional


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
    :class:`Diagnostic`; ``file``, ``line`` and ``column`` are those of the
    first error. A ValueError, like numpy.einsum's errors.
    """

    def __init__(self, message: str, diagnostics: List[Diagnostic] = ()):  # type: ignore[assignment]
        super().__init__(message)
        self.diagnostics: List[Diagnostic] = list(diagnostics)

    def _first_error(self) -> Optional[Diagnostic]:
        return next((d for d in self.diagnostics if d.severity == "error"), None)

    @property
    def file(self) -> Optional[str]:
        """The file of the first error (None without diagnostics)."""
        first = self._first_error()
        return first.file if first else None

    @property
    def line(self) -> int:
        """The 1-based line of the first error (0: no position)."""
        first = self._first_error()
        return first.line if first else 0

    @property
    def column(self) -> int:
        """The 1-based column of the first error (0: no position)."""
        first = self._first_error()
        return first.column if first else 0


class RunError(RuntimeError):
    """A problem with the data or the execution (a missing input, a wrong
    shape, a backend not available here); the script itself is fine."""


class InternalError(RuntimeError):
    """A bug inside einc (a broken invariant), never bad input: please report it."""


class EincWarning(UserWarning):
    """A compiler warning (issued through the ``warnings`` module)."""
