"""An optional language-model backend: any OpenAI-compatible chat-completions endpoint.

Never used unless ``SMKB_LLM_URL`` names an endpoint. The model is asked for one JSON object in
our schema; the answer is validated field by field, and every Signals row must quote the item:
a row whose evidence is not found verbatim in the text is dropped, and a row that is kept carries
the whole sentence(s) of the text around its quote. Every failure (the network, an HTTP status,
a timeout, a body that is not JSON, a schema violation) raises ``BackendError`` with a one-line
reason, so the caller can fall back to the offline enrichment.
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from shadowmatch_kb.enrich.forces import FORCES
from shadowmatch_kb.enrich.themes import load_seed_themes
from shadowmatch_kb.errors import BackendError
from shadowmatch_kb.model import Signal
from shadowmatch_kb.text.sentences import split_sentences

__all__ = ["LlmEnrichment", "LlmSettings", "build_request", "enrich_with_llm"]

# Long articles are cut for the prompt; quotes from the part sent are still quotes of the whole text.
_MAX_TEXT_CHARS = 12_000
_MAX_ROWS = 8
_MAX_SIGNAL_WORDS = 7
_MAX_KEYWORDS = 15
_MAX_THEMES = 5
_MAX_SECTORS = 10
_MAX_SUMMARY_CHARS = 2_000
_MAX_LABEL_CHARS = 100
_MAX_CELL_CHARS = 400
# A quote of one or two words proves nothing about a row, even when it is verbatim.
_MIN_EVIDENCE_WORDS = 3

_SCHEMA = {
    "summary": "string: 3 to 5 sentences",
    "keywords": ["string: a key phrase"],
    "themes": ["string: a workforce-change theme"],
    "sectors": ["string: an economic sector or occupation"],
    "signals": [
        {
            "signal": "string: at most 7 words",
            "change": "string: from what to what",
            "horizon": "string: what may differ in 10 years",
            "driving_force": "string: one driving force",
            "evidence": "string: sentence(s) copied exactly from the article",
        }
    ],
}

_SYSTEM_PROMPT = """\
You read one article about how AI and technology change work, and describe it as a structured record.
Reply with a single JSON object and nothing else. Its shape:
{schema}

How to fill it:
- summary: 3 to 5 sentences of plain prose saying what the article reports, in the article's language.
- keywords: about 10 short key phrases from the article (at most {keywords}).
- themes: 3 short workforce-change themes, preferably from this list when one fits: {themes}.
- sectors: the industries or occupations the article concerns, such as "financial and insurance activities", \
"nursing" or "call centres"; an empty list when it names none.
- signals: the changes in work the article reports, at most {rows} rows, each with
  - signal: a name of at most {words} words;
  - change: from what to what;
  - horizon: what may be different in ten years; when the article states a year or a time frame, use it;
  - driving_force: the one force behind it, preferably one of: {forces};
  - evidence: one or two sentences copied character for character from the article that support the row.
- Never invent a signal. When the article reports no change in work, "signals" is an empty list.
- Rows whose evidence is not an exact quote of the article are thrown away.
"""


@dataclass
class LlmEnrichment:
    """What the language model found for one item, validated; ``dropped_rows`` lacked verbatim evidence."""

    summary: str
    keywords: list[str]
    themes: list[str]
    sectors: list[str]
    signals: list[Signal]
    dropped_rows: int


@dataclass(frozen=True)
class LlmSettings:
    """Where the chat-completions endpoint is, which model to ask, and how long to wait."""

    url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 60.0

    @classmethod
    def from_env(cls) -> LlmSettings | None:
        """Settings from SMKB_LLM_URL, SMKB_LLM_MODEL and SMKB_LLM_API_KEY; None when no URL is set."""
        url = os.environ.get("SMKB_LLM_URL", "").strip()
        if not url:
            return None
        # A server that holds a single model (llama.cpp's, for one) needs no model name.
        model = os.environ.get("SMKB_LLM_MODEL", "").strip()
        api_key = os.environ.get("SMKB_LLM_API_KEY", "").strip() or None
        return cls(url=url, model=model, api_key=api_key)

    @property
    def endpoint(self) -> str:
        """The chat-completions URL: the configured base URL plus ``/chat/completions``."""
        base = self.url.rstrip("/")
        return base if base.endswith("/chat/completions") else f"{base}/chat/completions"


@functools.cache
def _system_prompt() -> str:
    return _SYSTEM_PROMPT.format(
        schema=json.dumps(_SCHEMA, indent=2),
        keywords=_MAX_KEYWORDS,
        rows=_MAX_ROWS,
        words=_MAX_SIGNAL_WORDS,
        forces=", ".join(json.dumps(force) for force in FORCES),
        themes=", ".join(json.dumps(name) for name, _ in load_seed_themes()),
    )


def build_request(title: str, text: str, settings: LlmSettings) -> dict[str, Any]:
    """The JSON body sent to the endpoint for one item."""
    system = _system_prompt()
    user = f"Title: {title.strip()}\n\nArticle:\n{text[:_MAX_TEXT_CHARS]}"
    body: dict[str, Any] = {
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        "response_format": {"type": "json_object"},
        "temperature": 0,
    }
    if settings.model:
        body = {"model": settings.model, **body}
    return body


def enrich_with_llm(
    title: str, text: str, settings: LlmSettings, *, client: httpx.Client | None = None
) -> LlmEnrichment:
    """Ask the endpoint for an item's fields; raises BackendError with a one-line reason on any failure."""
    if not text.strip():
        raise BackendError("language model not asked: the item has no text")
    if client is None:
        with httpx.Client(timeout=settings.timeout) as own:
            return enrich_with_llm(title, text, settings, client=own)
    content = _ask(client, build_request(title, text, settings), settings)
    return _validate(_parse_content(content), text)


def _ask(client: httpx.Client, body: dict[str, Any], settings: LlmSettings) -> str:
    headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
    where = f"language model at {settings.endpoint}"
    try:
        response = client.post(settings.endpoint, json=body, headers=headers, timeout=settings.timeout)
    except httpx.TimeoutException:
        raise BackendError(f"{where} did not answer within {settings.timeout:g} s") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise BackendError(f"{where} could not be reached: {_one_line(str(exc))}") from None
    if response.status_code >= 400:
        raise BackendError(f"{where} answered HTTP {response.status_code}: {_error_message(response)}")
    try:
        answer = response.json()
        choice = answer["choices"][0]
        content = choice["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise BackendError(f"{where} sent no chat completion (choices[0].message.content is missing)") from None
    if not isinstance(content, str) or not content.strip():
        raise BackendError(f"{where} sent an empty completion")
    if choice.get("finish_reason") == "length" and not _is_json(content):
        raise BackendError(f"{where} stopped at its length limit before the JSON was complete")
    return content


def _error_message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
        message = error.get("message") if isinstance(error, dict) else error
    except (ValueError, AttributeError):
        message = None
    return _one_line(str(message or response.text or response.reason_phrase))


def _one_line(message: str, limit: int = 200) -> str:
    line = " ".join(message.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


_FENCE = re.compile(r"^```[a-zA-Z]*\s*(.*?)\s*```$", re.DOTALL)
_THINKING = re.compile(r"^<think>.*?</think>\s*", re.DOTALL)


def _is_json(content: str) -> bool:
    try:
        json.loads(content)
    except ValueError:
        return False
    return True


def _parse_content(content: str) -> dict[str, Any]:
    # Some servers put reasoning or a code fence around the object even in JSON mode.
    stripped = _THINKING.sub("", content.strip())
    fenced = _FENCE.match(stripped)
    if fenced:
        stripped = fenced.group(1)
    try:
        data = json.loads(stripped)
    except ValueError as exc:
        raise BackendError(f"language model returned invalid JSON: {_one_line(str(exc))}") from None
    if not isinstance(data, dict):
        raise BackendError(f"language model returned JSON {type(data).__name__}, not an object")
    return data


def _violation(where: str, problem: str) -> BackendError:
    return BackendError(f"language model answer breaks the schema: {where} {problem}")


def _string(value: object, where: str, *, limit: int, required: bool = True) -> str:
    if not isinstance(value, str):
        raise _violation(where, f"is {type(value).__name__}, not a string")
    cleaned = " ".join(value.split())
    if required and not cleaned:
        raise _violation(where, "is empty")
    if len(cleaned) > limit:
        raise _violation(where, f"has {len(cleaned)} characters (at most {limit})")
    return cleaned


def _strings(data: dict[str, Any], key: str, *, most: int) -> list[str]:
    values = data.get(key)
    if not isinstance(values, list):
        raise _violation(key, "is missing or not a list")
    if len(values) > most:
        raise _violation(key, f"has {len(values)} entries (at most {most})")
    distinct: dict[str, str] = {}
    for i, value in enumerate(values):
        cleaned = _string(value, f"{key}[{i}]", limit=_MAX_LABEL_CHARS)
        distinct.setdefault(cleaned.casefold(), cleaned)
    return list(distinct.values())


def _validate(data: dict[str, Any], text: str) -> LlmEnrichment:
    summary = _string(data.get("summary"), "summary", limit=_MAX_SUMMARY_CHARS)
    keywords = _strings(data, "keywords", most=_MAX_KEYWORDS)
    themes = _strings(data, "themes", most=_MAX_THEMES)
    sectors = _strings(data, "sectors", most=_MAX_SECTORS)
    rows = data.get("signals")
    if not isinstance(rows, list):
        raise _violation("signals", "is missing or not a list")
    if len(rows) > _MAX_ROWS:
        raise _violation("signals", f"has {len(rows)} rows (at most {_MAX_ROWS})")
    signals = [_row(row, f"signals[{i}]") for i, row in enumerate(rows)]
    grounded = []
    for signal in signals:
        evidence = _ground(signal.evidence, text)
        if evidence is not None:
            grounded.append(Signal(signal.signal, signal.change, signal.horizon, signal.driving_force, evidence))
    return LlmEnrichment(summary, keywords, themes, sectors, grounded, dropped_rows=len(signals) - len(grounded))


def _row(row: object, where: str) -> Signal:
    if not isinstance(row, dict):
        raise _violation(where, f"is {type(row).__name__}, not an object")
    signal = _string(row.get("signal"), f"{where}.signal", limit=_MAX_CELL_CHARS)
    if len(signal.split()) > _MAX_SIGNAL_WORDS:
        raise _violation(f"{where}.signal", f"has {len(signal.split())} words (at most {_MAX_SIGNAL_WORDS})")
    cells = {
        name: _string(row.get(name), f"{where}.{name}", limit=_MAX_CELL_CHARS, required=False)
        for name in ("change", "horizon", "driving_force")
    }
    # Evidence is checked against the text later; here it only has to be a string (it may be long).
    evidence = row.get("evidence")
    if not isinstance(evidence, str):
        raise _violation(f"{where}.evidence", f"is {type(evidence).__name__}, not a string")
    return Signal(signal, cells["change"], cells["horizon"], cells["driving_force"], evidence)


def _ground(evidence: str, text: str) -> str | None:
    """The whole sentence(s) of ``text`` around a verbatim quote, or None when it is not a quote."""
    quote = evidence.strip()
    span = _find(quote, text) or _find(quote.strip("\"'“”‘’ "), text)
    if span is None:
        return None
    start, end = span
    covering = [s for s in split_sentences(text) if s.start < end and s.end > start]
    if not covering:
        return text[start:end]
    return text[covering[0].start : covering[-1].end]


def _find(quote: str, text: str) -> tuple[int, int] | None:
    if len(quote.split()) < _MIN_EVIDENCE_WORDS:
        return None
    start = text.find(quote)
    if start >= 0:
        return start, start + len(quote)
    # Line breaks and runs of spaces are layout, not wording: the quote may differ from the text there.
    match = re.search(r"\s+".join(re.escape(word) for word in quote.split()), text)
    return match.span() if match else None
