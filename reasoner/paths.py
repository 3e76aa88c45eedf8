"""Where the data folders (ontology/, shapes/, queries/) are.

They stay top-level folders of the repository, as data; an installed wheel carries a copy under
reasoner/_data/. Looking in the package first and the checkout second lets both work unchanged.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the folder `name` ("ontology", "shapes" or "queries"), installed or in a checkout."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"data folder {name!r} not found next to the reasoner package")


def ontology_root() -> Path:
    """The root ontology file that imports every module."""
    return data_dir("ontology") / "axspa.ttl"
