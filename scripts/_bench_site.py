"""A loopback news site of thousands of distinct article pages, for the crawl benchmark.

Page ``i`` is real page ``i mod T`` of the Zyte extraction benchmark (``../shared/data``) with one short
paragraph of its own ("Dispatch number i from the ... desk ...") placed inside the article body, so no two
pages have the same main text. Where the paragraph goes is decided once per real page by extracting a
trial copy with the project's own extractor: the paragraph must survive extraction and the page must
still read as an article. Real pages where no place works are left out (``plan_templates`` says which).

The site runs in its own process (``python scripts/_bench_site.py --plan FILE ...``), an asyncio server
with a minimal HTTP/1.1 keep-alive parser, so it never competes for the benchmark process's GIL. It
serves ``/robots.txt`` (everything allowed, no crawl delay), ``/sitemap.xml`` (every page),
``/sitemap-N.xml`` (the first N pages) and ``/news/NNNNN.html``, each answer held back by an optional
latency that stands for the round trip to a distant server. Pages carry a strong ETag and
Content-Length; ``If-None-Match`` gets a 304.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import html
import json
import os
import re
import subprocess
import sys
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType

REPO = Path(__file__).resolve().parents[1]
ZYTE = REPO.parent / "shared" / "data" / "extraction" / "zyte"
TRIES_PER_STYLE = 3

_PARAGRAPH = re.compile(rb"(?is)<p\b[^>]*>(.*?)</p\s*>")
_TAG = re.compile(r"(?s)<[^>]*>")
_DESKS = ["metro", "business", "science", "culture", "labour", "technology", "health", "education", "climate"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_VERBS = ["reviewed", "checked", "confirmed", "revisited", "compared", "summarised", "traced"]
_OBJECTS = ["the figures", "the quoted statements", "the timeline", "the regional data", "the survey results",
            "the court filings", "the company accounts", "the interview notes"]  # fmt: skip
_MONTHS = ["January", "March", "May", "July", "September", "November"]


@dataclass(frozen=True)
class Template:
    """One real page and where its unique paragraph goes."""

    name: str  # file name under zyte/html
    offset: int  # byte offset of the insertion in the decompressed page
    style: str  # "paragraph": a new <p> after a body paragraph; "inline": a sentence before a body sentence
    charset: str | None  # declared in Content-Type when the bytes are valid UTF-8


def data_missing() -> str | None:
    """Why the real pages cannot be used, or None when they are there."""
    needed = [ZYTE / "ground-truth.json", ZYTE / "html"]
    missing = [str(p) for p in needed if not p.exists()]
    return f"shared data not found: {', '.join(missing)}" if missing else None


def dispatch_text(i: int) -> str:
    """The paragraph that makes page ``i`` unique: about twenty words, varied with ``i``."""
    desk = _DESKS[i % len(_DESKS)]
    day = _DAYS[(i // 3) % len(_DAYS)]
    verb = _VERBS[(i // 7) % len(_VERBS)]
    thing = _OBJECTS[(i // 11) % len(_OBJECTS)]
    month = _MONTHS[(i // 5) % len(_MONTHS)]
    return (
        f"Dispatch number {i} from the {desk} desk: on {day} our editors {verb} {thing} once more, "
        f"and readers may send corrections until {month} {1 + i % 28}."
    )


def page_bytes(raw: bytes, template: Template, i: int) -> bytes:
    """Real page ``raw`` with page ``i``'s paragraph put where ``template`` says."""
    sentence = html.escape(dispatch_text(i)).encode("ascii")
    piece = b"<p>" + sentence + b"</p>" if template.style == "paragraph" else sentence + b" "
    return raw[: template.offset] + piece + raw[template.offset :]


def _words(text: str) -> str:
    return " ".join(text.split())


def _paragraph_ends(raw: bytes, body: str) -> list[int]:
    """Ends of the <p> elements whose text opens like a paragraph of the true article, middle ones first."""
    ends = []
    for match in _PARAGRAPH.finditer(raw):
        text = _words(html.unescape(_TAG.sub(" ", match.group(1).decode("utf-8", "replace"))))
        if len(text) >= 40 and text[:40] in body:
            ends.append(match.end())
    middle = len(ends) // 2
    return [end for _, end in sorted(enumerate(ends), key=lambda pair: abs(pair[0] - middle))]


def _sentence_starts(raw: bytes, true_body: str) -> list[int]:
    """Where paragraphs of the true article start in the raw bytes, outside scripts."""
    starts = []
    for paragraph in true_body.split("\n"):
        paragraph = paragraph.strip()
        if len(paragraph) < 40:
            continue
        at = raw.find(paragraph[:30].encode("utf-8"))
        if at > 0 and raw.rfind(b"<script", 0, at) <= raw.rfind(b"</script", 0, at):
            starts.append(at)
    return starts


def _plan_one(name: str, true_body: str) -> Template | None:
    from shadowmatch_kb.crawl.pages import analyse_page

    raw = gzip.decompress((ZYTE / "html" / name).read_bytes())
    try:
        raw.decode("utf-8")
        charset: str | None = "utf-8"
    except UnicodeDecodeError:
        charset = None
    candidates = [("paragraph", end) for end in _paragraph_ends(raw, _words(true_body))[:TRIES_PER_STYLE]]
    candidates += [("inline", start) for start in _sentence_starts(raw, true_body)[:TRIES_PER_STYLE]]
    probe = 7919  # any page number: the paragraph's words vary, its shape does not
    for style, offset in candidates:
        template = Template(name, offset, style, charset)
        page = analyse_page(page_bytes(raw, template, probe), charset, "http://127.0.0.1/news/probe.html",
                            "text/html", False)  # fmt: skip
        if page.skip_reason is None and f"Dispatch number {probe} " in page.text:
            return template
    return None


def plan_templates(workers: int) -> tuple[list[Template], list[str]]:
    """Templates for every real page where a unique paragraph survives extraction; and the names left out."""
    truth = json.loads((ZYTE / "ground-truth.json").read_text(encoding="utf-8"))
    names = sorted(p.name for p in (ZYTE / "html").glob("*.html.gz"))
    bodies = [truth.get(name.split(".")[0], {}).get("articleBody") or "" for name in names]
    with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        planned = list(pool.map(_plan_one, names, bodies))
    kept = [t for t in planned if t is not None]
    left_out = [name for name, t in zip(names, planned, strict=True) if t is None]
    return kept, left_out


# ----- the server (its own process) -----------------------------------------------------------


class _Site:
    """The answers of the site; built once in the server process."""

    def __init__(self, templates: list[Template], pages: int, latency: float) -> None:
        self.templates = templates
        self.raw = [gzip.decompress((ZYTE / "html" / t.name).read_bytes()) for t in templates]
        self.pages = pages
        self.latency = latency
        self.requests = 0

    def sitemap(self, count: int, base: str) -> bytes:
        entries = "".join(f"<url><loc>{base}/news/{i:05d}.html</loc></url>\n" for i in range(min(count, self.pages)))
        text = '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        return (text + entries + "</urlset>\n").encode()

    def answer(self, path: str, base: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for one GET path."""
        if path == "/robots.txt":
            return 200, "text/plain; charset=utf-8", b"User-agent: *\nAllow: /\n"
        if path == "/sitemap.xml":
            return 200, "application/xml", self.sitemap(self.pages, base)
        found = re.fullmatch(r"/sitemap-(\d+)\.xml", path)
        if found:
            return 200, "application/xml", self.sitemap(int(found.group(1)), base)
        found = re.fullmatch(r"/news/(\d{5})\.html", path)
        if found and int(found.group(1)) < self.pages:
            i = int(found.group(1))
            template = self.templates[i % len(self.templates)]
            media = f"text/html; charset={template.charset}" if template.charset else "text/html"
            return 200, media, page_bytes(self.raw[i % len(self.templates)], template, i)
        return 404, "text/plain; charset=utf-8", b"not found\n"


def _response(status: int, media: str, body: bytes, etag: str | None, keep_alive: bool, head: bool) -> bytes:
    reason = {200: "OK", 304: "Not Modified", 400: "Bad Request", 404: "Not Found"}.get(status, "OK")
    lines = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body) if status != 304 else 0}"]
    if status != 304:
        lines.append(f"Content-Type: {media}")
    if etag:
        lines.append(f"ETag: {etag}")
    lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
    payload = b"" if head or status == 304 else body
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload


async def _serve_connection(site: _Site, base: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, version = (lines[0].split(" ", 2) + ["", ""])[:3]
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name:
                    headers[name.strip().lower()] = value.strip()
            if int(headers.get("content-length") or 0):
                await reader.readexactly(int(headers["content-length"]))
            site.requests += 1
            keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
            if method not in ("GET", "HEAD"):
                status, media, body, etag = 400, "text/plain", b"GET only\n", None
            else:
                status, media, body = site.answer(target.split("?", 1)[0], base)
                etag = f'"{zlib.crc32(body):08x}-{len(body)}"' if status == 200 else None
                if etag and headers.get("if-none-match") == etag:
                    status = 304
            if site.latency:
                await asyncio.sleep(site.latency)
            writer.write(_response(status, media, body, etag, keep_alive, method == "HEAD"))
            await writer.drain()
            if not keep_alive:
                break
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass
    finally:
        writer.close()


async def _serve(site: _Site) -> None:
    holder: dict[str, str] = {}

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _serve_connection(site, holder["base"], reader, writer)

    server = await asyncio.start_server(connected, "127.0.0.1", 0, backlog=512)
    port = server.sockets[0].getsockname()[1]
    holder["base"] = f"http://127.0.0.1:{port}"
    print(port, flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the crawl benchmark's site on 127.0.0.1 (prints its port).")
    parser.add_argument("--plan", type=Path, required=True, help="JSON list of templates from plan_templates")
    parser.add_argument("--pages", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    templates = [Template(**t) for t in json.loads(args.plan.read_text())]
    asyncio.run(_serve(_Site(templates, args.pages, args.latency_ms / 1000)))


# ----- the parent's handle on it ------------------------------------------------------------------


class RunningSite:
    """The site in a child process for as long as the ``with`` block lasts."""

    def __init__(self, plan: Path, pages: int, latency_ms: float) -> None:
        self.argv = [sys.executable, str(Path(__file__).resolve()), "--plan", str(plan), "--pages", str(pages),
                     "--latency-ms", str(latency_ms)]  # fmt: skip
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> RunningSite:
        self.process = subprocess.Popen(self.argv, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line.isdigit():
            self.process.kill()
            raise SystemExit(f"the benchmark site did not start (said {line!r})")
        self.url = f"http://127.0.0.1:{line}"
        return self

    def cpu_seconds(self) -> float | None:
        """CPU time the site process has used so far (Linux only; None elsewhere)."""
        if self.process is None:
            return None
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        # utime and stime are fields 14 and 15 of the line, 12 and 13 after the command name.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def save_plan(templates: list[Template], path: Path) -> None:
    """Write templates where the server process reads them."""
    path.write_text(json.dumps([asdict(t) for t in templates]))


if __name__ == "__main__":
    main()
