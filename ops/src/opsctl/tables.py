"""Tables that fit the terminal: a row never wraps and a name is never cut.

Each column says what it holds (:class:`Kind`), which decides what may give way when the
console is narrow (80 columns is the width to design for):

* ``NAME``: identifiers a person copies (deployment ids, revisions, targets, alarm names):
  never shortened, never wrapped.
* ``VALUE``: short values (states, counts, times, reason codes): never shortened.
* ``DIGEST``: an image digest, already shortened to ``sha256:<8 hex>…``; may lose more of its
  tail (down to ``sha256:0a…``), since the full digest is in ``--output json``.
* ``PROSE``: free text (a target's health description, an alarm's reason): cut with ``…``
  to the room left, or left out when less than :data:`PROSE_MIN` columns remain.
* ``TEXT``: lines of text a person must read whole (a change and its details): wrapped at
  spaces inside the room left (at least :data:`TEXT_MIN` columns), never cut.

Optional columns (``drop`` > 0) are left out, lowest ``drop`` first, when the table does not
fit; JSON and markdown always carry everything.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

GAP = 2
"""Columns between two cells (rich's padding of one on each side)."""
PROSE_MIN = 16
DIGEST_MIN = 10
TEXT_MIN = 30


class Kind(Enum):
    NAME = "name"
    VALUE = "value"
    DIGEST = "digest"
    PROSE = "prose"
    TEXT = "text"


_GIVING = (Kind.PROSE, Kind.DIGEST, Kind.TEXT)


@dataclass(frozen=True)
class Col:
    header: str
    kind: Kind = Kind.VALUE
    drop: int = 0
    """0: always shown; otherwise left out when the table does not fit, lowest first."""
    justify: str = "left"


def short_digest(digest: str | None) -> str:
    """``sha256:0a6f9247…``: enough to tell images apart in a table."""
    if not digest:
        return "-"
    algorithm, _, value = digest.partition(":")
    return f"{algorithm}:{value[:8]}…" if len(value) > 8 else digest


def _width(cell: str) -> int:
    return max((Text.from_markup(line).cell_len for line in cell.split("\n")), default=0)


def fit(
    columns: Sequence[Col],
    rows: Sequence[Sequence[str]],
    width: int,
    *,
    title: str | None = None,
) -> Table:
    """A rich table of ``rows`` (cells in rich markup) laid out to fit ``width`` columns."""
    natural = [
        max([_width(c.header), *(_width(row[i]) for row in rows)]) for i, c in enumerate(columns)
    ]
    shown = list(range(len(columns)))

    def total(indices: list[int], widths: dict[int, int]) -> int:
        return sum(widths[i] for i in indices) + GAP * (len(indices) - 1)

    widths = dict(enumerate(natural))
    droppable = sorted((c.drop, i) for i, c in enumerate(columns) if c.drop > 0)
    while total(shown, widths) > width and droppable:
        shown.remove(droppable.pop(0)[1])
    # What still does not fit comes out of the columns that may give way: text (wrapped),
    # prose (cut), then digests.
    for kind, least in ((Kind.TEXT, TEXT_MIN), (Kind.PROSE, PROSE_MIN), (Kind.DIGEST, DIGEST_MIN)):
        for i in [i for i in shown if columns[i].kind is kind]:
            excess = total(shown, widths) - width
            if excess <= 0:
                break
            room = widths[i] - excess
            if room >= least:
                widths[i] = room
            elif kind is Kind.TEXT:
                widths[i] = min(widths[i], least)
            elif kind is Kind.PROSE and len(shown) > 1:
                shown.remove(i)  # a few letters of prose say nothing
            else:
                widths[i] = min(widths[i], least)
    table = Table(
        *(
            Column(
                columns[i].header,
                justify=columns[i].justify,  # type: ignore[arg-type]
                no_wrap=columns[i].kind is not Kind.TEXT,
                overflow="ellipsis" if columns[i].kind in (Kind.PROSE, Kind.DIGEST) else "fold",
                width=widths[i] if columns[i].kind in _GIVING else None,
                min_width=natural[i] if columns[i].kind in (Kind.NAME, Kind.VALUE) else None,
            )
            for i in shown
        ),
        title=title,
        title_justify="left",
        box=None,
        padding=(0, GAP // 2),
        pad_edge=False,
        show_edge=False,
        header_style="bold",
    )
    for row in rows:
        table.add_row(*(row[i] for i in shown))
    return table


def print_table(console: Console, table: Table, needed: int | None = None) -> None:
    """Print ``table``; when its names alone are wider than the console, print it at its own
    width (the terminal wraps those lines) rather than let rich cut a name."""
    if needed is None or needed <= console.width:
        console.print(table)
        return
    wide = Console(
        file=io.StringIO(), width=needed, highlight=False, color_system=None, soft_wrap=True
    )
    wide.print(table)
    for line in wide.file.getvalue().splitlines():  # type: ignore[attr-defined]
        console.print(Text(line), soft_wrap=True)


def required_width(columns: Sequence[Col], rows: Sequence[Sequence[str]]) -> int:
    """The width the table needs once everything that may give way has: its names and values."""
    keep = [
        i
        for i, c in enumerate(columns)
        if c.drop == 0 and c.kind in (Kind.NAME, Kind.VALUE, Kind.DIGEST, Kind.TEXT)
    ]
    widths = []
    least = {Kind.DIGEST: DIGEST_MIN, Kind.TEXT: TEXT_MIN}
    for i in keep:
        natural = max([_width(columns[i].header), *(_width(row[i]) for row in rows)])
        widths.append(min(natural, least.get(columns[i].kind, natural)))
    return sum(widths) + GAP * (len(widths) - 1)


def render(
    console: Console,
    columns: Sequence[Col],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None = None,
) -> None:
    """Lay ``rows`` out for the console's width and print them (see :func:`fit`)."""
    needed = required_width(columns, rows)
    table = fit(columns, rows, max(console.width, needed), title=title)
    print_table(console, table, needed)
