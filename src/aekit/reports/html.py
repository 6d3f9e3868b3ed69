"""Self-contained HTML pages (the run report, the sweep page): images inlined as data URIs,
styles inline, no script and nothing fetched, so the file opens the same offline and anywhere.

Every piece returns a string of HTML; text is escaped here, so callers pass plain values.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.6em 0; }
th, td { padding: 0.25em 0.8em; border-bottom: 1px solid #eee; text-align: left; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
figure { display: inline-block; margin: 0.6em 1.2em 0.6em 0; vertical-align: top; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #555; }
p.note { color: #555; }
"""


def text(value: object) -> str:
    """``value`` as escaped HTML text."""
    return html.escape(str(value))


def paragraph(value: object, *, note: bool = False) -> str:
    return f"<p{' class=note' if note else ''}>{text(value)}</p>"


def image(png: bytes, caption: str) -> str:
    """A PNG inlined as a data URI, with its caption (also the alt text)."""
    encoded = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{encoded}" alt="{text(caption)}">'
        f"<figcaption>{text(caption)}</figcaption></figure>"
    )


def table(header: Sequence[str], rows: Iterable[Sequence[object]], *, css_id: str = "") -> str:
    """Rows of plain values; numbers are right-aligned and keep their full repr in ``data-value``
    (so a reader, or a test, can recover the exact value behind a rounded cell)."""
    head = "".join(f"<th>{text(name)}</th>" for name in header)
    body = "".join("<tr>" + "".join(_cell(value) for value in row) + "</tr>" for row in rows)
    attribute = f' id="{text(css_id)}"' if css_id else ""
    return f"<table{attribute}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def section(title: str, *parts: str) -> str:
    return f"<section><h2>{text(title)}</h2>{''.join(parts)}</section>"


def page(title: str, *parts: str) -> str:
    """A whole document."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{text(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{text(title)}</h1>{''.join(parts)}</body></html>\n"
    )


def _cell(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return f"<td>{text('' if value is None else value)}</td>"
    if isinstance(value, int):
        return f'<td class="number">{value}</td>'
    if isinstance(value, float):
        return f'<td class="number" data-value="{value!r}">{value:.6g}</td>'
    return f"<td>{text(value)}</td>"
