"""Long lists as pages: a search over the columns a list names and one page of rows, with the counts, the same
for every list (families, the dashboard's rows, a claim's lines). Done on the server: a page of 2,000 families
is never sent whole."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import polars as pl
from fastapi import Request

PER_PAGE = 50


@dataclass(frozen=True)
class Listing:
    rows: list[dict]
    total: int  # rows the search finds
    everything: int  # rows before the search
    page: int
    pages: int
    query: str
    links: dict  # "previous" / "next": the address of that page, keeping every other parameter

    @property
    def first(self) -> int:
        return 0 if not self.total else (self.page - 1) * PER_PAGE + 1

    @property
    def last(self) -> int:
        return min(self.page * PER_PAGE, self.total)


def listing(request: Request, frame: pl.DataFrame, searched: list[str], parameter: str = "page") -> Listing:
    """The page `request` asks for (`?page=N`, `?q=TEXT`) of `frame`, searched in the columns `searched` (any
    containing the text, whatever its case)."""
    query = (request.query_params.get("q") or "").strip()
    found = frame
    if query and searched:
        needle = query.lower()
        found = frame.filter(
            pl.any_horizontal(
                pl.col(c).cast(pl.String).fill_null("").str.to_lowercase().str.contains(needle, literal=True)
                for c in searched
                if c in frame.columns
            )
        )
    pages = max(1, -(-found.height // PER_PAGE))
    try:
        page = min(max(1, int(request.query_params.get(parameter) or 1)), pages)
    except ValueError:
        page = 1
    kept = {k: v for k, v in request.query_params.items() if k != parameter}

    def address(n: int) -> str:
        return f"{request.url.path}?{urlencode({**kept, parameter: n})}"

    links = {"previous": address(page - 1) if page > 1 else None, "next": address(page + 1) if page < pages else None}
    rows = found.slice((page - 1) * PER_PAGE, PER_PAGE).to_dicts()
    return Listing(rows, found.height, frame.height, page, pages, query, links)
