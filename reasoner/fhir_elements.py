"""FHIR JSON elements read one by one, each checked for its JSON type, for reasoner/fhir.py.

Why apart: a Bundle from an export holds lists where objects are expected, numbers where codes are,
partial dates; each such case must end in a message naming the field (`entry[14].code.coding: expected
a list`), never in a traceback. These helpers are where that is checked, once.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from .errors import RecordLoadError, json_kind
from .fhir_codes import AXSPA_SYSTEM, Coding

EXTENSION = "https://w3id.org/axspa-kg/fhir/StructureDefinition/"
DISEASE_STATE = EXTENSION + "disease-state"
TREATMENT_OUTCOME = EXTENSION + "treatment-outcome"
MAXIMAL_DOSE = EXTENSION + "maximal-dose"
EXTENSION_VALUES = {DISEASE_STATE: "valueCode", TREATMENT_OUTCOME: "valueCode", MAXIMAL_DOSE: "valueBoolean"}
AXSPA_MARK = "w3id.org/axspa-kg"  # in a URL: meant as one of ours (http or https, misspelt or not)
_CARRIED_BY = {"Patient": (DISEASE_STATE,), "MedicationStatement": (TREATMENT_OUTCOME, MAXIMAL_DOSE)}

# A FHIR date or dateTime (the date part is what the record keeps).
DATE = re.compile(r"^([0-9]{4})(-([0-9]{2})(-([0-9]{2})(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
                  r"(Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?$")


def as_list(value: object, path: str) -> list[Any]:
    """A FHIR array (absent: empty); anything else is refused, naming the field."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordLoadError(f"{path}: expected a list, got {json_kind(value)}")
    return value


def as_object(value: object, path: str) -> dict[str, Any] | None:
    """A FHIR complex value (absent: None); anything else is refused, naming the field."""
    if value is None or isinstance(value, dict):
        return value
    raise RecordLoadError(f"{path}: expected an object, got {json_kind(value)}")


def as_text(value: object, path: str) -> str | None:
    """A FHIR string or code (absent: None); anything else is refused, naming the field."""
    if value is None or isinstance(value, str):
        return value
    raise RecordLoadError(f"{path}: expected text, got {json_kind(value)}")


def as_bool(value: object, path: str) -> bool | None:
    """A FHIR boolean (absent: None); anything else, "false" written as text too, is refused."""
    if value is None or isinstance(value, bool):
        return value
    raise RecordLoadError(f"{path}: expected true or false, got {json_kind(value)}")


def codeable(value: object, path: str) -> tuple[list[Coding], str | None]:
    """A CodeableConcept's codings and text, every part checked for its JSON type."""
    concept = as_object(value, path)
    if concept is None:
        return [], None
    codings = []
    for number, coding in enumerate(as_list(concept.get("coding"), f"{path}.coding"), start=1):
        where = f"{path}.coding[{number}]"
        item = as_object(coding, where) or {}
        system = as_text(item.get("system"), f"{where}.system")
        if system == AXSPA_SYSTEM + "#":  # the ontology's namespace as written in Turtle
            system = AXSPA_SYSTEM
        codings.append(Coding(system,
                              as_text(item.get("code"), f"{where}.code"),
                              as_text(item.get("display"), f"{where}.display")))
    return codings, as_text(concept.get("text"), f"{path}.text")


def describe(codings: list[Coding], text: str | None) -> str:
    """A CodeableConcept as a person would name it in a message."""
    shown = text or next((c.display for c in codings if c.display), None)
    codes = ", ".join(f"{c.system or '?'}|{c.code or '?'}" for c in codings)
    return f"{shown!r} ({codes})" if shown and codes else repr(shown) if shown else codes or "no code"


def status_code(value: object, path: str, systems: tuple[str, ...], strict: bool = True) -> str | None:
    """A status given as a CodeableConcept (FHIR R4), or as a bare code (STU3 wrote them so). A
    CodeableConcept may carry the status in several codings (an EHR's local code beside HL7's):
    the coding of one of `systems` (R4's first) is read, else one that names no system. A status
    given only in words or in other systems is refused (`strict`), naming the field: read as no
    status, a refuted condition was taken for a present one, and a local code spelt like an HL7 one
    would have been read as it (session-37 FHIR probe F3, F6); else it counts as not given."""
    if isinstance(value, str):
        return value
    codings, text = codeable(value, path)
    for wanted in (*systems, None):
        code = next((c.code for c in codings if c.system == wanted and c.code), None)
        if code:
            return code
    if strict and (codings or text):
        raise RecordLoadError(f"{path}: {describe(codings, text)} gives no code of {systems[0]}; give the status as "
                              "FHIR codes it")
    return None


def record_date(value: object, path: str) -> str | None:
    """A FHIR date or dateTime as the record's YYYY-MM-DD (its date part, as written, whatever the
    time zone); a partial date (1980, 1980-04) cannot be one, so it is refused, naming the field."""
    if value is None:
        return None
    found = DATE.match(value) if isinstance(value, str) else None
    if not found:
        raise RecordLoadError(f"{path}: {value!r} is not a FHIR date")
    if not found.group(5):
        raise RecordLoadError(f"{path}: {value!r} gives no day; the record needs a full date (YYYY-MM-DD)")
    day = value[:10]
    try:
        date.fromisoformat(day)
    except ValueError as exc:
        raise RecordLoadError(f"{path}: {value!r} is not a date of the calendar") from exc
    return day


def age_on(birth_date: object, today: date, path: str) -> int:
    """Whole years on `today`. A birth date without a day counts from the latest day it allows
    (the youngest the patient can be), so that no minor is read as an adult."""
    found = DATE.match(birth_date) if isinstance(birth_date, str) else None
    if not found:
        raise RecordLoadError(f"{path}: {birth_date!r} is not a FHIR date")
    year = int(found.group(1))
    month = int(found.group(3)) if found.group(3) else 12
    if not 1 <= month <= 12:
        raise RecordLoadError(f"{path}: {birth_date!r} is not a date of the calendar")
    day = int(found.group(5)) if found.group(5) else calendar.monthrange(year, month)[1]  # the month's last day
    if found.group(5):
        try:
            date(year, month, day)
        except ValueError as exc:
            raise RecordLoadError(f"{path}: {birth_date!r} is not a date of the calendar") from exc
    if (year, int(found.group(3) or 1), int(found.group(5) or 1)) > (today.year, today.month, today.day):
        raise RecordLoadError(f"{path}: {birth_date!r} is after today")
    if (year, month, day) > (today.year, today.month, today.day):
        return 0  # born this year (or month): the latest day it allows is still to come
    return today.year - year - ((today.month, today.day) < (month, day))


def extension_values(resource: dict[str, Any], url: str, path: str) -> list[Any]:
    """The values of an axspa-kg extension, each checked for the value[x] it must use."""
    wanted = EXTENSION_VALUES[url]
    values = []
    for number, extension in enumerate(as_list(resource.get("extension"), f"{path}.extension"), start=1):
        where = f"{path}.extension[{number}]"
        item = as_object(extension, where) or {}
        given = as_text(item.get("url"), f"{where}.url")  # (a misspelt axspa-kg url: refuse_unreadable)
        if given != url:
            continue
        value = item.get(wanted)
        kind = bool if wanted == "valueBoolean" else str
        if not isinstance(value, kind):
            given = next((k for k in item if k.startswith("value")), None)
            raise RecordLoadError(f"{where}: the {url.rsplit('/', 1)[1]} extension takes a {wanted}"
                                  + (f", not {given}" if given and given != wanted else f", not {json_kind(value)}"))
        values.append(value)
    return values


def notes_of(resource: dict[str, Any], path: str) -> str | None:
    """A resource's Annotation texts (`note[].text`) joined, as the record's note or detail."""
    kept = []
    for number, note in enumerate(as_list(resource.get("note"), f"{path}.note"), start=1):
        text = as_text((as_object(note, f"{path}.note[{number}]") or {}).get("text"), f"{path}.note[{number}].text")
        if text and text.strip():
            kept.append(text.strip())
    return " ".join(kept) or None


def refuse_unreadable(resource: dict[str, Any], path: str, read: bool = True) -> None:
    """A modifierExtension may change what a resource means ("not taken"); FHIR asks a reader that
    does not know it to refuse a resource it reads (`read`), and axspa-kg knows none. An axspa-kg
    extension anywhere but on the resource that carries it (an outcome on a Condition, an order, a
    Medication or inside an element) would be lost, and one misspelt would be ignored: both are
    refused, on any resource."""
    if read and as_list(resource.get("modifierExtension"), f"{path}.modifierExtension"):
        raise RecordLoadError(f"{path}.modifierExtension: axspa-kg does not know what it changes, so the resource "
                              "cannot be read; give the fact it carries another way, or leave the resource out")
    if read:
        one_form_each(resource, path)
    kind = str(resource.get("resourceType"))
    if AXSPA_MARK not in json.dumps(resource):  # (the walk costs ~85 µs a resource; most hold nothing of ours)
        return
    for where, url, own in _axspa_extensions(resource, path, True):
        if url not in EXTENSION_VALUES:
            raise RecordLoadError(f"{where}: {url!r} is no axspa-kg extension (they are "
                                  f"{', '.join(sorted(EXTENSION_VALUES))})")
        owner = next(k for k, urls in _CARRIED_BY.items() if url in urls)
        if not own or url not in _CARRIED_BY.get(kind, ()):
            article = "an" if kind[:1] in "AEIOU" else "a"
            placed = f", not {article} {kind}" if own else " itself, not inside an element or contained resource"
            raise RecordLoadError(f"{where}: the {url.rsplit('/', 1)[1]} extension belongs on a {owner}{placed}; "
                                  "move it there")


# The choice elements (name[x]) of the resources read (and of the orders, administrations and
# dispenses checked for a drug): FHIR allows one form of each.
_CHOICES = ("medication", "effective", "value", "onset", "abatement", "deceased", "reported")


def one_form_each(resource: dict[str, Any], path: str) -> None:
    """A choice element given in two forms is refused: the reader took one and dropped the other
    without a word (session-37 FHIR probe F7: a failed Humira by medicationReference beside a
    naproxen medicationCodeableConcept was read as naproxen, and adalimumab was recommended)."""
    for name in _CHOICES:
        forms = [key for key, value in resource.items()
                 if value is not None and key.startswith(name) and key[len(name):][:1].isupper()]
        if len(forms) > 1:
            raise RecordLoadError(f"{path}.{forms[1]}: {name}[x] is given in two forms ({', '.join(forms)}); a FHIR "
                                  "choice element takes one: keep the one that holds")


def _axspa_extensions(value: object, path: str, own: bool) -> Iterator[tuple[str, str, bool]]:
    """(where, url, whether on the resource itself) for every axspa-kg extension at any depth
    (an extension's url must be text, and extensions a list)."""
    if isinstance(value, list):
        for number, item in enumerate(value, start=1):
            yield from _axspa_extensions(item, f"{path}[{number}]", False)
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        if key in ("extension", "modifierExtension"):
            for number, extension in enumerate(as_list(item, f"{path}.{key}"), start=1):
                where = f"{path}.{key}[{number}]"
                url = as_text(extension.get("url"), f"{where}.url") if isinstance(extension, dict) else None
                if url is not None and AXSPA_MARK in url:
                    yield where, url, own and key == "extension"
                yield from _axspa_extensions(extension, where, False)
        else:
            yield from _axspa_extensions(item, f"{path}.{key}", False)
