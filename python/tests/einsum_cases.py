"""Generated numpy.einsum cases (python/tests/einsum_cases.py).

Seeded, so every run checks the same cases: one to three operands, ranks 0
to 4, repeated labels (diagonals, traces), both cases of letters, "..." at
any position covering different numbers of dims (right-aligned
broadcasting), extents of 1 broadcast against longer ones, zero-size
extents, implicit and explicit outputs (permuted, partial, empty). The
arrays hold small integers so that every dtype's result is exact, and are
laid out as plain, transposed, strided, negative-stride or broadcast
(stride-0) views.
"""
from __future__ import annotations

import dataclasses
from typing import List

import numpy as np

LABELS = "abcdeAB"


@dataclasses.dataclass
class Case:
    subscripts: str
    shapes: List[tuple]
    layouts: List[str]


def generate(seed: int, count: int) -> List[Case]:
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        cases.append(_case(rng))
    return cases


def _case(rng) -> Case:
    n_ops = int(rng.choice([1, 1, 2, 2, 2, 3]))
    extents = {l: int(rng.choice([1, 2, 3, 4, 5, 0], p=[0.15, 0.25, 0.25, 0.15, 0.15, 0.05])) for l in LABELS}
    use_ellipsis = rng.random() < 0.3
    ellipsis_shape = [int(rng.choice([1, 2, 3])) for _ in range(int(rng.integers(0, 3)))]
    terms, shapes, used = [], [], []
    for _ in range(n_ops):
        rank = int(rng.integers(0, 4))
        pool = list(LABELS[: int(rng.integers(2, len(LABELS) + 1))])
        labels = [str(rng.choice(pool)) for _ in range(rank)]
        broadcast_one = {l: rng.random() < 0.1 for l in labels}
        shape = [1 if broadcast_one[l] else extents[l] for l in labels]
        term = "".join(labels)
        if use_ellipsis and rng.random() < 0.8:
            covered = ellipsis_shape[len(ellipsis_shape) - int(rng.integers(0, len(ellipsis_shape) + 1)):]
            covered = [1 if rng.random() < 0.2 else e for e in covered]
            at = int(rng.integers(0, len(labels) + 1))
            term = "".join(labels[:at]) + "..." + "".join(labels[at:])
            shape = shape[:at] + covered + shape[at:]
        terms.append(term)
        shapes.append(tuple(shape))
        used.extend(labels)
    subscripts = ",".join(terms)
    if rng.random() < 0.6:
        distinct = sorted(set(used))
        rng.shuffle(distinct)
        out = distinct[: int(rng.integers(0, len(distinct) + 1))]
        text = "".join(out)
        if "..." in subscripts:
            at = int(rng.integers(0, len(out) + 1))
            text = "".join(out[:at]) + "..." + "".join(out[at:])
        subscripts += "->" + text
    layouts = [str(rng.choice(["plain", "transposed", "strided", "reversed", "broadcast"])) for _ in shapes]
    return Case(subscripts, shapes, layouts)


def make_operand(rng, shape, dtype, layout) -> np.ndarray:
    """An array of `shape` and `dtype` holding small integers, as `layout`."""
    shape = tuple(shape)

    def values(s):
        return rng.integers(-3, 4, size=s).astype(dtype)

    if layout == "transposed" and len(shape) >= 2:
        return np.ascontiguousarray(values(shape[::-1])).T
    if layout == "strided" and len(shape) >= 1:
        big = values(tuple(2 * e for e in shape))
        return big[tuple(slice(None, None, 2) for _ in shape)]
    if layout == "reversed" and len(shape) >= 1:
        return values(shape)[tuple(slice(None, None, -1) for _ in shape)]
    if layout == "broadcast" and len(shape) >= 1 and shape[0] > 0:
        return np.broadcast_to(values((1,) + shape[1:]), shape)
    return values(shape)
