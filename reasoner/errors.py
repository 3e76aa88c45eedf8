"""Typed errors, each mapped to one of the documented exit codes.

0: advice given; 1: the record failed validation (a report is printed); 2: usage or load error.
Bad input must end in one of these with a message naming the problem, never in a traceback.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


class AxspaError(Exception):
    """Base class: every error the reasoner raises on purpose."""

    exit_code = EXIT_USAGE


class KnowledgeBaseError(AxspaError):
    """The knowledge base (ontology, shapes, queries) could not be loaded or is inconsistent."""


class RecordLoadError(AxspaError):
    """A patient record could not be read or parsed (wrong format, bad syntax, missing file)."""


def json_kind(value: object) -> str:
    """What a JSON value is, in JSON's words ("null", not Python's "NoneType"), for the messages that
    refuse a field of the wrong type (plain records and FHIR Bundles alike)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return {int: "a number", float: "a number", str: "text", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__)


class RuleLoadError(AxspaError):
    """The rule files cannot be ordered: a dependency cycle, or negation over the same stratum."""


class InvalidRecordError(AxspaError):
    """A record failed validation; carries the report so callers can show it."""

    exit_code = EXIT_INVALID

    def __init__(self, message: str, report: object | None = None) -> None:
        super().__init__(message)
        self.report = report
