"""What pbr prints on a terminal: the consoles, and the tables the CLI and the demo both show."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console(stderr=True, soft_wrap=True)  # messages: a message is one line, whatever the width
out = Console(width=None if Console().is_terminal else 140)  # results


def print_file_table(files, title: str, to: Console = out) -> None:
    """Per file: rows read, loaded, unchanged and quarantined, or why it was rejected whole."""
    table = Table(title=escape(title), title_justify="left")
    for column in ("file", "table", "read", "loaded", "unchanged", "quarantined", "note"):
        table.add_column(
            column, justify="right" if column in ("read", "loaded", "unchanged", "quarantined") else "left"
        )
    for f in files:
        if f.rejected:
            table.add_row(
                escape(f.source), f.table, str(f.rows_read), "-", "-", "-", f"[red]rejected: {escape(f.rejected)}[/]"
            )
        else:
            note = f"retired {f.retired} records no longer in this complete extract" if f.retired else ""
            table.add_row(
                escape(f.source), f.table, str(f.rows_read), str(f.loaded), str(f.unchanged), str(f.quarantined), note
            )
    to.print(table)
