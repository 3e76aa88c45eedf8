"""axspa-kg reasoner: load the knowledge base, validate patient records, classify, apply the
guideline rules and explain the advice.

    >>> import reasoner
    >>> result = reasoner.recommend("examples/case2-multiple-failures.json")
    >>> result.to_json()  # the documented JSON contract
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .version import __version__

if TYPE_CHECKING:
    from .pipeline import Reasoner
    from .report import Result

__all__ = ["Reasoner", "Result", "__version__", "recommend"]


def recommend(record: Any, *, guideline: str = "all", store: str = "oxigraph") -> Result:
    """Advice for one patient record: a file path, an rdflib Graph or a dict (plain JSON record)."""
    from .pipeline import recommend as _recommend

    return _recommend(record, guideline=guideline, store=store)


def __getattr__(name: str) -> Any:
    if name == "Reasoner":
        from .pipeline import Reasoner

        return Reasoner
    if name == "Result":
        from .report import Result

        return Result
    raise AttributeError(name)
