"""einc.compile and einc.Program (python/einc/_program.py).

A thin wrapper over the native einc::Program (python/src/program.cpp): it
decides whether ``compile``'s argument is a path or source text, issues the
compiler's warnings through the ``warnings`` module, and turns the run's
arguments into the dict of arrays the native call takes.
"""
from __future__ import annotations

import os
import warnings
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import numpy as np

from . import _einc
from ._arrays import input_array
from ._errors import EincWarning
from ._report import Report, make_report


def _dims(dims: Optional[Mapping[str, int]]) -> Dict[str, int]:
    if dims is None:
        return {}
    if not isinstance(dims, Mapping):
        raise TypeError(f"dims must be a mapping of dim names to ints, not {type(dims).__name__}")
    out = {}
    for name, value in dims.items():
        if not isinstance(name, str):
            raise TypeError(f"dim names must be str, not {type(name).__name__}")
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"dim '{name}' must be an int, not {type(value).__name__}")
        out[name] = int(value)
    return out


def run_options(backend: Optional[str], threads: int) -> Tuple[Optional[str], int]:
    """The checked ``backend=`` and ``threads=`` of a run (einsum's too)."""
    if backend is not None and not isinstance(backend, str):
        raise TypeError(f"backend must be a str, not {type(backend).__name__}")
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)):
        raise TypeError(f"threads must be an int, not {type(threads).__name__}")
    return backend, int(threads)


def _warn(rendered: List[str]) -> None:
    for text in rendered:
        warnings.warn(text.rstrip("\n"), EincWarning, stacklevel=3)


def _is_path(source_or_path: Union[str, "os.PathLike[str]"]) -> bool:
    if isinstance(source_or_path, os.PathLike):
        return True
    text = source_or_path
    return "\n" not in text and (text.endswith(".ein") or os.path.isfile(text))


def compile(  # noqa: A001 (einc.compile, like einc::compile)
    source_or_path: Union[str, "os.PathLike[str]"],
    dims: Optional[Mapping[str, int]] = None,
    *,
    filename: Optional[str] = None,
) -> "Program":
    """Compile a .ein script.

    ``source_or_path`` is a path (an ``os.PathLike``, or a ``str`` without a
    newline that ends in ``.ein`` or names an existing file) or the script's
    text. ``dims`` overrides given dims or binds symbolic ones
    (``{"T": 128}``). ``filename`` names source text in diagnostics and the
    report (default ``"<input>"``). Raises :class:`einc.CompileError` with
    the rendered diagnostics; warnings go through ``warnings.warn`` as
    :class:`einc.EincWarning`.
    """
    bindings = _dims(dims)
    if not isinstance(source_or_path, (str, os.PathLike)):
        raise TypeError(f"compile() takes a str (source or path) or a path, not {type(source_or_path).__name__}")
    if _is_path(source_or_path):
        native, rendered = _einc.compile_file(os.fspath(source_or_path), bindings)
    else:
        native, rendered = _einc.compile(source_or_path, filename or "<input>", bindings)
    _warn(rendered)
    return Program(native)


class Program:
    """A compiled script: immutable, thread-safe, reusable for many runs."""

    __slots__ = ("_native",)

    def __init__(self, native: Any):
        self._native = native

    @property
    def file(self) -> str:
        """The script's file name (or the ``filename`` it was compiled under)."""
        return self._native.file

    @property
    def dims(self) -> Dict[str, Optional[int]]:
        """The dims in declaration order with their values (None: unbound)."""
        return {name: value for name, value, _kind in self._native.dims()}

    @property
    def outputs(self) -> List[str]:
        """The names of the script's outputs."""
        return self._native.outputs()

    @property
    def inputs(self) -> List[Dict[str, Any]]:
        """The tensors a run needs (inputs and params, in declaration order):
        dicts with ``name``, ``role``, ``dtype`` (an einc dtype name),
        ``shape`` (None while a dim is unbound) and ``shape_formula``."""
        return self._native.inputs()

    def bind(self, dims: Optional[Mapping[str, int]] = None, **named: int) -> "Program":
        """A new Program with these dims bound as well (``p.bind(T=128)``)."""
        bindings = _dims(dims)
        bindings.update(_dims(named))
        return Program(self._native.bind(bindings))

    def report(self, repeat: int = 1) -> Report:
        """The cost report as a :class:`einc.Report` (a dict with every field
        of the JSON schema of docs/report.md; prints as einc's table).
        ``repeat`` multiplies the totals (N layers of one block)."""
        if isinstance(repeat, bool) or not isinstance(repeat, (int, np.integer)):
            raise TypeError(f"repeat must be an int, not {type(repeat).__name__}")
        return make_report(self._native, int(repeat))

    def dump_ir(self) -> str:
        """The IR after semantic analysis (sums explicit), as text."""
        return self._native.dump_ir()

    def emit(self, stage: str, arch: str = "") -> str:
        """The program at one stage: "ast", "ir", "plan", "llvm-ir", "asm",
        "cuda" or "ptx" (``einc emit --target``)."""
        return self._native.emit(stage, arch)

    def run(
        self,
        arrays: Optional[Mapping[str, np.ndarray]] = None,
        /,
        *,
        backend: Optional[str] = None,
        threads: int = 0,
        **named: np.ndarray,
    ) -> Dict[str, np.ndarray]:
        """Run the script: ``p.run(A=a, B=b)`` or ``p.run({"A": a, "B": b})``.

        Inputs are numpy arrays of the declared dtype (bf16: uint16 holding
        the bit patterns) with any strides; they are read in place. Symbolic
        dims are bound from the shapes. Returns the outputs by name as numpy
        arrays. ``backend`` is "cpu", "reference" or "cuda" (default: the
        build's fastest); ``threads`` the cpu backend's workers (0: one per
        core). The GIL is released while einc runs; a Ctrl-C during a run
        in the main thread stops it and raises KeyboardInterrupt. Raises
        TypeError for a non-array or a wrong dtype and
        :class:`einc.RunError` for a missing input, a wrong shape or an
        unavailable backend.
        """
        given: Dict[str, Any] = {}
        if arrays is not None:
            if not isinstance(arrays, Mapping):
                raise TypeError(f"run() takes a dict of arrays, not {type(arrays).__name__}")
            given.update(arrays)
        overlap = set(given) & set(named)
        if overlap:
            raise TypeError(f"input {sorted(overlap)[0]!r} given twice")
        given.update(named)
        prepared = {}
        for name, value in given.items():
            if not isinstance(name, str):
                raise TypeError(f"input names must be str, not {type(name).__name__}")
            prepared[name] = input_array(name, value)
        return self._native.run(prepared, *run_options(backend, threads))

    def __repr__(self) -> str:
        return f"<einc.Program {self.file!r} outputs={self.outputs}>"
