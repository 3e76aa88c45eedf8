"""The day the advice is for.

Four rules and three record shapes read "today" through SPARQL's NOW(): an NSAID course still
taken counts up to today, a biologic stopped less than six months ago is named beside AS-23, a
course stopped inside its label's period after the last dose is named on the label item, and
dates after today or before birth are warned about. Stores answer NOW() each in their own way
(Oxigraph in UTC, Virtuoso in the server's local time with no zone), so one batch could be read
on two different days. The pipeline therefore runs those texts with the run's date written in
place of NOW(): the UTC date of the call, or the date given as `as_of` (a record advised again
later, as of the day it was first advised, gets the same answer). The query files keep NOW(), so
they still run as they are in any SPARQL 1.1 store."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import lru_cache

NOW_CALL = re.compile(r"\bNOW\s*\(\s*\)", re.IGNORECASE)


def run_date(as_of: date | None = None) -> date:
    """`as_of`, or the date in UTC now."""
    return as_of if as_of is not None else datetime.now(UTC).date()


@lru_cache(maxsize=512)  # the same texts on every call: the warm path searches each once
def reads_today(text: str) -> bool:
    return NOW_CALL.search(text) is not None


@lru_cache(maxsize=512)
def pinned(text: str, day: date) -> str:
    """The query text with each NOW() replaced by midnight UTC of `day` (an xsd:dateTime, as NOW()
    returns): what the queries take from it, its first ten characters, is the date."""
    literal = f'"{day.isoformat()}T00:00:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime>'
    return NOW_CALL.sub(lambda _match: literal, text)
