"""einc.einsum_path's text, laid out as numpy.einsum_path prints it
(python/einc/_einsum_path.py).

Presentation only: the path, the MACs and the order are einc's report of the
compiled einsum (one contraction; docs/report.md); this file replays the path
over the report's operand strings ("operand0[i, j]") to print each step's
indices the way numpy does (scaling, current, remaining). Counts are einc's
MACs (docs/cost-model.md), not numpy's FLOP estimate.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Sequence, Tuple

_ACCESS = re.compile(r"^operand\d+\[(.*)\]$")


def _indices(operand: str) -> List[str]:
    """The index names of "operand0[i, _0, 0]" (literal subscripts, the
    broadcast reads of an extent of 1, dropped)."""
    match = _ACCESS.match(operand)
    if not match or not match.group(1).strip():
        return []
    return [name.strip() for name in match.group(1).split(",") if not name.strip().isdigit()]


def _term(indices: Sequence[str]) -> str:
    return "".join(indices)


def _extents(terms: Sequence[List[str]], shapes: Sequence[Tuple[int, ...]]) -> Dict[str, int]:
    extents: Dict[str, int] = {}
    for names, shape in zip(terms, shapes):
        if len(names) != len(shape):
            continue  # a broadcast read: the index's extent comes from another operand
        for name, extent in zip(names, shape):
            if extents.get(name, 1) == 1:
                extents[name] = extent
    return extents


def _size(indices: Sequence[str], extents: Dict[str, int]) -> int:
    size = 1
    for name in set(indices):
        size *= extents.get(name, 1)
    return size


def _loop_count(subscripts: str, shapes: Sequence[Tuple[int, ...]]) -> int:
    """numpy's "naive scaling": the distinct labels plus the broadcast dims."""
    terms = subscripts.split("->")[0].split(",")
    labels = {c for c in subscripts.split("->")[0] if c.isalpha()}
    broadcast = [len(shape) - sum(c.isalpha() for c in term) for term, shape in zip(terms, shapes) if "..." in term]
    return len(labels) + max(broadcast, default=0)


def render(subscripts: str, shapes: Sequence[Tuple[int, ...]], statement: Dict[str, Any],
           path: Sequence[Tuple[int, ...]]) -> str:
    contractions = statement.get("contractions", [])
    contraction = contractions[0] if contractions else None
    terms = [_indices(op) for op in contraction["operands"]] if contraction else []
    summed = set(contraction["summed"]) if contraction else set()
    output: List[str] = []
    for names in terms:
        output += [n for n in names if n not in summed and n not in output]
    extents = _extents(terms, shapes)

    rows, scalings, largest = [], [], 0
    current = [list(t) for t in terms]
    for step in path if contraction else []:
        picked = [current[i] for i in step]
        rest = [t for k, t in enumerate(current) if k not in step]
        needed = set(output) | {n for t in rest for n in t}
        union = []
        for names in picked:
            union += [n for n in names if n not in union]
        result = [n for n in union if n in needed]
        scalings.append(len(union))
        largest = max(largest, _size(result, extents))
        current = rest + [result]
        remaining = ",".join(_term(t) for t in current) + "->" + _term(output)
        rows.append(f"{len(union):>4}    {','.join(_term(t) for t in picked) + '->' + _term(result):>24}"
                    f"    {remaining:>37}")
    naive, chosen = statement["naive_macs"], statement["macs"]
    naive_scaling = _loop_count(subscripts, shapes)
    lines = [
        f"  Complete contraction:  {subscripts}",
        f"         Naive scaling:  {naive_scaling}",
        f"     Optimized scaling:  {max(scalings) if scalings else naive_scaling}",
        f"       Naive MAC count:  {naive:.3e}",
        f"   Optimized MAC count:  {chosen:.3e}",
        f"   Theoretical speedup:  {naive / chosen if chosen else 1.0:.3f}",
        f"  Largest intermediate:  {float(largest or statement['outputs']):.3e} elements",
    ]
    if contraction:
        lines.append(f"            einc order:  {contraction['order']}")
    else:
        rows = [f"{'':>4}    {subscripts:>24}    {'(no contraction: one elementwise step)':>37}"]
    lines += ["-" * 74, f"{'scaling':<25}{'current':<39}{'remaining':>10}", "-" * 74]
    return "\n".join(lines + rows)
