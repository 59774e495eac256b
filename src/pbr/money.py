"""Money as people read it, from integer pence, without a float on the way."""

from __future__ import annotations


def pounds(pence: int) -> str:
    """`1234567` pence as `£12,345.67`; a negative amount as `-£12.00`."""
    whole, part = divmod(abs(int(pence)), 100)
    return f"{'-' if pence < 0 else ''}£{whole:,}.{part:02d}"
