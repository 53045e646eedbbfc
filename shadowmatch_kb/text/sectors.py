"""The sector vocabulary: ISIC Rev.4 sections with friendly names, finer everyday labels, their phrases.

``sector_labels.toml`` (shipped with the package) lists the 21 ISIC sections, each with a friendly
name and synonyms, and about a hundred finer everyday labels (nursing, call centres, trucking…), each
inside one section; ignore-phrases ("world bank", "off the shelf") name no sector though their words
would. ``SectorVocabulary`` needs no model: it normalises a label as people write it ("healthcare",
"Q", "nurses") to its section's friendly name, and counts the vocabulary's phrases in a text for
``enrich.sectors``, which weighs them with meaning from the embedding model.

The friendly names are the one vocabulary of stored items, filters and counts: ``section_name`` is the
name of any surface form it knows, else a ``UsageError`` that lists the valid names. A knowledge base may
add aliases of its own in ``corpus/sector_aliases.toml`` (``alias = "section name or letter"``), read by
``SectorVocabulary.for_record``; a label no alias places is kept on its item as the tag ``sector:<label>``
(``UNPLACED_TAG``), never dropped.

Phrases and texts are compared as light stems (``sector_tokens``), so that "nurses", "nursing" and
"nurse" meet and "call center" meets "call centres".
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from shadowmatch_kb.errors import InputError, UsageError
from shadowmatch_kb.text.alias_files import aliases_file
from shadowmatch_kb.text.sentences import MAX_TOKEN_CHARS

__all__ = [
    "ALIASES_FILE",
    "UNPLACED_TAG",
    "PlacedSectors",
    "Section",
    "SectorLabel",
    "SectorTerm",
    "SectorVocabulary",
    "load_sector_vocabulary",
    "sector_tokens",
]

_VOCABULARY_FILE = "sector_labels.toml"
# The analysts' own aliases of a knowledge base, in its corpus/ folder (the record).
ALIASES_FILE = "sector_aliases.toml"
# The tag that keeps a sector label the vocabulary cannot place ("sector:space tourism") on its item.
UNPLACED_TAG = "sector:"
# Weights of a phrase as evidence: a synonym or label term, and a weak word that may mean other things.
_STRONG = 1.0
_WEAK = 0.4
# Labels normalised per vocabulary before the cache starts afresh: stored items repeat a few dozen labels
# thousands of times, while the labels people type are unbounded.
_CACHED_LABELS = 4096

_SPELLING = {
    "center": "centre",
    "centers": "centres",
    "labor": "labour",
    "organization": "organisation",
    "organizations": "organisations",
    "theater": "theatre",
    "theaters": "theatres",
    "fulfillment": "fulfilment",
    "defense": "defence",
    "catalog": "catalogue",
    "advisor": "adviser",
    "advisors": "advisers",
    "counselor": "counsellor",
    "counselors": "counsellors",
    "counseling": "counselling",
    "paediatrician": "pediatrician",
    "tires": "tyres",
    "harbor": "harbour",
    "programme": "program",
    "programmes": "programs",
    "localization": "localisation",
    "cafés": "cafe",
    "café": "cafe",
}
# Words whose final "s" is not a plural; stripping it would make "news" meet "new".
_KEEP_S = frozenset(
    "news goods series species means lens gas bus plus thus always sales physics ethics analytics logistics "
    "robotics economics politics athletics mathematics olympics electronics mechanics diabetes arts gps".split()
)
# -ing words whose stem is a different everyday word ("marketing" is not "market", "cleaning" not "clean").
_KEEP_ING = frozenset(
    "marketing accounting consulting programming cleaning machining writing marking interpreting landscaping "
    "betting meeting training learning funding timing setting vetting letting".split()
)
_TOKEN = re.compile(r"[^\W_]+")
# "IT" in capitals is information technology, "it" is a pronoun; the marker keeps them apart.
_IT_ACRONYM = re.compile(r"\bIT\b")
_IT_MARKER = " infotech "


@dataclass(frozen=True)
class Section:
    """One ISIC section: its letter, ISIC title, friendly name and a description for the model."""

    code: str
    isic: str
    name: str
    description: str
    synonyms: tuple[str, ...] = ()  # as written in the vocabulary, for people to read (``describe``)


@dataclass(frozen=True)
class PlacedSectors:
    """Sector labels as given, sorted: the section names they mean (in order, once) and those none places."""

    names: list[str] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)

    @property
    def unplaced_tags(self) -> list[str]:
        """The tags that keep the unplaced labels on their item."""
        return [UNPLACED_TAG + label for label in self.unplaced]


@dataclass(frozen=True)
class SectorLabel:
    """A finer everyday label inside one section ("nursing" in Q), with a description for the model."""

    name: str
    section: str
    description: str


@dataclass(frozen=True)
class SectorTerm:
    """What a vocabulary phrase points at: a section (None for an ignore-phrase), a label, a weight."""

    section: str | None
    label: int  # index into the labels, or -1 for a section-wide synonym
    weight: float


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """Fold plurals and -ing/-ed endings; deliberately crude but applied alike to terms and texts."""
    word = _SPELLING.get(word, word)
    if len(word) <= 3 or word in _KEEP_S or word in _KEEP_ING:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith(("shes", "ches", "xes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is", "ics")):
        word = word[:-1]
    if word in _KEEP_ING:
        return word
    for ending in ("ing", "ed"):
        base = word[: -len(ending)]
        if word.endswith(ending) and len(base) >= 4 and any(c in "aeiouy" for c in base):
            if base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]
            word = base
            break
    if len(word) >= 5 and word.endswith("e") and word[-2] not in "aeiou":
        word = word[:-1]
    return word


def sector_tokens(text: str) -> list[str]:
    """Lower-cased, stemmed word tokens of ``text``, as the vocabulary's phrases are stored."""
    if not text.isupper():
        text = _IT_ACRONYM.sub(_IT_MARKER, text)
    # A word longer than any real one is junk, and would only fill the stem cache with long strings.
    return [_stem(t) for t in _TOKEN.findall(text.lower()) if len(t) <= MAX_TOKEN_CHARS]


def _alias_keys(label: str) -> set[str]:
    """Lookup keys of a label as written and lower-cased ("IT" and "it" tokenise apart)."""
    return {" ".join(sector_tokens(label)), " ".join(sector_tokens(label.lower()))}


def load_sector_vocabulary() -> dict[str, Any]:
    """The raw vocabulary shipped with the package (sections, labels, ignore-phrases) as parsed TOML."""
    from importlib.resources import files

    text = files("shadowmatch_kb.text").joinpath(_VOCABULARY_FILE).read_text(encoding="utf-8")
    return tomllib.loads(text)


class SectorVocabulary:
    """ISIC sections, their finer labels and phrases: normalises labels, counts phrases; no model needed."""

    def __init__(
        self,
        sections: dict[str, Section],
        labels: list[SectorLabel],
        terms: dict[tuple[str, ...], SectorTerm],
        aliases: dict[str, str],
        *,
        analyst_aliases: dict[str, str] | None = None,
    ) -> None:
        self.sections = sections
        self.labels = labels
        self.terms = terms
        self.codes = sorted(sections)
        self._aliases = aliases  # normalised surface form -> section code
        # A knowledge base's own aliases as its analysts wrote them -> section code (``for_record``).
        self.analyst_aliases = dict(analyst_aliases or {})
        self._first_words = frozenset(key[0] for key in terms)
        self._longest = max(len(key) for key in terms)
        self._normalised: dict[str, str | None] = {}

    @classmethod
    def load(cls) -> SectorVocabulary:
        """The vocabulary shipped with the package, read once per process."""
        return _shipped()

    @classmethod
    def for_record(cls, corpus_dir: Path | None) -> SectorVocabulary:
        """The shipped vocabulary with the aliases of ``corpus_dir/sector_aliases.toml``, when there is one.

        Read again whenever the file changes (a server sees an analyst's new alias); a file that cannot be
        read, or an alias that places nothing or contradicts the vocabulary, is an ``InputError``.
        """
        found = aliases_file(corpus_dir, ALIASES_FILE)
        return _shipped() if found is None else _with_aliases_file(*found)

    def with_aliases(self, aliases: dict[str, str]) -> SectorVocabulary:
        """This vocabulary and ``aliases`` (alias -> a section's name, letter or alias); ValueError if one
        places nothing, is too short to tell apart from a section letter, or already means another section."""
        merged = dict(self._aliases)
        added = dict(self.analyst_aliases)
        for alias, target in aliases.items():
            code = self._code(target) if isinstance(target, str) else None
            if code is None:
                raise ValueError(
                    f"alias {alias!r} should name a section (its name or letter), not {target!r}: "
                    f"use one of {self.names_line()}"
                )
            keys = _alias_keys(alias) - {""}
            if len(alias.strip()) < 2 or not keys:
                raise ValueError(f"alias {alias!r} is too short: give a word or a phrase")
            for key in keys:
                taken = merged.get(key)
                if taken is not None and taken != code:
                    raise ValueError(
                        f"alias {alias!r} already means {self.sections[taken].name}; "
                        f"it cannot also mean {self.sections[code].name}"
                    )
                merged[key] = code
            added[" ".join(alias.split())] = code
        return SectorVocabulary(self.sections, self.labels, self.terms, merged, analyst_aliases=added)

    @classmethod
    def from_raw(cls, data: dict[str, Any]) -> SectorVocabulary:
        """A vocabulary from parsed TOML shaped like ``sector_labels.toml``; ValueError if it contradicts itself."""
        builder = _VocabularyBuilder()
        for section in data["section"]:
            builder.add_section(section)
        for label in data["label"]:
            builder.add_label(label)
        for phrase in data.get("ignore", {}).get("phrases", []):
            builder.add_ignored(phrase)
        return builder.build()

    def names(self) -> list[str]:
        """The friendly section names, in ISIC order."""
        return [self.sections[code].name for code in self.codes]

    def normalise(self, label: str) -> str | None:
        """The friendly section name for a letter, ISIC title, friendly name, synonym or label; None if unknown."""
        try:
            return self._normalised[label]
        except KeyError:
            pass
        if len(self._normalised) >= _CACHED_LABELS:
            self._normalised.clear()
        # Returned from the local: another reading thread may clear the cache before this one reads it back.
        found = self._normalised[label] = self._lookup(label)
        return found

    def _lookup(self, label: str) -> str | None:
        code = self._code(label)
        return self.sections[code].name if code else None

    def _code(self, label: str) -> str | None:
        text = label.strip()
        if not text:
            return None
        if len(text) == 1:
            return self._aliases.get(text.lower())
        return next((self._aliases[k] for k in _alias_keys(text) if k in self._aliases), None)

    def names_line(self) -> str:
        """The section names on one line; "; " between them, as some names hold a comma."""
        return "; ".join(self.names())

    def section_name(self, label: str) -> str:
        """The section name of ``label`` as people write it; a ``UsageError`` listing the names if none."""
        found = self.normalise(label)
        if found is None:
            shown = " ".join(label.split())[:100]
            raise UsageError(
                f"unknown sector {shown!r}: use one of {self.names_line()} "
                "(or a section's ISIC letter, or an alias that `smkb sectors` lists)"
            )
        return found

    def place(self, labels: Iterable[str]) -> PlacedSectors:
        """The section names ``labels`` mean, in order and once; the labels none places, as written, once."""
        names: list[str] = []
        unplaced: list[str] = []
        for label in labels:
            text = " ".join(label.split())
            if not text:
                continue
            name = self.normalise(text)
            if name is None:
                if text.lower() not in (u.lower() for u in unplaced):
                    unplaced.append(text)
            elif name not in names:
                names.append(name)
        return PlacedSectors(names, unplaced)

    def split_list(self, text: str) -> list[str]:
        """Sectors typed as one comma- or semicolon-separated list, where a name may hold commas of its own
        ("IT, telecoms and media, education" is two): the longest run of parts that names a sector wins."""
        found: list[str] = []
        for chunk in text.split(";"):
            parts = [part.strip() for part in chunk.split(",") if part.strip()]
            start = 0
            while start < len(parts):
                end = next(
                    (e for e in range(len(parts), start + 1, -1) if self.normalise(", ".join(parts[start:e]))),
                    start + 1,
                )
                found.append(", ".join(parts[start:end]))
                start = end
        return found

    def describe(self) -> list[dict[str, Any]]:
        """Each section with its letter, ISIC title, the aliases the vocabulary ships and the analysts' own."""
        finer: dict[str, list[str]] = defaultdict(list)
        for label in self.labels:
            finer[label.section].append(label.name)
        return [
            {
                "code": code,
                "name": self.sections[code].name,
                "isic": self.sections[code].isic,
                "aliases": list(dict.fromkeys([*self.sections[code].synonyms, *finer[code]])),
                "analyst_aliases": sorted(a for a, c in self.analyst_aliases.items() if c == code),
            }
            for code in self.codes
        ]

    def phrase_counts(self, tokens: list[str]) -> dict[tuple[str, ...], int]:
        """How often each phrase occurs in ``sector_tokens`` of a text, longest match first, ignore-phrases too."""
        counts: dict[tuple[str, ...], int] = defaultdict(int)
        i, n = 0, len(tokens)
        while i < n:
            step = 1
            if tokens[i] in self._first_words:
                for length in range(min(self._longest, n - i), 0, -1):
                    key = tuple(tokens[i : i + length])
                    if key in self.terms:
                        counts[key] += 1
                        step = length
                        break
            i += step
        return counts


class _VocabularyBuilder:
    """Collects sections, labels and their phrases from the TOML, checking that no phrase is claimed twice."""

    def __init__(self) -> None:
        self.sections: dict[str, Section] = {}
        self.labels: list[SectorLabel] = []
        self.terms: dict[tuple[str, ...], SectorTerm] = {}
        self.aliases: dict[str, str] = {}
        self.weak_aliases: list[tuple[str, str]] = []

    def add_term(self, phrase: str, term: SectorTerm) -> None:
        key = tuple(sector_tokens(phrase))
        if not key:
            return
        old = self.terms.get(key)
        if old is None:
            self.terms[key] = term
        elif old.section != term.section:
            raise ValueError(f"sector vocabulary: {phrase!r} points at sections {old.section} and {term.section}")
        # The same words listed twice in one section: keep the finer label and the stronger weight.
        elif term.label >= 0 or term.weight > old.weight:
            label = term.label if term.label >= 0 else old.label
            self.terms[key] = SectorTerm(term.section, label, max(term.weight, old.weight))

    def add_section(self, raw: dict[str, Any]) -> None:
        code = raw["code"]
        synonyms = (*raw.get("synonyms", []), *raw.get("weak", []))
        self.sections[code] = Section(code, raw["isic"], raw["name"], raw["description"], synonyms)
        for phrase in raw.get("synonyms", []):
            self.add_term(phrase, SectorTerm(code, -1, _STRONG))
        for phrase in raw.get("weak", []):
            self.add_term(phrase, SectorTerm(code, -1, _WEAK))
            self.weak_aliases += [(key, code) for key in _alias_keys(phrase)]
        for surface in (raw["isic"], raw["name"], f"section {code}", *raw.get("synonyms", [])):
            self.aliases.update(dict.fromkeys(_alias_keys(surface), code))

    def add_label(self, raw: dict[str, Any]) -> None:
        code = raw["section"]
        if code not in self.sections:
            raise ValueError(f"sector vocabulary: label {raw['name']!r} names unknown section {code!r}")
        index = len(self.labels)
        self.labels.append(SectorLabel(raw["name"], code, raw["description"]))
        for phrase in [raw["name"], *raw.get("terms", [])]:
            self.add_term(phrase, SectorTerm(code, index, _STRONG))
            for key in _alias_keys(phrase):
                self.aliases.setdefault(key, code)
        for phrase in raw.get("weak", []):
            self.add_term(phrase, SectorTerm(code, index, _WEAK))
            self.weak_aliases += [(key, code) for key in _alias_keys(phrase)]

    def add_ignored(self, phrase: str) -> None:
        words = tuple(sector_tokens(phrase))
        # An ignore-phrase only matters where it is longer than the term it hides.
        if words and words not in self.terms:
            self.terms[words] = SectorTerm(None, -1, 0.0)

    def build(self) -> SectorVocabulary:
        # Weak words name a section only when nothing stronger claims them.
        for key, code in self.weak_aliases:
            self.aliases.setdefault(key, code)
        # A single letter names a section only when asked to normalise, never inside a text.
        for code in self.sections:
            self.aliases[code.lower()] = code
        return SectorVocabulary(self.sections, self.labels, self.terms, self.aliases)


@lru_cache(maxsize=1)
def _shipped() -> SectorVocabulary:
    return SectorVocabulary.from_raw(load_sector_vocabulary())


@lru_cache(maxsize=8)
def _with_aliases_file(path: str, _mtime_ns: int, _size: int) -> SectorVocabulary:
    """The shipped vocabulary with one aliases file (keyed by its time and size, so an edit is read anew)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError(path, "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        hint = 'write one alias a line: "alias" = "section name or letter"'
        raise InputError(path, f"not valid TOML ({exc}); {hint}") from None
    try:
        return _shipped().with_aliases(data)
    except ValueError as exc:
        raise InputError(path, str(exc)) from None
