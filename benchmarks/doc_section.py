"""Write a benchmark's result into docs/benchmarks.md between its markers (shared by the
benchmark scripts; run them as ``python benchmarks/NAME.py``, so this module is importable)."""

from __future__ import annotations

from pathlib import Path


def write_section(path, name: str, text: str) -> None:
    """Replace the text between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` of ``path``
    with ``text`` (append the block when the markers are missing; a new file starts with a title)."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{text}\n{end}"
    path = Path(path)
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if begin in old and end in old:
        new = old[:old.index(begin)] + block + old[old.index(end) + len(end):]
    else:
        new = old.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(new, encoding="utf-8")
