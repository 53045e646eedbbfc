"""What a crawled page holds: an article (or why it is not one) and the links a site crawl follows.

``analyse_page`` is a pure function of the bytes, so the crawler can run it in worker processes
while it keeps fetching; it returns plain data that pickles cheaply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from shadowmatch_kb.errors import InputError
from shadowmatch_kb.extract.html import MIN_ARTICLE_WORDS

__all__ = ["PageAnalysis", "analyse_page", "links_of_page", "page_links"]

# An index page's "main text" is mostly headlines that link elsewhere: this share of its lines.
INDEX_LINK_SHARE = 0.5
_INDEX_MIN_LINES = 8
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass
class PageAnalysis:
    """The outcome of one page: an article's fields, or ``skip_reason``; links when asked for."""

    url: str
    skip_reason: str | None = None
    title: str | None = None
    text: str = ""
    published: str | None = None
    author: str | None = None
    site: str | None = None
    language: str | None = None
    description: str | None = None
    links: list[str] = field(default_factory=list)


def page_links(tree: Any, base_url: str) -> list[str]:
    """Absolute http(s) links of a parsed page, canonical, in page order, each once."""
    from shadowmatch_kb.fetch.safety import canonicalize_url

    bases = tree.xpath("//base/@href")
    base = urljoin(base_url, str(bases[0]).strip()) if bases else base_url
    seen: set[str] = set()
    links: list[str] = []
    for anchor in tree.xpath("//a[@href]"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith("#"):
            continue
        try:
            absolute = urljoin(base, href)
            if urlsplit(absolute).scheme not in ("http", "https"):
                continue
            url = canonicalize_url(absolute)
        except (ValueError, InputError):
            continue
        if url not in seen:
            seen.add(url)
            links.append(url)
    return links


def links_of_page(content: bytes, charset: str | None, url: str) -> list[str]:
    """Only the links of a page (no extraction): what a kept page offers again after a 304."""
    from trafilatura.utils import load_html

    from shadowmatch_kb.fetch.decode import decode_body

    html = decode_body(content, charset)
    tree = load_html(html) if html.strip() else None
    return page_links(tree, url) if tree is not None else []


def _anchor_texts(tree: Any) -> set[str]:
    texts = set()
    for anchor in tree.xpath("//a[@href]"):
        text = " ".join(anchor.text_content().split()).lower()
        if len(text) >= 3:
            texts.add(text)
    return texts


def _starts_with_link(line: str, anchors: set[str]) -> bool:
    # A headline list reads "- Headline — teaser": the line opens with the words of a link.
    line = line.removeprefix("- ").strip()
    words = line.split()
    return any(" ".join(words[:n]) in anchors for n in range(1, min(len(words), 16) + 1))


def _index_page_reason(text: str, anchors: set[str]) -> str | None:
    lines = [" ".join(line.split()).lower() for line in text.splitlines() if line.strip()]
    if len(lines) < _INDEX_MIN_LINES:
        return None
    linked = sum(1 for line in lines if _starts_with_link(line, anchors))
    if linked >= INDEX_LINK_SHARE * len(lines):
        return f"not an article: an index page ({linked} of its {len(lines)} lines open with a link)"
    return None


def _plain_text_page(content: str, url: str) -> PageAnalysis:
    lines = [line.strip() for line in content.splitlines()]
    first = next((line for line in lines if line), "")
    body = "\n".join(lines).strip()
    return PageAnalysis(url=url, title=first[:200] or None, text=body)


def analyse_page(content: bytes, charset: str | None, url: str, media_type: str, want_links: bool) -> PageAnalysis:
    """Extract the article of one fetched page and, when ``want_links``, the links it offers."""
    from shadowmatch_kb.extract.language import guess_language
    from shadowmatch_kb.fetch.decode import decode_body

    html = decode_body(content, charset)
    if media_type == "text/plain":
        page = _plain_text_page(html, url)
    else:
        page = _analyse_html(html, url, want_links)
        if page.skip_reason:
            return page
    words = len(_WORD.findall(page.text))
    if words < MIN_ARTICLE_WORDS:
        page.skip_reason = f"not an article: only {words} words of main text"
    if page.language is None:
        page.language = guess_language(page.text)
    return page


def _analyse_html(html: str, url: str, want_links: bool) -> PageAnalysis:
    from trafilatura.utils import load_html

    from shadowmatch_kb.extract.html import extract_article

    tree = load_html(html) if html.strip() else None
    if tree is None:
        return PageAnalysis(url=url, skip_reason="not an article: the page has no HTML to read")
    page = PageAnalysis(url=url)
    if want_links:
        page.links = page_links(tree, url)
    anchors = _anchor_texts(tree)
    try:
        # trafilatura works on copies of the tree, so one parse serves links, anchors and extraction.
        article = extract_article(html, url=url, tree=tree)
    except InputError as exc:
        page.skip_reason = f"not an article: {exc.reason}"
        return page
    page.title = article.title
    page.text = article.text
    page.published = article.published
    page.author = article.author
    page.site = article.site
    page.language = article.language
    page.description = article.description
    page.skip_reason = _index_page_reason(article.text, anchors)
    return page
