"""Shared fixtures of the Python package's tests (python/tests).

Run by CTest as python.pytest (python/CMakeLists.txt) with PYTHONPATH at the
build's assembled package, EINC_CLI at the einc binary and EINC_SOURCE_DIR
at the repository; by hand:
  PYTHONPATH=build/python EINC_CLI=build/bin/einc /usr/bin/python3 -m pytest python/tests
"""
import os
import pathlib

import pytest

import einc

SOURCE_DIR = pathlib.Path(os.environ.get("EINC_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
EXAMPLES = SOURCE_DIR / "examples"

# The backends every run test covers: the reference interpreter (the oracle)
# and the cpu JIT where this build has it. cuda needs a GPU; it is covered by
# the C++ tests where one is present.
BACKENDS = [b for b in ("reference", "cpu") if b in einc.available_backends()]


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


def cli_path():
    path = os.environ.get("EINC_CLI")
    if path:
        return path
    return str(SOURCE_DIR / "build" / "bin" / "einc")
