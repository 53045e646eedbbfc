"""robots.txt rules (RFC 9309): which paths of a site the crawler may fetch, and how slowly.

Pure parsing and matching, no network: the crawler fetches ``/robots.txt`` itself and hands the
status and body to ``policy_for_status``. ``urllib.robotparser`` is not used because it knows neither
``*``/``$`` patterns nor longest-match precedence, so it would disallow or allow the wrong pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = [
    "MAX_CRAWL_DELAY",
    "MAX_ROBOTS_BYTES",
    "RobotsPolicy",
    "RobotsRule",
    "policy_for_status",
    "product_token",
    "sitemap_lines",
]

# RFC 9309 2.5: crawlers must parse at least 500 KiB; a little more costs nothing.
MAX_ROBOTS_BYTES = 512 * 1024
# A site asking for one page an hour would stall a crawl for days; we stay polite but keep moving.
MAX_CRAWL_DELAY = 60.0

# Common misspellings are accepted because their authors clearly meant to restrict us.
_USER_AGENT_KEYS = frozenset({"user-agent", "useragent", "user agent", "user_agent"})
_DISALLOW_KEYS = frozenset({"disallow", "dissallow", "dissalow", "disalow", "diasllow", "disallaw"})
_ALLOW_KEYS = frozenset({"allow"})
_CRAWL_DELAY_KEYS = frozenset({"crawl-delay", "crawl_delay", "crawldelay", "crawl delay"})
_SITEMAP_KEYS = frozenset({"sitemap", "site-map", "site map", "site_map"})
# Every spelling above, mapped to the one directive it names.
_DIRECTIVES = {
    spelling: name
    for name, spellings in (
        ("user-agent", _USER_AGENT_KEYS),
        ("disallow", _DISALLOW_KEYS),
        ("allow", _ALLOW_KEYS),
        ("crawl-delay", _CRAWL_DELAY_KEYS),
        ("sitemap", _SITEMAP_KEYS),
    )
    for spelling in spellings
}

# RFC 9309 2.2.1: a product token in a User-agent line is letters, "_" and "-"; what follows is cut off.
_GROUP_TOKEN = re.compile(r"[A-Za-z_-]+")
# An HTTP token (RFC 9110 5.6.2): the whole product name a User-Agent header starts with, digits included.
_HTTP_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# A UTF-8 byte-order mark, whole or cut short, as text: decoded as UTF-8, replaced by U+FFFD when
# incomplete, or read as cp1252/Latin-1 ("\u00ef\u00bb\u00bf"). Google's parser skips any prefix of it.
_BOM_PREFIX = re.compile("^(?:\ufeff|\ufffd|\u00ef\u00bb\u00bf|\u00ef\u00bb|\u00ef)+")
_AUTHORITY = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*:)?//[^/?#]*")
_DELAY = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)")
_HEX = frozenset("0123456789abcdefABCDEF")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Printable ASCII that may stand literally in a path or query (RFC 3986 reserved plus unreserved);
# everything else is compared in its percent-encoded form.
_LITERAL = _UNRESERVED | frozenset(":/?#[]@!$&'()*+,;=")


def product_token(user_agent: str) -> str:
    """Return the lower-cased product token of a User-Agent value, whole ("Bot2/1.0 (+url)" -> "bot2")."""
    # Whole, not cut at the first digit: "Bot2" cut to "bot" would take the rules of every Bot, Bot3 ...
    found = _HTTP_TOKEN.match(user_agent.strip())
    return found.group(0).lower() if found else ""


def _group_agents(value: str) -> set[str]:
    """Return the names a User-agent line's value stands for ("*" for the catch-all group)."""
    if value.split(maxsplit=1)[:1] == ["*"]:
        return {"*"}  # Google's parser: "*" followed by a space and anything else is still the catch-all
    names = set()
    # Google's parser cuts the value at the first character outside [A-Za-z_-] (RFC 9309 2.2.1) ...
    cut = _GROUP_TOKEN.match(value)
    if cut:
        names.add(cut.group(0).lower())
    # ... and protego compares the name as written, so "User-agent: Bot2" still names a crawler "Bot2".
    whole = _HTTP_TOKEN.match(value)
    if whole:
        names.add(whole.group(0).lower())
    return names


def _normalise(text: str) -> str:
    """Spell a path (or a piece of a pattern) with one consistent percent-encoding."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "%":
            if i + 2 < len(text) and text[i + 1] in _HEX and text[i + 2] in _HEX:
                decoded = chr(int(text[i + 1 : i + 3], 16))
                # RFC 9309 2.2.2: escaped unreserved characters compare as themselves; others stay escaped.
                out.append(decoded if decoded in _UNRESERVED else "%" + text[i + 1 : i + 3].upper())
                i += 3
                continue
            out.append("%25")  # a lone % is a literal percent sign
        elif char in _LITERAL:
            out.append(char)
        else:
            out.append("".join(f"%{byte:02X}" for byte in char.encode("utf-8", errors="replace")))
        i += 1
    return "".join(out)


def _url_path(url: str) -> str:
    """Return the part of a URL that rules match: path plus query, never empty."""
    # Hand-split rather than urlsplit, which raises on some malformed hosts; a rules check must not.
    rest = url.split("#", 1)[0]
    authority = _AUTHORITY.match(rest)
    if authority:
        rest = rest[authority.end() :]
    path, question, query = rest.partition("?")
    if not path.startswith("/"):
        path = "/" + path
    # An empty query stays: a rule "/path?" matches "/path?" but not "/path" (Google's parser keeps it too).
    return path + question + query


@dataclass(frozen=True)
class RobotsRule:
    """One Allow or Disallow line; ``pattern`` is percent-normalised and may hold ``*`` and a final ``$``."""

    allow: bool
    pattern: str

    @classmethod
    def from_value(cls, allow: bool, value: str) -> RobotsRule:
        """Build a rule from the raw value of an Allow/Disallow line."""
        if not value.startswith(("/", "*")):
            # "Disallow: private/" is a common slip; reading it as "/private/" errs on the polite side.
            value = "/" + value
        anchored = value.endswith("$")
        body = value[:-1] if anchored else value
        pieces = [_normalise(piece) for piece in body.split("*")]
        return cls(allow=allow, pattern="*".join(pieces) + ("$" if anchored else ""))

    @property
    def specificity(self) -> int:
        """Return the rule's length in octets; the longest matching rule wins (RFC 9309 2.2.2)."""
        return len(self.pattern)

    def matches(self, path: str) -> bool:
        """Return True when the rule matches a normalised path (prefix match unless anchored by ``$``)."""
        anchored = self.pattern.endswith("$")
        pieces = (self.pattern[:-1] if anchored else self.pattern).split("*")
        first = pieces[0]
        if not path.startswith(first):
            return False
        position = len(first)
        if len(pieces) == 1:
            return position == len(path) if anchored else True
        # Leftmost matching of each literal piece is enough for patterns whose only wildcard is `*`,
        # and, unlike a backtracking regex, stays linear on a hostile file's "/*a*a*a*a*b".
        for piece in pieces[1:-1]:
            found = path.find(piece, position)
            if found < 0:
                return False
            position = found + len(piece)
        last = pieces[-1]
        if anchored:
            return len(path) - len(last) >= position and path.endswith(last)
        return path.find(last, position) >= 0


@dataclass
class RobotsPolicy:
    """The rules of one site's robots.txt that apply to our user agent."""

    rules: list[RobotsRule] = field(default_factory=list)
    crawl_delay: float | None = None
    sitemaps: list[str] = field(default_factory=list)
    crawl_delay_capped: bool = False  # the file asked for more than MAX_CRAWL_DELAY seconds
    truncated: bool = False  # the file was longer than MAX_ROBOTS_BYTES; the rest was ignored

    @classmethod
    def allow_all(cls) -> RobotsPolicy:
        """Return a policy that allows every path (no robots.txt, or a 4xx for it)."""
        return cls()

    @classmethod
    def deny_all(cls) -> RobotsPolicy:
        """Return a policy that disallows every path but /robots.txt (5xx or unreachable)."""
        return cls(rules=[RobotsRule(allow=False, pattern="/")])

    @classmethod
    def parse(cls, text: str, user_agent: str) -> RobotsPolicy:
        """Parse a robots.txt body and keep the group that applies to ``user_agent``; never raises."""
        text, truncated = _cap(text)
        groups, sitemaps = _read_groups(text)
        token = product_token(user_agent)
        ours = [group for group in groups if token and token in group.agents]
        if not ours:
            ours = [group for group in groups if "*" in group.agents]
        rules = [rule for group in ours for rule in group.rules]
        delays = [group.crawl_delay for group in ours if group.crawl_delay is not None]
        delay = delays[0] if delays else None
        capped = delay is not None and delay > MAX_CRAWL_DELAY
        return cls(
            rules=rules,
            crawl_delay=min(delay, MAX_CRAWL_DELAY) if delay is not None else None,
            sitemaps=sitemaps,
            crawl_delay_capped=capped,
            truncated=truncated,
        )

    def allows(self, url: str) -> bool:
        """Return True when the URL (absolute, or a path with optional query) may be fetched."""
        path = _normalise(_url_path(url))
        if path == "/robots.txt":
            return True  # RFC 9309 2.2.2: the rules file itself is always fetchable
        best: RobotsRule | None = None
        for rule in self.rules:
            if not rule.matches(path):
                continue
            if (
                best is None
                or rule.specificity > best.specificity
                or (rule.specificity == best.specificity and rule.allow and not best.allow)
            ):
                best = rule
        return best is None or best.allow


def policy_for_status(status: int, text: str | None, user_agent: str) -> RobotsPolicy:
    """Return the policy RFC 9309 2.3.1 prescribes for a robots.txt fetch outcome (status 0: unreachable)."""
    if 200 <= status < 300:
        return RobotsPolicy.parse(text or "", user_agent)
    if status == 429:
        # Too Many Requests says the server is struggling, like a 5xx; Google treats it so too.
        return RobotsPolicy.deny_all()
    if 400 <= status < 500:
        return RobotsPolicy.allow_all()
    if 300 <= status < 400:
        # A redirect the fetcher did not follow through (RFC 9309 2.3.1.2: more than five hops) makes
        # the file "unavailable", which the RFC treats like a 4xx.
        return RobotsPolicy.allow_all()
    # 5xx, unreachable (0) and anything nonsensical: assume complete disallow and retry later.
    return RobotsPolicy.deny_all()


@dataclass
class _Group:
    agents: set[str] = field(default_factory=set)
    rules: list[RobotsRule] = field(default_factory=list)
    crawl_delay: float | None = None


def _cap(text: str) -> tuple[str, bool]:
    """Keep at most MAX_ROBOTS_BYTES of UTF-8, dropping a line the cut would leave half-read."""
    if len(text) * 4 <= MAX_ROBOTS_BYTES:
        return text, False  # cheap: cannot exceed the cap even at four bytes a character
    data = text.encode("utf-8", errors="replace")
    if len(data) <= MAX_ROBOTS_BYTES:
        return text, False
    head = data[:MAX_ROBOTS_BYTES]
    if data[MAX_ROBOTS_BYTES : MAX_ROBOTS_BYTES + 1] not in (b"\n", b"\r"):
        # A half line could turn "Disallow: /private" into "Disallow: /", or lose its "$".
        cut = max(head.rfind(b"\n"), head.rfind(b"\r"))
        head = head[: cut + 1] if cut >= 0 else b""
    return head.decode("utf-8", errors="ignore"), True


def _parse_delay(value: str) -> float | None:
    """Return a Crawl-delay value in seconds, or None when it is not a plain non-negative number."""
    if not _DELAY.fullmatch(value):
        return None  # also refuses "nan", "inf", "-1", "1e9" and "1_0", which float() would accept
    return float(value)


def _directives(text: str) -> Iterator[tuple[str, str]]:
    """Yield the (directive, value) pairs of a robots.txt's lines that state a directive we read."""
    for raw in _BOM_PREFIX.sub("", text).splitlines():
        line = raw.split("#", 1)[0].strip()
        key, colon, value = line.partition(":")
        name = _DIRECTIVES.get(" ".join(key.split()).lower()) if colon else None
        if name is not None:
            yield name, value.strip()
            continue
        # A missing colon ("Disallow /private"): Google's parser and protego take whitespace for it in a
        # line without any colon, Google's only when the line is two words. We read two such words even
        # when the value holds a colon ("Sitemap https://...", "Disallow /a:b"), where both would split
        # at that colon and lose the line: obeying it is the polite reading.
        words = line.split()
        if len(words) == 2 and (name := _DIRECTIVES.get(words[0].lower())) is not None:
            yield name, words[1]


def sitemap_lines(text: str) -> list[str]:
    """Return the values of a robots.txt's Sitemap lines in order, each once, relative ones included."""
    found: list[str] = []
    for name, value in _directives(text):
        if name == "sitemap" and value and value not in found:
            found.append(value)
    return found


def _read_groups(text: str) -> tuple[list[_Group], list[str]]:
    """Split the file into user-agent groups and collect every Sitemap line."""
    groups: list[_Group] = []
    sitemaps: list[str] = []
    current: _Group | None = None
    in_agent_lines = False  # consecutive User-agent lines share one group
    for key, value in _directives(text):
        if key == "sitemap":
            # Sitemaps belong to no group (RFC 9309 2.3.5) and do not end one.
            if value.lower().startswith(("http://", "https://")) and value not in sitemaps:
                sitemaps.append(value)
        elif key == "user-agent":
            if current is None or not in_agent_lines:
                current = _Group()
                groups.append(current)
                in_agent_lines = True
            current.agents.update(_group_agents(value))
        elif current is None:
            continue  # rules before any User-agent line belong to nobody
        elif key in ("allow", "disallow"):
            in_agent_lines = False
            if value:  # an empty Disallow (or Allow) says nothing: everything stays allowed
                current.rules.append(RobotsRule.from_value(key == "allow", value))
        elif key == "crawl-delay":
            in_agent_lines = False
            delay = _parse_delay(value)
            if delay is not None and current.crawl_delay is None:
                current.crawl_delay = delay
    return groups, sitemaps
