"""A FHIR Bulk Data manifest (the completed export's list of its files), checked against the files
given: an export its manifest shows to be partial stops every patient (reasoner/fhir_bulk.py).

Why: without the manifest nothing tells a whole export from one missing a file, cut short, or
asked for part of each record, and a patient whose failed biologic was in the missing part would
be advised as if naive. What the manifest can show, it is made to show; what it cannot (the
parameters of a request made by POST, which the manifest does not keep) is said in the README.

A manifest's files are those at or below its folder (each file belongs to the manifest nearest
above it; a manifest given from elsewhere gets the files below none). Among them, a file is found by
the name its URL ends in; clients often save files under names of their own, and where no file of a
manifest is found by name, its files are checked by type instead (as many files holding resources of
each type as it lists, and at least as many resources as its counts add up to). A copy of a file
(all its lines read before in another) adds nothing.
"""

from __future__ import annotations

import json
import re
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .errors import RecordLoadError
from .fhir import READ_TYPES
from .record import parse_json_text

# The $export parameters that leave part of each patient's record out of the files, and what they ask for.
_SINCE = {"_since": "only what changed since", "_until": "only what existed before"}
# The types of resource the reader reads, which a `_type` list must keep (not Medication: a statement
# naming a Medication the export lacks is refused with its patient).
_NEEDED = tuple(sorted(READ_TYPES - {"Medication"}))
# The lines that start each patient's block in output organised by patient: structure, not data
# (counted among the file's resources, as the manifest's `count` counts every resource in a file).
BLOCK_HEADER = "Parameters"
_FILE_LISTS = ("output", "error", "outcome", "deleted")  # (`outcome`: the IG's newer name for `error`)
_NAMED = 5


def looks_like_manifest(document: object) -> bool:
    """Whether a JSON document is a Bulk Data manifest: an object with `transactionTime` and
    `output` (of any shape: a malformed one is said, not read as a patient's record)."""
    return isinstance(document, dict) and "transactionTime" in document and "output" in document


def read_manifest(data: bytes) -> tuple[dict[str, Any] | None, str | None]:
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


@dataclass
class ExportFiles:
    """What each file of an export held, as its lines were read: lines of each resource type, and
    (checked against a manifest) which resources, by type and id, or by content where a resource
    has no id. A copy of a file, whole or in part (a browser's "(1)" download, a retry appended to a
    first attempt), adds no resource to what the export holds."""

    lines: dict[str, Counter[str]] = field(default_factory=dict)
    keys: dict[str, dict[str, set[int]]] = field(default_factory=dict)

    def count(self, path: str, kind: str, key: int | None) -> None:
        self.lines.setdefault(path, Counter())[kind] += 1
        if key is not None:
            self.keys.setdefault(path, {}).setdefault(kind, set()).add(key)

    def _keys(self, path: str, kind: str | None) -> set[int]:
        held = self.keys.get(path, {})
        if kind is not None:
            return held.get(kind, set())
        return set().union(*(keys for k, keys in held.items() if k != "OperationOutcome"))

    def _new(self, paths: list[str], kind: str | None) -> list[str]:
        """The files among `paths` (in the order read) that hold a resource of the type (any, for
        None) that none before them does: the others are copies."""
        seen: set[int] = set()
        out = []
        for path in paths:
            keys = self._keys(path, kind)
            if keys - seen:
                out.append(path)
            seen |= keys
        return out

    def held(self, paths: list[str], kind: str | None) -> int:
        """Resources of a type in these files, each once. Output organised by patient (kind None)
        counts the lines of the files that are no copies: a resource two patients share may stand in
        both their blocks, and the manifest counts it in each."""
        if kind is None:
            return sum(sum(n for k, n in self.lines.get(path, Counter()).items() if k != "OperationOutcome")
                       for path in self._new(paths, None))
        return len(set().union(*(self._keys(path, kind) for path in paths)))

    def holding(self, paths: list[str], kind: str | None) -> int:
        """The files among `paths` that hold resources of a type, copies not counted."""
        return len(self._new(paths, kind))


@dataclass
class Gaps:
    """Why a manifest shows the files given are not the whole export, by kind."""

    malformed: list[str] = field(default_factory=list)  # it cannot be read as a manifest
    asked: list[str] = field(default_factory=list)  # it was asked for part of each record
    missing: list[str] = field(default_factory=list)  # files, or part of them, not given

    def __bool__(self) -> bool:
        return bool(self.malformed or self.asked or self.missing)

    def said(self) -> str:
        def listed(reasons: list[str]) -> str:  # (pages of one export repeat its request: each reason once)
            return first_few(list(dict.fromkeys(reasons)), "; ", "; and")

        parts = []
        if self.malformed:
            parts.append(f"it cannot be read as a manifest ({listed(self.malformed)}): mend it, or give the export "
                         "without it")
        if self.asked:
            parts.append(f"the export was asked for part of each record ({listed(self.asked)}): export again "
                         "without that")
        if self.missing:
            parts.append(f"{listed(self.missing)}; give the whole export")
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
            if kind is not None and not (isinstance(kind, str) and kind.strip()):
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
    out = []
    for number, link in enumerate(links):
        if link.get("relation") == "next":
            if not isinstance(link.get("url"), str) or not link["url"].strip():
                gaps.malformed.append(f"link[{number}]: a next page without a url")
            else:
                out.append(_name(link["url"]) or link["url"])
    return out


def _owned(groups: list[list[str]], paths: list[str]) -> list[list[str]]:
    """The files of each export (by its manifest pages' sources): those at or below a page's
    folder, a file going to the export whose page lies nearest above it, so that one export's files
    are never taken for another's. Paths are compared as the files they are (`..`, links, absolute
    or relative spellings)."""
    folders = [{Path(page).resolve().parent for page in pages} for pages in groups]
    owned: list[list[str]] = [[] for _ in groups]
    for path in paths:
        real = Path(path).resolve()
        above = [(len(folder.parts), index) for index, group in enumerate(folders) for folder in group
                 if real.is_relative_to(folder)]
        if above:
            nearest = max(depth for depth, _ in above)
            for index in {index for depth, index in above if depth == nearest}:
                owned[index].append(path)
    return owned


def file_key(name: str) -> str:
    """A file's name as its server named it: a trailing .gz (any case) dropped, case folded."""
    return (name[:-3] if name.lower().endswith(".gz") else name).casefold()


def listed_empty(manifests: Sequence[tuple[str, dict[str, Any] | str]]) -> set[str]:
    """The names (as `file_key` gives them) of the files a manifest lists with a count of 0: given
    empty, such a file is what it should be, not a download cut short."""
    return {file_key(_name(item["url"])) for _, manifest in manifests if isinstance(manifest, dict)
            for key in ("output", "error", "outcome") if isinstance(manifest.get(key), list)
            for item in manifest[key]
            if isinstance(item, dict) and isinstance(item.get("url"), str) and _count(item.get("count")) == 0}


def _by_name(items: list[_Item], paths: list[str]) -> dict[int, list[str]]:
    """Item index -> the files (among `paths`) given under the name its URL ends in."""
    named: dict[str, list[str]] = {}
    for path in paths:
        named.setdefault(file_key(PurePath(path).name), []).append(path)
    return {index: named[file_key(item.name)] for index, item in enumerate(items)
            if item.name and file_key(item.name) in named}


def _pages_missing(pages: list[tuple[str, dict[str, Any]]], gaps: Gaps) -> None:
    """A page of a paged manifest (`link`, relation next) not given. Where the links end in file
    names, pages are found by them (only the first page may be one no link names); where they do not
    (a status URL, `.../bulkstatus/<job>?page=2`, the same for every page), the pages given must be
    one more than the links."""
    names = {PurePath(source).name for source, _ in pages}
    links = [name for _, manifest in pages for name in _links(manifest, gaps)]
    if not links:
        return
    if all("." in name for name in links) and len(set(links)) == len(links):
        unseen = list(dict.fromkeys(name for name in links if name not in names))
        if unseen:
            gaps.missing.append(f"it is a paged list, and the page{'s' if len(unseen) > 1 else ''} {first_few(unseen)} "
                                f"{'are' if len(unseen) > 1 else 'is'} not given (under the name its link gives)")
        elif sum(1 for name in names if name not in links) > 1:
            gaps.missing.append("it is a paged list, and a page between those given is not given")
    elif len(pages) < len(links) + 1:
        gaps.missing.append(f"it is a paged list, and of its {len(links) + 1} or more pages {len(pages)} "
                            f"{'are' if len(pages) > 1 else 'is'} given")


def _check_named(items: list[_Item], found: dict[int, list[str]], files: ExportFiles, many: bool,
                 gaps: Gaps) -> None:
    """Each file listed must be given, and hold the resources its count says (files listed under
    one name, as URLs that differ in their query only, together)."""
    missing = [item for index, item in enumerate(items) if index not in found]
    for error in (False, True):
        named = [f"{item.name or item.url!r}" + (f" (listed in {item.manifest})" if many else "")
                 for item in missing if item.error == error]
        said = ", which say what the server could not export," if error else ""
        if len(named) > 1:
            gaps.missing.append(f"{len(named)} {'error ' if error else ''}files it lists{said} are not given: "
                                f"{first_few(named)}")
        elif named:
            gaps.missing.append(f"{'its error file ' if error else ''}{named[0]}{said.replace('say', 'says')} "
                                "is not given")
    together: dict[tuple[tuple[str, ...], str | None], list[_Item]] = {}
    for index, paths in found.items():
        together.setdefault((tuple(sorted(paths)), items[index].kind), []).append(items[index])
    short = []
    for (paths, kind), listed in together.items():
        if any(item.count is None for item in listed):
            continue
        expected, held = sum(item.count or 0 for item in listed), files.held(list(paths), kind)
        if held < expected:
            what = f"{kind} resources" if kind else "resources"
            short.append(f"{listed[0].name!r} holds {held} of the {expected} {what} it lists")
    if short:
        gaps.missing.append(f"{first_few(short)}, so {'they were' if len(short) > 1 else 'it was'} cut short")
    # and the files of a type together (a file under a listed name may hold another's resources)
    for kind in dict.fromkeys(item.kind for item in items if item.kind):
        of_kind = [index for index, item in enumerate(items) if item.kind == kind and index in found]
        if not of_kind or any(items[index].count is None for index in of_kind):
            continue
        paths = list(dict.fromkeys(path for index in of_kind for path in found[index]))
        expected, held = sum(items[index].count or 0 for index in of_kind), files.held(paths, kind)
        if held < expected:
            gaps.missing.append(f"its {kind} files hold {held} distinct resources of the {expected} it lists")


def _check_by_type(items: list[_Item], paths: list[str], files: ExportFiles, gaps: Gaps) -> None:
    """Files saved under other names than the server's: as many files holding each type as are
    listed, and as many resources as the counts add up to."""
    for kind in dict.fromkeys(item.kind for item in items):
        of_kind = [item for item in items if item.kind == kind]
        what = f"{kind} resources" if kind else "resources"
        error = "error files (what the server could not export)" if of_kind[0].error else "files"
        if (holding := files.holding(paths, kind)) < len(of_kind):
            gaps.missing.append(f"it lists {len(of_kind)} {error} of {what}; {holding} of the files given hold them")
        expected = sum(item.count for item in of_kind if item.count is not None)
        if (held := files.held(paths, kind)) < expected:
            gaps.missing.append(f"it lists {expected} {what}; the files given hold {held}")


def manifest_gaps(manifests: list[tuple[str, dict[str, Any] | str]], files: ExportFiles,
                  given: list[str]) -> dict[str, Gaps]:
    """For each manifest (source, document, or why it cannot be read) that shows the export
    partial, why. `files`: what the export's files held; `given`: the paths of its files. Pages
    of one export (same transactionTime and request; identical copies of a page are one) are
    checked together, as one list of files, against the files at or below their folders."""
    out: dict[str, Gaps] = {}
    exports: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {}
    for source, manifest in manifests:
        if isinstance(manifest, str):  # (a manifest that cannot be read cannot vouch for the export)
            out[source] = Gaps(malformed=[manifest.removeprefix(f"{source}: ")])
            continue
        stamp = manifest.get("transactionTime")  # (pages of one export share it, and the request)
        key = f"{stamp}\n{manifest.get('request')}" if isinstance(stamp, str) else source
        content = json.dumps(manifest, sort_keys=True)  # (a copy of a page is that page)
        exports.setdefault(key, {}).setdefault(content, (source, manifest))
    groups = [list(pages.values()) for pages in exports.values()]
    owned = _owned([[source for source, _ in pages] for pages in groups], given)
    by_type: list[tuple[str, list[_Item], list[str]]] = []
    for pages, paths in zip(groups, owned, strict=True):
        linked = {name for _, manifest in pages for name in _links(manifest, Gaps())}
        first = next((source for source, _ in pages if PurePath(source).name not in linked), pages[0][0])
        gaps = out.setdefault(first, Gaps())
        if not paths:  # (given from elsewhere, it could take another export's files for its own)
            gaps.missing.append("none of the files given lies in its folder or below: give the manifest in its "
                                "export's folder")
            continue
        items: list[_Item] = []
        for source, manifest in pages:
            stamp = manifest.get("transactionTime")
            if not isinstance(stamp, str) or not stamp.strip():
                gaps.malformed.append(f"{source}: transactionTime: expected an instant, got {stamp!r}")
            items += _items(manifest, source, gaps)
            _asked(manifest, gaps)
        _pages_missing(pages, gaps)
        found = _by_name(items, paths)
        if found:  # the server's names
            _check_named(items, found, files, len(pages) > 1, gaps)
        else:
            by_type.append((first, items, paths))
    for first, items, paths in by_type:
        if any(set(paths) & set(other) for source, _, other in by_type if source != first):
            out[first].missing.append("its files are not given under the names it lists, and another export's "
                                      "manifest lies with them: which files are whose cannot be told (give one "
                                      "export at a time)")
        else:
            _check_by_type(items, paths, files, out[first])
    return {source: gaps for source, gaps in out.items() if gaps}


def first_few(items: list[str], sep: str = ", ", rest: str = " and") -> str:
    """The first five items, and how many more ("a, b, c, d, e and 3 more"): messages about an
    export stay short however many lines or files they are about."""
    return sep.join(items[:_NAMED]) + (f"{rest} {len(items) - _NAMED} more" if len(items) > _NAMED else "")


# Reading a damaged .gz raises zlib.error, which is no OSError.
READ_ERRORS = (OSError, EOFError, zlib.error)
