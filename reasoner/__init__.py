"""axspa-kg reasoner: load the knowledge base, validate patient records, classify, apply the
guideline rules and explain the advice.

    >>> import reasoner
    >>> result = reasoner.recommend("examples/case2-multiple-failures.json")
    >>> result.to_json()  # the documented JSON contract
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import AxspaError, InvalidRecordError, RecordLoadError
from .version import __version__

if TYPE_CHECKING:
    from .pipeline import Reasoner
    from .report import Result

# the errors a caller catches: `recommend(strict=True)` raises InvalidRecordError, a record that
# cannot be read RecordLoadError; both are AxspaError (session-33 docs probe F6: the README named
# InvalidRecordError, which was only reasoner.errors.InvalidRecordError)
__all__ = ["AxspaError", "InvalidRecordError", "Reasoner", "RecordLoadError", "Result", "__version__", "recommend"]


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
