"""Getting caller arrays ready for the native module (python/einc/_arrays.py).

einc reads numpy memory in place (zero-copy) with any strides, negative ones
included. Only what einc cannot view is copied here: a non-native byte
order, misaligned data, or strides that are not whole elements. The dtype
check against the script's declaration is the native module's
(python/src/arrays.cpp).
"""
from __future__ import annotations

from typing import Any

import numpy as np


def viewable(array: np.ndarray) -> np.ndarray:
    """The array itself when einc can read it in place, else a C-ordered copy.
    numpy's ``aligned`` flag says that the data pointer and every stride are
    multiples of the dtype's alignment, which is its size for every dtype
    einc reads (another dtype is refused by the native module anyway)."""
    if array.dtype.isnative and array.flags.aligned:
        return array
    return np.array(array, dtype=array.dtype.newbyteorder("="), order="C", copy=True)


def input_array(name: str, value: Any) -> np.ndarray:
    """A program input: must be a numpy array (no implicit conversion, so a
    wrong dtype or a list is an error rather than a silent copy)."""
    if not isinstance(value, np.ndarray):
        raise TypeError(
            f"input '{name}' must be a numpy.ndarray, not {type(value).__name__} "
            f"(use numpy.asarray(..., dtype=...))"
        )
    return viewable(value)
