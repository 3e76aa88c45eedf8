"""Read SPARQL files from queries/ together with the header comments that document them.

A query file opens with `# Key: value` comment lines (Question, Inputs, Output, Recommendation,
Depends ...). The text stays in the file; this module only reads it, so the same file runs unchanged
on every engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .paths import data_dir

_HEADER = re.compile(r"^#\s*([A-Za-z][\w -]*):\s*(.*)$")


@dataclass(frozen=True)
class QueryFile:
    """One .rq file: its name, its text and its header fields (keys lower-cased)."""

    name: str
    path: Path
    text: str
    header: dict[str, str] = field(default_factory=dict)

    def field_list(self, key: str) -> list[str]:
        """A comma- or space-separated header field as a list (empty if absent)."""
        raw = self.header.get(key.lower(), "")
        return [item for item in re.split(r"[,\s]+", raw) if item]


def read_query(path: Path) -> QueryFile:
    text = path.read_text(encoding="utf-8")
    header: dict[str, str] = {}
    last: str | None = None
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        match = _HEADER.match(line)
        if match:
            last = match.group(1).strip().lower()
            header[last] = match.group(2).strip()
        elif last and line[1:].strip():
            header[last] += " " + line[1:].strip()
    return QueryFile(path.stem, path, text, header)


def query_folder(name: str) -> list[QueryFile]:
    """Every .rq file under queries/<name>/, sorted by file name."""
    folder = data_dir("queries") / name
    return [read_query(p) for p in sorted(folder.glob("*.rq"))]
