"""Docutils tables for the book's extensions: a header row and body rows."""

from __future__ import annotations

from docutils import nodes


def row(cells) -> nodes.row:
    """Return a table row; each cell is a string or a list of inline nodes."""
    result = nodes.row()
    for cell in cells:
        paragraph = nodes.paragraph()
        paragraph += nodes.Text(cell) if isinstance(cell, str) else cell
        entry = nodes.entry()
        entry += paragraph
        result += entry
    return result


def table(header, rows, *, widths, classes) -> nodes.table:
    """Return a table with one header row, the body rows and relative widths."""
    if len(header) != len(widths):
        raise ValueError(f"{len(header)} header cells but {len(widths)} widths")
    result = nodes.table(classes=classes)
    group = nodes.tgroup(cols=len(widths))
    result += group
    for width in widths:
        group += nodes.colspec(colwidth=width)
    head, body = nodes.thead(), nodes.tbody()
    group += head
    group += body
    head += row(header)
    for cells in rows:
        body += row(cells)
    return result
