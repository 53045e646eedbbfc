"""The theme vocabulary: near-synonyms merged under one name, and themes too general to rank.

Themes are free labels, written by a post's author, by enrichment or by an analyst, so one idea arrives
spelled many ways ("AI", "A.I.", "Artificial Intelligence"). ``ThemeVocabulary`` gives each label its
``canonical`` name: labels that differ only in case, spacing, hyphens, acronym dots, plurals or
labor/labour-style spelling fold together by themselves (``theme_key``), and the merges of
``theme_aliases.toml`` (shipped with the package) join words that differ ("AI" -> "artificial intelligence").
A knowledge base adds merges of its own in ``corpus/theme_aliases.toml``, read by ``for_record``::

    "gen AI" = "generative AI"        # one merge a line: alias = canonical theme
    [uninformative]
    themes = ["digital"]              # also kept out of the tracker's ranking

Uninformative themes ("technology", "artificial intelligence") stay on their items and in filters; the
tracker leaves them out of its theme series, as in a knowledge base about how AI changes work they name
the corpus rather than a signal within it.

A label no merge names keeps its own spelling (tidied of extra spaces): ``canonical`` never invents a
name, so "Workplace Trends" stays as written while "work culture" becomes "workplace culture".
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from shadowmatch_kb.errors import InputError
from shadowmatch_kb.text.alias_files import aliases_file

__all__ = ["ALIASES_FILE", "ThemeVocabulary", "closest_themes", "merge_spellings", "theme_key"]

_VOCABULARY_FILE = "theme_aliases.toml"
# The analysts' own merges of a knowledge base, in its corpus/ folder (the record).
ALIASES_FILE = "theme_aliases.toml"
# Labels folded per vocabulary before the cache starts afresh: stored items repeat a few hundred themes.
_CACHED_LABELS = 4096

_WORD = re.compile(r"[^\W_]+")
# A single letter followed by a dot, as in "A.I." or "M.B.A.": the dots go, the letters join.
_ACRONYM_DOT = re.compile(r"(?<![^\W_])([^\W\d_])\.")
# American and British spellings of the same word.
_SPELLING = {
    "labor": "labour",
    "aging": "ageing",
    "behavior": "behaviour",
    "center": "centre",
    "defense": "defence",
    "program": "programme",
}
# Words whose final "s" is not a plural.
_KEEP_S = frozenset(
    "news goods series species means lens gas bus plus always sales physics ethics analytics logistics robotics "
    "economics politics mathematics electronics mechanics diabetes arts gps saas devops bias chaos canvas".split()
)


def _fold_word(word: str) -> str:
    word = _SPELLING.get(word, word)
    if word.endswith(("ization", "izations")):
        word = word.replace("ization", "isation")
    if len(word) <= 3 or word in _KEEP_S:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@lru_cache(maxsize=16384)
def theme_key(label: str) -> str:
    """The folded form two spellings of one theme share ("A.I. Agents", "ai-agent" -> "ai agent")."""
    text = _ACRONYM_DOT.sub(r"\1", label).replace("&", " and ").casefold()
    return " ".join(_fold_word(word) for word in _WORD.findall(text))


def _tidy(label: str) -> str:
    return " ".join(label.split())


@dataclass(frozen=True)
class _Parsed:
    """Merges and uninformative themes read from one analysts' file, each with where it was written."""

    merges: dict[str, str]  # alias key -> canonical name as written (the names' own keys included)
    uninformative: set[str]  # keys, as the analyst wrote them
    places: dict[str, str]  # alias key -> "file:line"


class ThemeVocabulary:
    """Merges and uninformative themes: the canonical name of a label, and whether the tracker ranks it."""

    def __init__(self, merges: dict[str, str], uninformative: Iterable[str]) -> None:
        # Every key points at its final name (chains resolved when built), the name's own key included.
        self._merges = dict(merges)
        self._uninformative = frozenset(uninformative)
        self._canonical: dict[str, str] = {}

    @classmethod
    def load(cls) -> ThemeVocabulary:
        """The vocabulary shipped with the package, read once per process."""
        return _shipped()

    @classmethod
    def for_record(cls, corpus_dir: Path | None) -> ThemeVocabulary:
        """The shipped vocabulary with the merges of ``corpus_dir/theme_aliases.toml``, when there is one.

        Read again whenever the file changes; a file that cannot be read or holds a malformed line is an
        ``InputError`` naming the file and the line.
        """
        found = aliases_file(corpus_dir, ALIASES_FILE)
        return _shipped() if found is None else _with_aliases_file(*found)

    @classmethod
    def with_aliases_text(cls, text: str, source: str) -> ThemeVocabulary:
        """The shipped vocabulary with the merges of an aliases file's ``text`` (``source`` names it in errors)."""
        return _shipped()._extended(_parse_analyst_file(text, source))

    def canonical(self, label: str) -> str:
        """The theme's one name: its merge's name, else the label as written, tidied ("" for a blank one)."""
        try:
            return self._canonical[label]
        except KeyError:
            pass
        if len(self._canonical) >= _CACHED_LABELS:
            self._canonical.clear()
        tidy = _tidy(label)
        found = self._canonical[label] = self._merges.get(theme_key(tidy), tidy) if tidy else ""
        return found

    def naming(self, known: Iterable[str]) -> Callable[[str], str]:
        """``canonical``, then the spelling the knowledge base already uses for that theme (``known``), so an
        analyst's "Productivity Gains" joins the stored "productivity gains" instead of starting a second one."""
        spelled = {theme_key(label): label for label in known}

        def name(label: str) -> str:
            found = self.canonical(label)
            return spelled.get(theme_key(found), found) if found else found

        return name

    def canonical_list(self, labels: Iterable[str]) -> list[str]:
        """The canonical names of ``labels``, in order, each once (two spellings of one theme are one)."""
        names: dict[str, str] = {}
        for label in labels:
            name = self.canonical(label)
            if name:
                names.setdefault(theme_key(name), name)
        return list(names.values())

    def is_uninformative(self, label: str) -> bool:
        """True for a theme kept out of the tracker's ranking ("technology", "AI")."""
        return theme_key(self.canonical(label)) in self._uninformative

    def merges(self) -> dict[str, list[str]]:
        """Each merged name with the folded aliases that lead to it (for people to read)."""
        found: dict[str, list[str]] = {}
        for key, name in sorted(self._merges.items()):
            if key != theme_key(name):
                found.setdefault(name, []).append(key)
        return found

    def uninformative(self) -> list[str]:
        """The folded keys of the uninformative themes."""
        return sorted(self._uninformative)

    def _extended(self, parsed: _Parsed) -> ThemeVocabulary:
        """This vocabulary with a file's merges (an analyst's merge wins over a shipped one of the same alias)."""
        merges = {**self._merges, **parsed.merges}
        # An analyst's name may itself be an alias ("genai" = "gen AI"): every key follows to its final name.
        final = {key: _follow(merges, key, parsed.places) for key in merges}
        # An uninformative theme is known by its final name, whichever spelling listed it.
        uninformative = {theme_key(final[key]) if key in final else key for key in self._uninformative}
        uninformative |= {theme_key(final[key]) if key in final else key for key in parsed.uninformative}
        return ThemeVocabulary(final, uninformative)


def _follow(merges: dict[str, str], key: str, places: dict[str, str]) -> str:
    name, seen = merges[key], [key]
    while (step := theme_key(name)) in merges and merges[step] != name:
        if step in seen:
            raise InputError(
                places.get(key, "theme aliases"), f"the merges of {key!r} go round in a circle; name the theme once"
            )
        seen.append(step)
        name = merges[step]
    return name


def _parse_shipped(data: dict[str, Any]) -> ThemeVocabulary:
    merges: dict[str, str] = {}
    for entry in data.get("merge", []):
        name = _tidy(entry["name"])
        for alias in [name, *entry.get("aliases", [])]:
            key = theme_key(alias)
            if merges.get(key, name) != name:
                raise ValueError(f"theme vocabulary: {alias!r} is merged into {merges[key]!r} and {name!r}")
            merges[key] = name
    uninformative = {theme_key(merges.get(theme_key(t), t)) for t in data.get("uninformative", {}).get("themes", [])}
    return ThemeVocabulary(merges, uninformative)


_AT_LINE = re.compile(r" \(at line (\d+), column \d+\)")
_HINT = 'write one merge a line, "alias" = "canonical theme", and [uninformative] themes = ["..."]'


def _parse_analyst_file(text: str, source: str) -> _Parsed:
    """Merges and uninformative themes of an analysts' aliases file; an ``InputError`` naming the line if malformed."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _AT_LINE.search(str(exc))
        where = f"{source}:{found.group(1)}" if found else source
        raise InputError(where, f"not valid TOML ({_AT_LINE.sub('', str(exc))}); {_HINT}") from None
    lines = text.splitlines()
    named: dict[str, str] = {}  # each canonical name's own key, so that it stays a name
    merges: dict[str, str] = {}
    places: dict[str, str] = {}
    uninformative: set[str] = set()
    for alias, value in data.items():
        where = f"{source}:{_line_of(lines, alias)}"
        if alias == "uninformative" and isinstance(value, dict):
            themes = value.get("themes")
            if set(value) != {"themes"} or not isinstance(themes, list) or not all(isinstance(t, str) for t in themes):
                raise InputError(where, f"[uninformative] holds one list of names, themes = [...]; {_HINT}")
            uninformative.update(key for key in map(theme_key, themes) if key)
            continue
        if not isinstance(value, str) or not theme_key(value):
            raise InputError(where, f"alias {alias!r} should name a theme in quotes, not {value!r}; {_HINT}")
        key = theme_key(alias)
        if not key:
            raise InputError(where, f"alias {alias!r} has no words to match")
        if key in merges and theme_key(merges[key]) != theme_key(value):
            raise InputError(where, f"alias {alias!r} is already merged into {merges[key]!r} at {places[key]}")
        merges[key], places[key] = _tidy(value), where
        named.setdefault(theme_key(value), _tidy(value))
    return _Parsed({**named, **merges}, uninformative, places)


def _line_of(lines: list[str], key: str) -> int:
    """The line a top-level key is written on (bare or quoted), for errors; 1 when it cannot be told."""
    for number, line in enumerate(lines, start=1):
        written = line.strip()
        if written in (f"[{key}]",) or any(
            written.startswith(form) and written[len(form) :].lstrip().startswith("=")
            for form in (f'"{key}"', f"'{key}'", key)
        ):
            return number
    return 1


@lru_cache(maxsize=1)
def _shipped() -> ThemeVocabulary:
    from importlib.resources import files

    text = files("shadowmatch_kb.text").joinpath(_VOCABULARY_FILE).read_text(encoding="utf-8")
    return _parse_shipped(tomllib.loads(text))


@lru_cache(maxsize=8)
def _with_aliases_file(path: str, _mtime_ns: int, _size: int) -> ThemeVocabulary:
    """The shipped vocabulary with one aliases file (keyed by its time and size, so an edit is read anew)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError(path, "not UTF-8 text") from None
    return ThemeVocabulary.with_aliases_text(text, path)


def merge_spellings(counts: dict[str, int]) -> dict[str, int]:
    """Counts per theme with the spellings of one theme ("Productivity Gains", "productivity gains") added
    together under the commonest, most first."""
    totals: dict[str, int] = {}
    spellings: dict[str, dict[str, int]] = {}
    for label, count in counts.items():
        key = theme_key(label)
        totals[key] = totals.get(key, 0) + count
        spellings.setdefault(key, {})[label] = count
    named = {max(spellings[key].items(), key=lambda kv: (kv[1], kv[0]))[0]: total for key, total in totals.items()}
    return dict(sorted(named.items(), key=lambda kv: (-kv[1], kv[0])))


def closest_themes(theme: str, counts: dict[str, int], vocabulary: ThemeVocabulary | None = None) -> str:
    """The one-line error for a theme no item has: the themes items have that are spelled most like it, else the
    commonest that say something (every item is about "artificial intelligence": no help to someone looking)."""
    import difflib

    near = difflib.get_close_matches(theme_key(theme), [theme_key(t) for t in counts], n=5, cutoff=0.6)
    named = {theme_key(t): t for t in counts}
    telling = [t for t in counts if vocabulary is None or not vocabulary.is_uninformative(t)]
    shown = [named[key] for key in near] or telling[:5]
    kind = "closest" if near else "most common"
    listed = ", ".join(shown) if shown else "none yet"
    return f"no item has the theme {theme!r}; {kind} themes: {listed} (`smkb stats` lists them)"
