"""A FHIR Bulk Data manifest (the completed export's list of its files), checked against the files
given: an export its manifest shows to be partial stops every patient (reasoner/fhir_bulk.py).

Why: without the manifest nothing tells a whole export from one missing a file, cut short, or
asked for part of each record, and a patient whose failed biologic was in the missing part would
be advised as if naive. What the manifest can show, it is made to show; what it cannot (a page of
a paged manifest saved under another name than its link gives, a request made by POST, whose
parameters the manifest does not keep) is said in the README.

The manifest's files are found by name: each item's URL ends in the name the server gave the file,
looked for first in the manifest's own folder, then anywhere among the files given. Clients often
save files under names of their own; where no item of a manifest is found by name, its files are
checked by type instead (as many files holding resources of each type as it lists, and at least as
many distinct resources as its counts add up to), which only one export at a time allows.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .errors import RecordLoadError
from .record import parse_json_text

# The $export parameters that leave part of each patient's record out of the files, and what they ask for.
_SINCE = {"_since": "only what changed since", "_until": "only what existed before"}
# The types of resource the reader reads (fhir.READ_TYPES, without Medication: a statement naming a
# Medication the export lacks is refused with its patient), which a `_type` list must keep.
_NEEDED = ("Condition", "MedicationAdministration", "MedicationDispense", "MedicationRequest",
           "MedicationStatement", "Observation", "Patient")
# The lines that start each patient's block in output organised by patient: structure, not data
# (counted among the file's resources, as the manifest's `count` counts every resource in a file).
BLOCK_HEADER = "Parameters"
_FILE_LISTS = ("output", "error", "outcome", "deleted")  # (`outcome`: the IG's newer name for `error`)
_NAMED = 5


def looks_like_manifest(document: object) -> bool:
    """Whether a JSON document is a Bulk Data manifest: an object with `transactionTime` and
    `output` (of any shape: a malformed one is said, not read as a patient's record)."""
    return isinstance(document, dict) and "transactionTime" in document and "output" in document


def read_manifest(data: bytes, source: str) -> tuple[dict[str, Any] | None, str | None]:
    """(manifest, None) for a file that holds one; (None, why) for one that seems to be a manifest
    (it names `transactionTime`) but cannot be read; (None, None) for anything else."""
    text = None
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            text = data.decode(encoding, errors="replace")
            break
    if text is None:
        text = data.decode("utf-8", errors="replace")
    if '"transactionTime"' not in text:
        return None, None
    try:
        document = parse_json_text(text)
    except RecordLoadError as exc:
        return None, str(exc)
    return (document, None) if looks_like_manifest(document) else (None, None)


def _name(url: str) -> str:
    """The name a URL gives its file (percent-decoded: "file%201.ndjson" is saved as "file 1.ndjson")."""
    try:
        return unquote(PurePath(urlsplit(url).path).name)
    except ValueError:  # (an unclosed "[" in a host)
        return ""


@dataclass
class _Item:
    """One file a manifest lists."""

    kind: str | None  # its resource type; None in output organised by patient
    url: str
    count: int | None
    error: bool  # an error (outcome) file: what the server could not export
    manifest: str  # the manifest's source

    @property
    def name(self) -> str:
        return _name(self.url)

    def said(self) -> str:
        return (f"its error file {self.name or self.url!r} (what the server could not export)" if self.error
                else f"{self.name or self.url!r}")


@dataclass
class ExportFiles:
    """What each file of an export held, as the export's lines were read: resources of each type
    (every line), and those not read before in another line (a copy of a file adds none)."""

    lines: dict[str, Counter[str]] = field(default_factory=dict)
    new: dict[str, Counter[str]] = field(default_factory=dict)

    def count(self, path: str, kind: str, new: bool) -> None:
        self.lines.setdefault(path, Counter())[kind] += 1
        if new:
            self.new.setdefault(path, Counter())[kind] += 1

    def held(self, path: str, kind: str | None) -> int:
        counted = self.lines.get(path, Counter())
        return counted[kind] if kind else sum(n for k, n in counted.items() if k != "OperationOutcome")

    def distinct(self, kind: str | None) -> int:
        return sum(c[kind] if kind else sum(n for k, n in c.items() if k != "OperationOutcome")
                   for c in self.new.values())

    def holding(self, kind: str | None) -> int:
        """The files that gave resources of a type (any, for None) not read before in another."""
        return sum(1 for c in self.new.values()
                   if (c[kind] if kind else any(k != "OperationOutcome" for k in c)))


@dataclass
class Gaps:
    """Why a manifest shows the files given are not the whole export, by kind."""

    malformed: list[str] = field(default_factory=list)  # it cannot be read as a manifest
    asked: list[str] = field(default_factory=list)  # it was asked for part of each record
    missing: list[str] = field(default_factory=list)  # files, or part of them, not given

    def __bool__(self) -> bool:
        return bool(self.malformed or self.asked or self.missing)

    def said(self) -> str:
        parts = []  # (pages of one export repeat its request: each reason once)
        if self.malformed:
            parts.append(f"it cannot be read as a manifest ({'; '.join(dict.fromkeys(self.malformed))}): mend it, "
                         "or give the export without it")
        if self.asked:
            parts.append(f"the export was asked for part of each record ({'; '.join(dict.fromkeys(self.asked))}): "
                         "export again without that")
        if self.missing:
            parts.append(f"{'; '.join(dict.fromkeys(self.missing))} (give the whole export)")
        return "; and ".join(parts)


def _count(value: object) -> int | None | str:
    """A file's count, None where none is given, or why it is none (text)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"expected a whole number, got {value!r}"
    if isinstance(value, float) and not value.is_integer() or value < 0:
        return f"expected a whole number, got {value!r}"
    return int(value)


def _items(manifest: dict[str, Any], source: str, gaps: Gaps) -> list[_Item]:
    """The files a manifest lists, its form checked (each fault goes to `gaps.malformed`)."""
    organised = manifest.get("outputOrganizedBy") is not None
    out = []
    for key in _FILE_LISTS:
        listed = manifest.get(key)
        if listed is None:
            continue
        if not isinstance(listed, list):
            gaps.malformed.append(f"{key}: expected a list of files, got {type(listed).__name__}")
            continue
        for number, item in enumerate(listed):
            where = f"{key}[{number}]"
            if not isinstance(item, dict) or not isinstance(item.get("url"), str):
                gaps.malformed.append(f"{where}: expected a file with a url, got {item!r}"[:200])
                continue
            kind, count = item.get("type"), _count(item.get("count"))
            if kind is not None and not isinstance(kind, str):
                gaps.malformed.append(f"{where}.type: expected a resource type, got {kind!r}")
                continue
            if kind is None and key == "output" and not organised:
                gaps.malformed.append(f"{where}: no type (only output organised by patient, outputOrganizedBy, "
                                      "lists files without one)")
                continue
            if isinstance(count, str):
                gaps.malformed.append(f"{where}.count: {count}")
                continue
            if key != "deleted":
                error = key in ("error", "outcome")
                out.append(_Item(kind or ("OperationOutcome" if error else None), item["url"], count, error, source))
    return out


def _asked(manifest: dict[str, Any], gaps: Gaps) -> None:
    """What the export's request (kept in the manifest, for a GET kick-off) left out of each record."""
    request = manifest.get("request")
    if request is None:
        return
    if not isinstance(request, str):
        gaps.malformed.append(f"request: expected the kick-off URL, got {request!r}")
        return
    try:
        query = parse_qs(urlsplit(request).query)
    except ValueError as exc:
        gaps.malformed.append(f"request: no URL ({exc})")
        return
    for name, said in _SINCE.items():
        if name in query:
            gaps.asked.append(f"{said} {', '.join(query[name])} ({name})")
    for value in query.get("_typeFilter", []):
        kinds = set(re.findall(r"(?:^|,)\s*([A-Za-z]+)\?", value))
        if not kinds or kinds & set(_NEEDED):
            gaps.asked.append(f"only the resources matching {value} (_typeFilter)")
    for value in query.get("_elements", []):
        elements = [e.strip() for e in value.split(",") if e.strip()]
        if any("." not in e or e.split(".", 1)[0] in _NEEDED for e in elements):
            gaps.asked.append(f"only the elements {value} (_elements)")
    if "_type" in query:
        asked = {kind.strip() for value in query["_type"] for kind in value.split(",")}
        if left := [kind for kind in _NEEDED if kind not in asked]:
            gaps.asked.append(f"some resource types only, without {', '.join(left)} (_type)")
    if isinstance(manifest.get("deleted"), list) and manifest["deleted"]:
        gaps.asked.append("what changed since a date: it lists deleted resources")


def _links(manifest: dict[str, Any], gaps: Gaps) -> list[str]:
    """The names of the further pages a paged manifest links to (`link`, relation next)."""
    links = manifest.get("link")
    if links is None:
        return []
    if not isinstance(links, list) or not all(isinstance(link, dict) for link in links):
        gaps.malformed.append(f"link: expected a list of links, got {links!r}"[:200])
        return []
    return [_name(link["url"]) or link["url"] for link in links
            if link.get("relation") == "next" and isinstance(link.get("url"), str)]


def _found(items: list[_Item], given: dict[str, list[str]]) -> dict[int, list[str]]:
    """Item index -> the paths of the files given under its name: in its manifest's folder where
    that holds any of the manifest's files (so that another export's file of the same name does not
    stand in for a missing one), else anywhere (a manifest given from elsewhere)."""
    def near(item: _Item, path: str) -> bool:
        return PurePath(path).parent == PurePath(item.manifest).parent

    at_home = {item.manifest for item in items for path in given.get(item.name, []) if near(item, path)}
    found = {}
    for index, item in enumerate(items):
        paths = [p for p in given.get(item.name, []) if item.manifest not in at_home or near(item, p)]
        if paths:
            found[index] = paths
    return found


def manifest_gaps(manifests: list[tuple[str, dict[str, Any] | str]], files: ExportFiles,
                  given: dict[str, list[str]]) -> dict[str, Gaps]:
    """For each manifest (source, document, or why it cannot be read) that shows the export
    partial, why. `files`: what the export's files held; `given`: file name (without .gz) -> the
    paths given under it. Pages of one export (same transactionTime) are checked together, as
    one list of files."""
    out: dict[str, Gaps] = {}
    exports: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for source, manifest in manifests:
        if isinstance(manifest, str):  # (a manifest that cannot be read cannot vouch for the export)
            out[source] = Gaps(malformed=[manifest.removeprefix(f"{source}: ")])
            continue
        stamp = manifest.get("transactionTime")  # (pages of one export share it, and the request)
        key = f"{stamp}\n{manifest.get('request')}" if isinstance(stamp, str) else source
        exports.setdefault(key, []).append((source, manifest))
    page_names = {PurePath(source).name for source, _ in manifests}
    by_type: list[tuple[str, list[_Item]]] = []
    for pages in exports.values():
        linked = {name for _, manifest in pages for name in _links(manifest, Gaps())}
        first = next((source for source, _ in pages if PurePath(source).name not in linked), pages[0][0])
        gaps = out.setdefault(first, Gaps())
        items: list[_Item] = []
        links: list[str] = []
        for source, manifest in pages:
            if not isinstance(manifest.get("transactionTime"), str):
                gaps.malformed.append(f"{source}: transactionTime: expected an instant")
            items += _items(manifest, source, gaps)
            _asked(manifest, gaps)
            links += _links(manifest, gaps)
        # a page linking to one not given: by its name, or (pages saved under other names) when
        # every page given links on, so that the last is not among them
        unseen = [name for name in links if name not in page_names]
        if unseen and len(links) >= len(pages):
            gaps.missing.append(f"it is one page of a longer list, and the next ({_lines(unseen)}) is not given")
        found = _found(items, given)
        if found:  # the server's names: each file it lists must be given, and hold its count
            for index, item in enumerate(items):
                listed = f" (listed in {item.manifest})" if len(pages) > 1 else ""
                if index not in found:
                    gaps.missing.append(f"{item.said()}{listed} is not given")
                elif item.count is not None and (held := sum(files.held(p, item.kind) for p in found[index])
                                                 ) < item.count:
                    what = f"{item.kind} resources" if item.kind else "resources"
                    gaps.missing.append(f"{item.said()}{listed} holds {held} of the {item.count} {what} it lists, so "
                                        "it was cut short")
        else:
            by_type.append((first, items))
    if len(by_type) > 1 or (by_type and len(exports) > 1):
        for first, _ in by_type:
            out[first].missing.append("its files are not given under the names it lists, and the manifests of "
                                      f"{len(exports)} exports are given: which files are whose cannot be told (give "
                                      "one export at a time)")
    elif by_type:
        first, items = by_type[0]
        for kind in dict.fromkeys(item.kind for item in items):
            of_kind = [item for item in items if item.kind == kind]
            what = f"{kind} resources" if kind else "resources"
            error = "error files (what the server could not export)" if of_kind[0].error else "files"
            if (holding := files.holding(kind)) < len(of_kind):
                gaps.missing.append(f"it lists {len(of_kind)} {error} of {what}; {holding} of the files given hold "
                                    "them")
            expected = sum(item.count for item in of_kind if item.count is not None)
            if (distinct := files.distinct(kind)) < expected:
                gaps.missing.append(f"it lists {expected} {what}; the files given hold {distinct}")
    return {source: gaps for source, gaps in out.items() if gaps}


def _lines(items: list[str]) -> str:
    return ", ".join(items[:_NAMED]) + (f" and {len(items) - _NAMED} more" if len(items) > _NAMED else "")


# Reading a damaged .gz raises zlib.error, which is no OSError.
READ_ERRORS = (OSError, EOFError, zlib.error)
