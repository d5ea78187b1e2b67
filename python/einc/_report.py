"""The cost report as Python data (python/einc/_report.py).

A :class:`Report` is a ``dict`` holding exactly the JSON report
(docs/report.md; ``einc report --format json`` prints the same), parsed with
Python's ``json`` so that counts past 64 bits stay exact ints. It renders as
einc's own table in a terminal and as an HTML table in Jupyter; the numbers
are never recomputed here.
"""
from __future__ import annotations

import html
import json
from typing import Any, Callable, Dict


class Report(dict):
    """The report of :meth:`einc.Program.report`: a dict with every field of
    the JSON schema (``file``, ``dims``, ``tensors``, ``statements``,
    ``repeat``, ``totals``), printed as einc's table."""

    def __init__(self, data: Dict[str, Any], formatter: Callable[[str], str]):
        super().__init__(data)
        self._formatter = formatter

    def format(self, fmt: str = "table") -> str:
        """The report as einc formats it: "table", "json", "csv" or "markdown"."""
        return self._formatter(fmt)

    def to_json(self) -> str:
        """The JSON text, as ``einc report --format json`` prints it."""
        return self._formatter("json")

    def __str__(self) -> str:
        return self._formatter("table")

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return render_html(self)


_STATEMENT_COLUMNS = ["line", "target", "kind", "shape", "dtype", "macs", "flops", "transcendentals", "bytes", "intensity"]
_TOTAL_COLUMNS = ["outputs", "macs", "naive_macs", "flops", "transcendentals", "bytes", "params", "intensity"]


def _cell(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _row(cells, tag="td") -> str:
    return "<tr>" + "".join(f"<{tag}>{html.escape(_cell(c))}</{tag}>" for c in cells) + "</tr>"


def render_html(report: Dict[str, Any]) -> str:
    """An HTML view of the report: dims, one row per statement, the totals
    with their formulas."""
    dims = ", ".join(f"{k}={v}" for k, v in report.get("dims", {}).items())
    parts = [f"<div><b>{html.escape(str(report.get('file', '')))}</b> ({html.escape(dims)})"]
    parts.append("<table><thead>" + _row(_STATEMENT_COLUMNS + ["source"], "th") + "</thead><tbody>")
    for statement in report.get("statements", []):
        parts.append(_row([statement.get(c, "") for c in _STATEMENT_COLUMNS] + [statement.get("source", "")]))
    parts.append("</tbody></table>")
    totals = report.get("totals", {})
    formulas = totals.get("formula", {})
    parts.append(f"<table><thead>{_row(['total (repeat ' + str(report.get('repeat', 1)) + ')', 'value', 'formula'], 'th')}</thead><tbody>")
    for column in _TOTAL_COLUMNS:
        if column in totals:
            parts.append(_row([column, totals[column], formulas.get(column, "")]))
    parts.append("</tbody></table></div>")
    return "".join(parts)


def make_report(native_program: Any, repeat: int) -> Report:
    def formatter(fmt: str) -> str:
        return native_program.report_text(fmt, repeat)

    return Report(json.loads(formatter("json")), formatter)
