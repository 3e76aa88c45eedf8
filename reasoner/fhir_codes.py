"""The knowledge base's codes and names, as a FHIR Bundle's codings and texts are looked up in them.

Why a module of its own: reasoner/fhir.py reads a Bundle's structure; what a code or a medication
text means is decided here, once per knowledge base, from the codes the ontology carries (SNOMED CT,
ICD-10-CM, WHO ICD-10, LOINC, RxNorm, ATC, copied from shared/reference/) and the names of its drugs.
Nothing is matched by likeness: a code is the knowledge base's or it is not, and a drug is found in a
text only where a product's text names it (at its start, after a "/" joining two ingredients, or at
the start of brackets or parentheses: "[Humira]", "Amgevita (adalimumab)").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from .namespaces import AX, DRUG

# Code systems, by their FHIR URI and the HL7 OID some exports use instead.
SNOMED = ("http://snomed.info/sct", "urn:oid:2.16.840.1.113883.6.96")
ICD10CM = ("http://hl7.org/fhir/sid/icd-10-cm", "urn:oid:2.16.840.1.113883.6.90")
ICD10 = ("http://hl7.org/fhir/sid/icd-10", "urn:oid:2.16.840.1.113883.6.3")  # WHO ICD-10
LOINC = ("http://loinc.org", "urn:oid:2.16.840.1.113883.6.1")
RXNORM_SYSTEM = ("http://www.nlm.nih.gov/research/umls/rxnorm", "urn:oid:2.16.840.1.113883.6.88")
ATC_SYSTEM = ("http://www.whocc.no/atc", "urn:oid:2.16.840.1.113883.6.73")
AXSPA_SYSTEM = str(AX).rstrip("#")  # https://w3id.org/axspa-kg/ontology: conditions, measures, outcomes by id
DRUG_SYSTEM = str(DRUG)  # https://w3id.org/axspa-kg/drug/: drugs by id
RXNORM = "http://purl.bioontology.org/ontology/RXNORM/"

# The record's values for the three diagnoses (the shipped context maps them to these concepts).
DIAGNOSES = {AX.ankylosing_spondylitis: "AS", AX.nr_axspa: "nr-axSpA", AX.axial_spa: "axSpA"}

# Words of a medication's text, route or form that make it a local form (a gel, eye drops ...):
# the guidelines' NSAID and glucocorticoid courses are systemic ones. Not "liquid gel" capsules, not
# "sub-cutaneous"; Epic abbreviates "EX CREA" (external cream), "TD PTCH" or "TD PT24", "OP SUSP" or
# "ophth susp" (ophthalmic). An injection into the eye (intravitreal, intraocular) is local too, and
# so are drops or an injection named with the eye (EYE_FORM); an eye merely named is not
# ("prednisone 40 mg tablet, uveitis of both eyes" is a course).
# Suppositories are not listed: an NSAID's is a systemic course; a glucocorticoid's (for proctitis,
# as its enemas and foams are) is local by RECTAL_FORM.
LOCAL_FORM = re.compile(
    r"(?<!liquid )(?<!liqui-)(?<!liquid-)(?<!soft )\bgels?\b(?!\s*(cap|tab))|\bemulgel\b|\bcreams?\b|\bointments?\b|"
    r"\btopical|\bpatch(es)?\b|\bplasters?\b|\bophthalmic\b|\b(eye|ear)\s+(drops?|ointment|gel|solution|suspension)\b|"
    r"\binhal\w*|\bnasal\b|\bsprays?\b|\blotions?\b|\bfoam\b|\benemas?\b|\botic\b|\bmouthwash\b|\bshampoo\b|"
    r"\btransdermal\b|(?<!sub)(?<!sub-)\bcutaneous\b|\borabase\b|"
    r"\bophth\b|\bintravitreal\b|\bintraocular\b|\bsubconjunctival\b|"
    r"\btd\s+pt\d*\b|\b(ex|td|op|ot|na|in)\s+(crea|oint|gel|ptch|susp|soln|spry|aero|lotn|foam)\b",
    re.IGNORECASE)
# Drops or an injection named with the eye they go into ("1 drop right eye", "1 gtt OD",
# "injection (left eye)"), unless a systemic route is written too ("IV injection ... left eye").
EYE_FORM = re.compile(r"\b(drops?|gtts?|inj|injection)\b[^.;]{0,40}\b(right|left|both)\s+eyes?\b|\bgtts?\s+o[dsu]\b",
                      re.IGNORECASE)
SYSTEMIC_ROUTE = re.compile(r"\b(iv|im|intravenous\w*|intramuscular\w*|oral\w*|po|tablets?|tabs?|capsules?)\b",
                            re.IGNORECASE)
RECTAL_FORM = re.compile(r"\bsuppositor(y|ies)\b|\brectal\b|\b(pr|re)\s+supp\b", re.IGNORECASE)
# Routes of an injection into or around a joint, a bursa or a lesion (SNOMED CT's route displays:
# "Intra-articular route", "Periarticular route", "Intralesional route", "Intrabursal route",
# "Intrasynovial route"). A glucocorticoid injected so is a local injection: the tables give these
# routes to the depot esters only (drugs.tsv), so a base ingredient named with one is read as its
# ester where the tables give exactly one (methylprednisolone -> methylprednisolone acetate), and
# is otherwise not a course (DrugNames.depot_of, fhir.py drug_name).
JOINT_INJECTION = re.compile(
    r"\b(intra|peri)[-\s]?articular\w*|\bintra[-\s]?(lesional|bursal|synovial)\w*|\bsoft[-\s]tissues?\b",
    re.IGNORECASE)


@dataclass(frozen=True)
class Coding:
    system: str | None
    code: str | None
    display: str | None


def norm(text: str) -> str:
    """A name as its words, lower-cased ("Depo-Medrol" and "depo medrol" are one)."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


@dataclass(frozen=True)
class CodeIndex:
    """The knowledge base's codes: conditions and measures by system and code."""

    snomed: dict[str, URIRef]
    icd10cm: dict[str, list[URIRef]]  # code prefix without its dot -> concepts (ranges spelt out)
    icd10: dict[str, list[URIRef]]  # the same, WHO ICD-10
    loinc: dict[str, URIRef]
    labels: dict[str, URIRef]  # lower-cased label or alternative label -> condition or measure
    concepts: frozenset[URIRef]  # conditions and measures (ids under AXSPA_SYSTEM)
    measures: frozenset[URIRef]
    outcomes: frozenset[str]  # the response types' ids (the record's outcome values)
    broader: dict[URIRef, frozenset[URIRef]]  # concept -> what it falls under (itself included)
    diagnoses_coded: str = ""  # the codes read as each diagnosis, for messages (diagnosis_codes)


def diagnosis_codes(index: CodeIndex) -> str:
    """The codes that give each diagnosis, for the message when a Bundle gives none: SNOMED CT,
    the shortest ICD-10-CM prefixes read as it (dotted as written), and the axspa-kg id."""
    parts = []
    for concept, name in DIAGNOSES.items():
        codes = [f"SNOMED CT {code}" for code, meant in sorted(index.snomed.items()) if meant == concept]
        alone = sorted(p for p in index.icd10cm if concept_of([Coding(ICD10CM[0], p, None)], None, index) == concept)
        shortest = [p for p in alone if not any(p != q and p.startswith(q) for q in alone)]
        codes += [f"ICD-10-CM {p[:3]}.{p[3:]}" if len(p) > 3 else f"ICD-10-CM {p}" for p in shortest]
        codes.append(f"axspa-kg {str(concept).removeprefix(str(AX))}")
        parts.append(f"{name} ({'; '.join(codes)})")
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def code_index(kb: Graph) -> CodeIndex:
    """Build the index once per knowledge base (record._per_kb caches it)."""
    kinds = {AX.Condition} | set(kb.transitive_subjects(RDFS.subClassOf, AX.Condition))
    concepts = {s for kind in kinds for s in kb.subjects(RDF.type, kind) if isinstance(s, URIRef)}
    measures = {s for s in kb.subjects(RDF.type, AX.Measure) if isinstance(s, URIRef)}
    concepts |= measures | set(DIAGNOSES)
    snomed = {str(code): s for s, code in kb.subject_objects(AX.snomedCt) if s in concepts}
    loinc = {str(code): s for s, code in kb.subject_objects(AX.loinc) if s in measures}

    def icd(prop: URIRef) -> dict[str, list[URIRef]]:
        out: dict[str, list[URIRef]] = {}
        for concept, value in kb.subject_objects(prop):
            if concept in concepts:
                for prefix in _icd_prefixes(str(value)):
                    out.setdefault(prefix, []).append(concept)  # type: ignore[arg-type]
        return out

    labels: dict[str, URIRef] = {}
    for concept in sorted(concepts):
        for prop in (RDFS.label, SKOS.altLabel):
            for label in kb.objects(concept, prop):
                labels.setdefault(str(label).strip().lower(), concept)
    outcomes = frozenset(str(s).removeprefix(str(AX)) for s in kb.subjects(RDF.type, AX.ResponseType)
                         if str(s).startswith(str(AX)))
    broader = {c: _closure(kb, c) for c in concepts}
    index = CodeIndex(snomed, icd(AX.icd10cm), icd(AX.icd10), loinc, labels, frozenset(concepts),
                      frozenset(measures), outcomes, broader)
    return replace(index, diagnoses_coded=diagnosis_codes(index))


def _closure(kb: Graph, concept: URIRef) -> frozenset[URIRef]:
    """What `concept` falls under, at any distance, itself included (the ontology states only the
    nearest step)."""
    seen, pending = {concept}, [concept]
    while pending:
        for broader in kb.objects(pending.pop(), AX.fallsUnder):
            if isinstance(broader, URIRef) and broader not in seen:
                seen.add(broader)
                pending.append(broader)
    return frozenset(seen)


def _icd_prefixes(value: str) -> list[str]:
    """ICD-10 codes as the knowledge base writes them ("K50", "H20.02-", "A15-A19") as prefixes a
    patient's code must start with, without the dot (exports write "K50.90" and "K5090"): a
    trailing dash means "and its subcodes", a range between two categories of one letter stands for
    each category in it."""
    value = value.strip().upper()
    if value.endswith("-"):
        value = value[:-1]
    found = re.fullmatch(r"([A-Z])([0-9]{2})-([A-Z])([0-9]{2})", value)
    if found and found.group(1) == found.group(3):
        letter, low, high = found.group(1), int(found.group(2)), int(found.group(4))
        return [f"{letter}{n:02d}" for n in range(low, high + 1)]
    return [value.replace(".", "")] if re.fullmatch(r"[A-Z][0-9A-Z]{2}(\.[0-9A-Z]{1,4})?", value) else []


def _most_specific(found: list[URIRef], index: CodeIndex) -> URIRef | None:
    """One concept for several a code matches equally well: the one that falls under all the
    others (Crohn's disease, not IBD, for K50), else the narrowest concept they all fall under
    (anterior uveitis for H20.0, which acute anterior uveitis and iritis both carry)."""
    unique = sorted(set(found))
    for concept in unique:
        if all(other in index.broader.get(concept, ()) for other in unique):
            return concept
    shared = set.intersection(*(set(index.broader.get(c, {c})) for c in unique))
    narrowest = [c for c in shared if all(o in index.broader.get(c, ()) for o in shared)]
    return narrowest[0] if len(narrowest) == 1 else None


def concept_of(codings: list[Coding], text: str | None, index: CodeIndex) -> URIRef | None:
    """The condition or measure a CodeableConcept names: an axspa-kg id, then a SNOMED CT or LOINC
    code, then an ICD-10-CM (or WHO ICD-10) code by the longest of the knowledge base's codes it
    starts with, then the text or a display that is a label of the knowledge base (exactly,
    ignoring case)."""
    for kind in ((AXSPA_SYSTEM,), SNOMED, LOINC, ICD10CM, ICD10):
        for coding in codings:
            if coding.system not in kind or not coding.code:
                continue
            code = coding.code.strip()
            if kind == (AXSPA_SYSTEM,) and URIRef(str(AX) + code) in index.concepts:
                return URIRef(str(AX) + code)
            if kind == SNOMED and code in index.snomed:
                return index.snomed[code]
            if kind == LOINC and code in index.loinc:
                return index.loinc[code]
            if kind in (ICD10CM, ICD10):
                table = index.icd10cm if kind == ICD10CM else index.icd10
                bare = code.upper().replace(".", "")
                for length in range(len(bare), 2, -1):
                    if bare[:length] in table:
                        return _most_specific(table[bare[:length]], index)
    for shown in [text, *(c.display for c in codings)]:
        if shown and shown.strip().lower() in index.labels:
            return index.labels[shown.strip().lower()]
    return None


def named_condition(texts: list[str], index: CodeIndex) -> tuple[str, URIRef] | None:
    """A condition of the knowledge base a text names inside it (the longest label found), for a
    hint on a condition not read; none for a text that denies it, is about the family, or records
    a screening, a risk or a diagnosis ruled out rather than the condition."""
    for text in texts:
        words = f" {norm(text)} "
        if re.search(r" (no|not|denies|negative|family|mother|father|sibling|sister|brother|ruled|rule|excluded|"
                     r"screening|screen|risk|r o) ", words):
            continue
        found = [(label, concept) for label, concept in index.labels.items()
                 if len(label) > 3 and f" {norm(label)} " in words]
        if found:
            return max(found, key=lambda item: len(item[0]))
    return None


# Units RxNorm writes before an ingredient in a pack's quantity ("0.4 ML", "24 HR", "120 ACTUAT").
_QUANTITY_UNITS = frozenset({"ml", "hr", "actuat", "mg", "mcg", "g", "unt", "meq"})

# What a drug of the knowledge base is, for reading a medication's text (classes by rdfs:subClassOf).
TARGETED, NSAID, GLUCOCORTICOID, ANALGESIC = "targeted", "nsaid", "glucocorticoid", "analgesic"
_KIND_CLASSES = ((TARGETED, (AX.Biologic, AX.TargetedSyntheticDMARD)), (NSAID, (AX.NSAID,)),
                 (GLUCOCORTICOID, (AX.Glucocorticoid,)), (ANALGESIC, (AX.Analgesic,)))


@dataclass(frozen=True)
class Named:
    """The drugs a medication's codes and texts name, and the words the texts name them by."""

    drugs: set[URIRef]
    names: dict[URIRef, str]  # drug -> a name the record's `drug` field resolves (text first)
    mentioned: set[URIRef]  # named elsewhere in a text (not as the product): may matter, not read


@dataclass(frozen=True)
class DrugNames:
    """The knowledge base's drug names and codes (record.drug_index), to find them in a medication."""

    exact: dict[str, URIRef]  # lower-cased name or code -> drug (what the record's `drug` resolves)
    words: dict[str, tuple[str, URIRef]]  # the name as words -> (a name `exact` holds, drug)
    biosimilar_of: dict[URIRef, URIRef]
    base_codes: dict[URIRef, frozenset[str]]  # a depot ester -> its base ingredient's RxNorm codes
    depot_of: dict[URIRef, frozenset[URIRef]]  # a drug -> the depot esters of its RxNorm ingredient
    kind: dict[URIRef, str]  # drug -> TARGETED, NSAID, GLUCOCORTICOID, ANALGESIC (or absent)
    by_atc: dict[str, URIRef]  # an ATC code only one reference product carries -> it
    atc_groups: frozenset[str]  # ATC level-4 groups (5 characters) of the targeted drugs and NSAIDs
    label: dict[URIRef, str]  # drug -> its label, which `exact` resolves

    @classmethod
    def build(cls, kb: Graph, drugs: dict[str, URIRef]) -> DrugNames:
        words: dict[str, tuple[str, URIRef]] = {}
        for key, drug in sorted(drugs.items()):
            normal = norm(key)
            if normal and not normal.replace(" ", "").isdigit() and "://" not in key:  # no codes, no IRIs
                words.setdefault(normal, (key, drug))
        biosimilar_of = {s: o for s, o in kb.subject_objects(AX.biosimilarOf)
                         if isinstance(s, URIRef) and isinstance(o, URIRef)}
        base_codes: dict[URIRef, set[str]] = {}
        for drug, match in kb.subject_objects(SKOS.broadMatch):
            if isinstance(drug, URIRef) and str(match).startswith(RXNORM):
                base_codes.setdefault(drug, set()).add(str(match).removeprefix(RXNORM))
        kind: dict[URIRef, str] = {}
        for name, classes in _KIND_CLASSES:
            for top in classes:
                for cls_ in {top, *kb.transitive_subjects(RDFS.subClassOf, top)}:
                    for drug in kb.subjects(RDF.type, cls_):
                        if isinstance(drug, URIRef):
                            kind.setdefault(drug, name)
        atc: dict[str, set[URIRef]] = {}
        for drug, code in kb.subject_objects(AX.atcCode):
            if isinstance(drug, URIRef) and drug not in biosimilar_of:
                atc.setdefault(str(code).strip().upper(), set()).add(drug)
        by_atc = {code: next(iter(found)) for code, found in atc.items() if len(found) == 1}
        groups = frozenset(code[:5] for code, found in atc.items()
                           if len(code) >= 5 and any(kind.get(d) in (TARGETED, NSAID) for d in found))
        own_codes: dict[str, set[URIRef]] = {}  # an RxNorm code -> the drugs it is exactly
        for drug, match in kb.subject_objects(SKOS.exactMatch):
            if isinstance(drug, URIRef) and str(match).startswith(RXNORM):
                own_codes.setdefault(str(match).removeprefix(RXNORM), set()).add(drug)
        depot_of: dict[URIRef, set[URIRef]] = {}
        for ester, codes in base_codes.items():
            for code in codes:
                for drug in own_codes.get(code, ()):
                    depot_of.setdefault(drug, set()).add(ester)
        return cls(dict(drugs), words, biosimilar_of, {d: frozenset(c) for d, c in base_codes.items()},
                   {d: frozenset(e) for d, e in depot_of.items()}, kind, by_atc, groups,
                   {d: str(n) for d, n in kb.subject_objects(RDFS.label)
                    if isinstance(d, URIRef) and drugs.get(str(n).lower()) == d})

    def in_text(self, text: str) -> tuple[dict[URIRef, str], set[URIRef]]:
        """(drugs a product's text names as the product, with the name found; drugs it names
        elsewhere). A product is named at the start of the text, after a "/" or "+" joining two
        ingredients, at the start of brackets ("... [Humira]"), or alone in parentheses (with a
        strength at most: "Amgevita (adalimumab)"); a name inside a longer one found at the same place gives way
        ("methylprednisolone" in "methylprednisolone acetate"); one named further on ("folic acid
        (with methotrexate)") is only mentioned. A pack's quantity may come first ("0.4 ML
        adalimumab 40 MG/ML ...")."""
        enclosed = re.findall(r"\[([^\]]*)\]|\(([^)]*)\)", text)
        outside = re.sub(r"\[[^\]]*\]|\([^)]*\)", " ", text)
        # (parts, and whether a name there must stand alone: in parentheses it names the product
        # only as "(adalimumab)" or "(paracetamol 500 mg / ibuprofen 150 mg)" do, not as
        # "(infliximab TB prophylaxis)" does)
        parts = [(part, False) for part in re.split(r"[/+]", outside)]
        for square, round_ in enclosed:
            parts += [(part, bool(round_)) for part in re.split(r"[/+]", square or round_)]
        product: dict[URIRef, str] = {}
        elsewhere: set[URIRef] = set()
        for part, alone in parts:
            tokens = re.findall(r"[a-z0-9]+", part.lower())
            # RxNorm writes a pack's quantity first: "0.4 ML adalimumab 40 MG/ML Prefilled Syringe"
            lead = next((i for i, t in enumerate(tokens) if not (t.isdigit() or t in _QUANTITY_UNITS)), len(tokens))
            for start, end, (key, drug) in self._spans(tokens):
                rest = tokens[end:]
                if start <= lead and not (alone and any(not (t.isdigit() or t in _QUANTITY_UNITS) for t in rest)):
                    product.setdefault(drug, key)
                else:
                    elsewhere.add(drug)
        return product, elsewhere - set(product)

    def _spans(self, tokens: list[str]) -> list[tuple[int, int, tuple[str, URIRef]]]:
        spans = []
        for n in range(1, 5):
            for start in range(len(tokens) - n + 1):
                found = self.words.get(" ".join(tokens[start:start + n]))
                if found:
                    spans.append((start, start + n, found))
        return [s for s in spans
                if not any(o[0] <= s[0] and s[1] <= o[1] and (o[1] - o[0]) > (s[1] - s[0]) for o in spans)]

    def named(self, codes: list[str], atc_codes: list[str], texts: list[str]) -> Named:
        """The drugs the codes and texts of one medication name (see reasoner/fhir.py drug_name)."""
        by_code = {code: self.exact[code.lower()] for code in codes if code.lower() in self.exact}
        # (an ATC code names its drug by the drug's IRI, which the record's `drug` field resolves)
        by_code |= {str(self.by_atc[c.upper()]): self.by_atc[c.upper()] for c in atc_codes if c.upper() in self.by_atc}
        by_text = {text: self.exact[text.lower()] for text in texts if text.lower() in self.exact}
        in_product: dict[URIRef, str] = {}
        mentioned: set[URIRef] = set()
        for text in texts:
            product, elsewhere = self.in_text(text)
            for drug, key in product.items():
                in_product.setdefault(drug, key)
            mentioned |= elsewhere
        drugs = set(by_code.values()) | set(by_text.values()) | set(in_product)
        # a biosimilar named beside its reference product is the product meant; a depot ester
        # beside its base ingredient's RxNorm code (Depo-Medrol and 6902) is the ester
        drugs -= {self.biosimilar_of[d] for d in drugs if d in self.biosimilar_of}
        drugs -= {by_code[c] for c in by_code for d in drugs if c in self.base_codes.get(d, ())}
        # a combination with a plain analgesic (ibuprofen / paracetamol) is a course of the other
        if any(self.kind.get(d) != ANALGESIC for d in drugs):
            drugs = {d for d in drugs if self.kind.get(d) != ANALGESIC}
        names: dict[URIRef, str] = {}
        for drug in drugs:
            names[drug] = next((t for t, d in by_text.items() if d == drug), None) or in_product.get(drug) or next(
                c for c, d in by_code.items() if d == drug)
        return Named(drugs, names, mentioned - drugs)
