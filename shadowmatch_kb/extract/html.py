"""Main text and metadata of one article from its HTML, with trafilatura.

Settings: ``favor_precision=True`` and no comments. On the Zyte article-extraction benchmark
(181 pages, 4-gram shingle F1) that scored best of trafilatura's presets with this version; the
default preset keeps more page furniture (share bars, reprint notices) for a small gain in recall.
When the precision preset keeps fewer than ``MIN_ARTICLE_WORDS`` words, the default preset's text is
taken if it reaches that minimum and is not mostly link text: the precision preset now and then keeps
only a reprint notice or a caption of an article the default preset reads in full.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shadowmatch_kb.errors import InputError

if TYPE_CHECKING:
    from trafilatura.settings import Document

__all__ = ["MIN_ARTICLE_WORDS", "ExtractedArticle", "extract_article"]

# trafilatura and the libraries it drives log warnings and errors for ordinary bad pages; the caller
# gets an InputError instead, so their records would only be noise in an application's logs.
_QUIET_LOGGERS = ("trafilatura", "htmldate", "courlan", "justext", "readability")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
_WORD = re.compile(r"\w+")
# Shorter main texts are error pages, cookie walls or captions: the crawler skips them as "not an
# article" (crawl.pages reads this number). Real short news items run from 60 words (18 of the 181 pages
# of the Zyte benchmark have under 125), so the bar stays low. A precision text that short is a reason
# to ask the default preset too, or the page would be skipped for nothing.
MIN_ARTICLE_WORDS = 50
# A default-preset text whose words are mostly the text of links is a list of headlines (an index page)
# that the precision preset was right to drop: measured at 0.62 on such a list, at most 0.24 on the
# real articles the fallback recovers.
MAX_FALLBACK_LINK_SHARE = 0.5


@dataclass
class ExtractedArticle:
    """The article found in a page: its text and whatever metadata the page states."""

    title: str | None
    text: str
    published: str | None  # YYYY-MM-DD
    author: str | None
    site: str | None
    url: str | None
    language: str | None  # as the page declares it, e.g. "en" or "pt-br"
    description: str | None


@contextmanager
def _quiet_logs() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in _QUIET_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _clean(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value or None


def _declared_language(tree: Any) -> str | None:
    candidates = [tree.get("lang"), tree.get("{http://www.w3.org/XML/1998/namespace}lang")]
    candidates += tree.xpath('//meta[@http-equiv="content-language" or @http-equiv="Content-Language"]/@content')
    candidates += tree.xpath('//meta[@property="og:locale"]/@content')
    for candidate in candidates:
        value = (candidate or "").split(",")[0].strip()
        if _LANGUAGE.match(value):
            return value.replace("_", "-").lower()
    return None


def _run_trafilatura(tree: Any, url: str | None) -> Document | None:
    import trafilatura  # heavy (lxml, htmldate, justext); only commands that extract pay for it
    from trafilatura.settings import Document

    def run(favor_precision: bool) -> Document | None:
        found = trafilatura.bare_extraction(
            tree, url=url, with_metadata=True, include_comments=False, favor_precision=favor_precision
        )
        return found if isinstance(found, Document) and (found.text or "").strip() else None

    precise = run(favor_precision=True)
    if precise is not None and _word_count(precise) >= MIN_ARTICLE_WORDS:
        return precise
    # The precision preset now and then keeps only a reprint notice or a byline of a page the default
    # preset reads in full (3 words against 619 on one page), or drops all of a thin page.
    default = run(favor_precision=False)
    if precise is None:
        return default
    # Only a default text that makes the page an article replaces the precision text: when both are
    # short the page is skipped either way, and the precision text is the cleaner one (on a Japanese
    # page whose words \w+ counts as a few long runs, the default preset only added page furniture).
    if default is None or _word_count(default) < MIN_ARTICLE_WORDS:
        return precise
    return precise if _link_share(default, tree) > MAX_FALLBACK_LINK_SHARE else default


def _word_count(document: Document) -> int:
    return len(_WORD.findall(document.text or ""))


def _link_share(document: Document, tree: Any) -> float:
    """The share of a text's words on lines that are the whole text of one of the page's links."""
    anchors = {" ".join(anchor.text_content().split()).lower() for anchor in tree.xpath("//a[@href]")}
    linked = total = 0
    for line in (document.text or "").splitlines():
        words = len(_WORD.findall(line))
        total += words
        # trafilatura writes list items as "- item"; the link's own text has no such dash.
        if words and " ".join(line.split()).lower().removeprefix("- ") in anchors:
            linked += words
    return linked / total if total else 0.0


def extract_article(html: str, *, url: str | None = None, tree: Any = None) -> ExtractedArticle:
    """Extract the main text and metadata of an article page; raise InputError when there is none.

    ``tree`` is the page already parsed by ``trafilatura.utils.load_html``, when the caller has it.
    """
    from trafilatura.utils import load_html

    source = url or "html"
    with _quiet_logs():
        if tree is None:
            tree = load_html(html) if html and html.strip() else None
        if tree is None:
            raise InputError(source, "no article text found")
        language = _declared_language(tree)
        document = _run_trafilatura(tree, url)
    if document is None:
        raise InputError(source, "no article text found")
    text = (document.text or "").strip()
    date = _clean(document.date)
    return ExtractedArticle(
        title=strip_site_name(_clean(document.title), _clean(document.sitename)),
        text=text,
        published=date[:10] if date and _DATE.match(date) else None,
        author=_clean(document.author),
        site=_clean(document.sitename),
        url=_clean(document.url) or url,
        language=language,
        description=_clean(document.description),
    )


_SEPARATORS = (" | ", " -- ", " - ", " — ", " – ", " :: ", " » ", ": ")


def _squashed(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _names_site(part: str, site: str) -> bool:
    """True when a title segment is the site's name (or its section, as in "CNN Politics")."""
    squashed_site = _squashed(site)
    words = [_squashed(w) for w in part.split()]
    return bool(squashed_site) and (
        squashed_site in _squashed(part) or any(len(w) >= 4 and w in squashed_site for w in words)
    )


def strip_site_name(title: str | None, site: str | None) -> str | None:
    """Drop the site's name that pages add before or after a headline ("… | CNN Politics").

    Only when the page names its site and the headline left is still several words long, so a
    title that merely contains a separator keeps its words.
    """
    if not title or not site:
        return title
    for sep in _SEPARATORS:
        head, found, tail = title.partition(sep) if sep == ": " else title.rpartition(sep)
        if not found:
            continue
        if sep == ": ":
            # The site's name as a prefix: "LinkNaija | Nigeria's news platform: Headline".
            candidate, name = tail, head
        elif sep == " » ":
            # Breadcrumbs: "Headline » Section » Site" keeps what stands before the first one.
            candidate, name = title.split(sep, 1)[0], tail
        else:
            candidate, name = head, tail
        if sep == ": " and _squashed(name) != _squashed(site):
            continue  # a colon is part of many headlines: strip only an exact site-name prefix
        if _names_site(name, site) and len(candidate.split()) >= 3 and not _names_site(candidate, site):
            return candidate.strip()
    return title
