"""The report's tables: readable columns that fit the page, the rows that matter first, the rest behind a
toggle."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping

import pandas as pd

Cell = Callable[[object], str]
SHOWN = 12
"""Rows shown before a toggle when a table has no rows that stand out."""
MAX_HIDDEN = 300
"""Rows kept behind a toggle (the full table is in the CSV and JSON beside the report)."""


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    text = str(value)
    return "–" if text.lower() == "nan" else text


def pct(value: object) -> str:
    return "–" if value is None or value != value else f"{float(value):.1%}"  # type: ignore[arg-type]


def signed_pct(value: object) -> str:
    return "–" if value is None or value != value else f"{float(value):+.1%}"  # type: ignore[arg-type]


def number(digits: int) -> Cell:
    def fmt(value: object) -> str:
        return "–" if value is None or value != value else f"{float(value):.{digits}f}"  # type: ignore[arg-type]

    return fmt


def q_value(value: object) -> str:
    return "–" if value is None or value != value else f"{float(value):.2g}"  # type: ignore[arg-type]


def _rows(df: pd.DataFrame, columns: Mapping[str, tuple[str, Cell | None]], strong: pd.Series | None) -> str:
    out = []
    for index, rec in zip(df.index, df.to_dict("records"), strict=True):
        cells = []
        for col, (_, fmt) in columns.items():
            value = rec.get(col)
            cells.append(f"<td>{html.escape(fmt(value) if fmt else _text(value))}</td>")
        cls = ' class="lead"' if strong is not None and bool(strong.loc[index]) else ""
        out.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return "".join(out)


def table(
    df: pd.DataFrame,
    columns: Mapping[str, tuple[str, Cell | None]],
    *,
    table_id: str,
    lead: pd.Series | None = None,
    rest_label: str = "the other rows",
) -> str:
    """An HTML table of `columns` (column -> (heading, formatter)). With `lead` (a boolean per row), the
    leading rows are shown in bold and the others sit behind a toggle; without it, the first SHOWN rows
    are shown and the rest sit behind a toggle."""
    if df.empty:
        return '<p class="muted">(nothing to show)</p>'
    head = "".join(f"<th>{html.escape(title)}</th>" for title, _ in columns.values())
    if lead is not None:
        shown, hidden = df[lead.to_numpy()], df[~lead.to_numpy()]
    else:
        shown, hidden = df.head(SHOWN), df.iloc[SHOWN:]
    body = _rows(shown, columns, lead) or f'<tr><td colspan="{len(columns)}" class="muted">No row stands out.</td></tr>'
    out = f'<div class="table-wrap"><table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    if not hidden.empty:
        kept = hidden.head(MAX_HIDDEN)
        more = f" (the first {MAX_HIDDEN}; all are in the CSV)" if len(hidden) > MAX_HIDDEN else ""
        out += (
            f'<details class="rest"><summary>Show {len(hidden)} {html.escape(rest_label)}{more}</summary>'
            f'<table id="{table_id}-rest"><thead><tr>{head}</tr></thead><tbody>{_rows(kept, columns, lead)}</tbody>'
            "</table></details>"
        )
    return out + "</div>"
