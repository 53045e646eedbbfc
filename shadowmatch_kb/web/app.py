"""`smkb serve`: the mentors' and analysts' web page over one knowledge base, and its JSON twins.

Server-rendered HTML that works without JavaScript (there is none), Jinja2 with autoescaping, one
stylesheet served from here. The model, the index and the caches load once at start-up, so requests are
warm. Reads run on a few reading threads, each with its own connection (SQLite connections belong to
the thread that opened them), the least busy first; analyst writes on a thread of their own. Reads never
wait for a running `smkb ingest` or `smkb crawl` (the record is in WAL mode and they hold the write
lock, not us).

Crawled text is hostile input: every field is escaped, only http(s) links become links, and the
Content-Security-Policy forbids scripts altogether. Clients may be hostile too: the guard (``guard.py``)
bounds what a request may send, every read has a time limit (``state.py``), and `smkb serve` closes
connections that send their request too slowly (``server.py``).
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from shadowmatch_kb.brief.render import MAX_TITLE_CHARS, briefing_html, to_markdown
from shadowmatch_kb.errors import LockTimeoutError, NotFoundError, UsageError
from shadowmatch_kb.formats.inert import safe_url
from shadowmatch_kb.kb import Briefing, KnowledgeBase
from shadowmatch_kb.model import Item, ItemFilter
from shadowmatch_kb.text.dates import is_iso_date
from shadowmatch_kb.web.guard import Guard
from shadowmatch_kb.web.review import COOKIE, SESSION_S, WRITE_WAIT_S, ReviewError, read_json, redirect, values
from shadowmatch_kb.web.state import READERS, REQUEST_TIMEOUT_S, ServerBusy, WebState

if TYPE_CHECKING:
    from shadowmatch_kb.kb import TrendsReport

__all__ = ["MAX_BODY_BYTES", "MAX_QUERY_CHARS", "create_app"]

HERE = Path(__file__).parent
MAX_QUERY_CHARS = 500  # a question or search longer than this is refused (400)
MAX_FIELD_CHARS = 100  # sector, theme
MAX_BODY_BYTES = 64 * 1024  # request bodies (analyst writes are small JSON)
MAX_URL_CHARS = 4 * MAX_QUERY_CHARS + 1000  # a question percent-encoded, and the other parameters
EXAMPLES = [
    "I'm a nurse on a busy ward. How will AI change my job?",
    "I supervise a team in a distribution warehouse.",
    "I work in a bank processing loan applications.",
    "I teach maths at a secondary school.",
]
# A whole id or a prefix of one (kb.get resolves a unique prefix); anything else is no item.
_ITEM_ID = re.compile(r"^[0-9a-f]{4,32}$")
# ASCII digits only: str.isdigit() is true for '²' and '٣', which int() refuses or reads otherwise.
_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")


class BadParameter(Exception):
    """A query parameter that cannot be used; answered with 400."""


# ----- parameters --------------------------------------------------------------------------------


def _text(request: Request, name: str, limit: int, *, required: bool = False) -> str | None:
    value = " ".join(request.query_params.get(name, "").split())
    if not value:
        if required:
            raise BadParameter(f"{name} is required")
        return None
    if len(value) > limit:
        raise BadParameter(f"{name} is longer than {limit} characters")
    return value


def _date(request: Request, name: str = "since") -> str | None:
    value = request.query_params.get(name, "").strip()
    if not value:
        return None
    if not is_iso_date(value):
        raise BadParameter(f"{name} must be a date, YYYY-MM-DD")
    return value


def _choice(request: Request, name: str, choices: tuple[str, ...]) -> str:
    value = request.query_params.get(name, "").strip() or choices[0]
    if value not in choices:
        raise BadParameter(f"{name} must be one of {', '.join(choices)}")
    return value


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return default
    if not _WHOLE_NUMBER.fullmatch(raw) or not low <= int(raw) <= high:
        raise BadParameter(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _item_id(request: Request) -> str:
    item_id = str(request.path_params["item_id"]).lower()
    if not _ITEM_ID.match(item_id):
        raise NotFoundError(f"no item with id {item_id[:40]}")
    return item_id


# ----- pages ----------------------------------------------------------------------------------------


def _state(request: Request) -> WebState:
    return request.app.state.web  # type: ignore[no-any-return]


async def _page(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    context.setdefault("footer", await _state(request).footer_now())
    return request.app.state.templates.TemplateResponse(request, template, context, status_code=status_code)


async def home(request: Request) -> Response:
    state = _state(request)
    sectors = await state.read(state.sectors)
    return await _page(request, "index.html", sectors=sectors, examples=EXAMPLES, title_chars=MAX_TITLE_CHARS)


async def _briefing(request: Request) -> tuple[Briefing, str | None]:
    """The briefing a request asks for (``q``, ``since``, ``occupation``), remembered while the record is unchanged."""
    question = _text(request, "q", MAX_QUERY_CHARS, required=True) or ""
    since = _date(request)
    occupation = _text(request, "occupation", MAX_TITLE_CHARS)
    briefing = await _state(request).read(
        lambda kb: kb.brief(question, since=since, occupation=occupation), key=("brief", question, since, occupation)
    )
    return briefing, since


# "Is this you?": each close alternative occupation asks the same question again with that occupation (and a form
# with the job title the person types).
_REASK = "/brief?q={question}&occupation={isco}"


async def brief_page(request: Request) -> Response:
    briefing, since = await _briefing(request)
    body = briefing_html(briefing, item_link="/items/{id}", reask_link=_REASK, reask_form="/brief")
    chosen = _text(request, "occupation", MAX_TITLE_CHARS)
    return await _page(request, "brief.html", briefing=briefing, since=since, occupation=chosen, body=body)


async def brief_api(request: Request) -> Response:
    briefing, _ = await _briefing(request)
    return JSONResponse(briefing.to_dict(to_markdown(briefing)))


def _search_args(request: Request) -> tuple[str | None, ItemFilter, int]:
    query = _text(request, "q", MAX_QUERY_CHARS)
    where = ItemFilter(
        sector=_text(request, "sector", MAX_FIELD_CHARS),
        theme=_text(request, "theme", MAX_FIELD_CHARS),
        since=_date(request),
    )
    return query, where, _int(request, "k", 20, 1, 100)


async def search_page(request: Request) -> Response:
    query, asked, k = _search_args(request)
    state = _state(request)
    # The sector as the section's name, checked even without a query: an unknown one is a 400.
    where = await state.read(lambda kb: kb.checked_filter(asked) or asked)
    results = (
        await state.read(lambda kb: kb.search(query, k=k, where=where), key=("search", query, k, where))
        if query
        else []
    )
    return await _page(request, "search.html", query=query or "", where=where, results=results)


async def search_api(request: Request) -> Response:
    query, where, k = _search_args(request)
    if not query:
        raise BadParameter("q is required")
    state = _state(request)
    results = await state.read(lambda kb: kb.search(query, k=k, where=where), key=("search", query, k, where))
    return JSONResponse({"results": [r.to_dict() for r in results]})


async def item_page(request: Request) -> Response:
    state = _state(request)
    item_id = _item_id(request)
    document = await state.read(lambda kb: kb.item_document(item_id))
    nonce = state.review.session(request)
    return await _page(
        request,
        "item.html",
        item=document,
        review=state.review.enabled,
        signed_in=nonce is not None,
        csrf=state.review.csrf_for(nonce) if nonce else "",
    )


async def tags_api(request: Request) -> Response:
    """``POST /api/items/{id}/tags`` with ``{"add": [..], "remove": [..]}`` (and optionally ``sectors``,
    ``themes`` to correct them): the item's JSON after the change."""
    state = _state(request)
    state.review.check_bearer(request)
    item_id = _item_id(request)
    body = await read_json(request)
    sectors = values(body["sectors"], "sectors") if "sectors" in body else None
    themes = values(body["themes"], "themes") if "themes" in body else None
    add, remove = values(body.get("add"), "add"), values(body.get("remove"), "remove")
    await state.write(lambda kb: kb.tag(item_id, add=add, remove=remove, sectors=sectors, themes=themes))
    return JSONResponse(await state.read(lambda kb: kb.item_document(item_id)))


async def review_form(request: Request) -> Response:
    """The item page's review forms: one change each, then back to the item."""
    state = _state(request)
    item_id = _item_id(request)
    form = await request.form()
    state.review.check_form(request, form)
    action, value = str(form.get("action", "")), str(form.get("value", ""))
    if action not in ("add_tag", "remove_tag", "sectors", "themes"):
        raise BadParameter("action must be add_tag, remove_tag, sectors or themes")

    def change(kb: KnowledgeBase) -> Item:
        if action == "sectors":
            # Commas separate the sectors typed, and some section names hold one ("IT, telecoms and media").
            return kb.tag(item_id, sectors=values(kb.sector_vocabulary().split_list(value), "sectors"))
        if action == "themes":
            return kb.tag(item_id, themes=values(value, "themes", text=True))
        tags = values(value, "tag", text=True)
        return kb.tag(item_id, add=tags) if action == "add_tag" else kb.tag(item_id, remove=tags)

    await state.write(change)
    return redirect(f"/items/{item_id}")


async def sign_in(request: Request) -> Response:
    state = _state(request)
    form = await request.form()
    if not state.review.enabled:
        raise ReviewError(403, "this server is read-only")
    state.review.check_token(request, str(form.get("token", "")))
    response = redirect(str(form.get("next", "/")))
    secure = request.url.scheme == "https"
    response.set_cookie(
        COOKIE, state.review.new_session(), max_age=SESSION_S, httponly=True, samesite="strict", secure=secure
    )
    return response


async def sign_out(request: Request) -> Response:
    form = await request.form()
    # Ended here too, so a copy of the cookie (from the browser's storage, a shared machine) is worth nothing.
    _state(request).review.end_session(request)
    response = redirect(str(form.get("next", "/")))
    response.delete_cookie(COOKIE)
    return response


async def item_api(request: Request) -> Response:
    state = _state(request)
    item_id = _item_id(request)
    return JSONResponse(await state.read(lambda kb: kb.item_document(item_id)))


def _trends_args(request: Request) -> dict[str, Any]:
    return {
        "where": ItemFilter(
            sector=_text(request, "sector", MAX_FIELD_CHARS), theme=_text(request, "theme", MAX_FIELD_CHARS)
        ),
        # "auto": per quarter when months are too thin to compare (trends.plot.choose_period).
        "by": _choice(request, "by", ("auto", "month", "quarter")),
    }


def _trends_report(kb: KnowledgeBase, args: dict[str, Any]) -> TrendsReport:
    from shadowmatch_kb.trends.plot import choose_period

    asked = None if args["by"] == "auto" else args["by"]
    return choose_period(kb.trends(where=args["where"], by=asked or "month"), asked)


async def trends_page(request: Request) -> Response:
    from shadowmatch_kb.web.chart import tracker_view

    args = _trends_args(request)
    state = _state(request)
    view = await state.read(lambda kb: tracker_view(kb, _trends_report(kb, args), args["where"]))
    return await _page(request, "trends.html", args=args, **view)


async def trends_api(request: Request) -> Response:
    state = _state(request)
    args = _trends_args(request)
    report = await state.read(lambda kb: _trends_report(kb, args))
    return JSONResponse(report.to_dict())


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok", **(await _state(request).footer_now())})


# ----- errors and limits ---------------------------------------------------------------------------


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/healthz"


async def _error(request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    titles = {400: "Bad request", 401: "Sign in first", 403: "Not allowed", 404: "Not found", 413: "Too large",
              429: "Too many attempts", 500: "Something went wrong", 503: "Busy"}  # fmt: skip
    title = titles.get(status, "Error")
    return await _page(request, "error.html", status, status=status, title=title, message=message)


async def _on_bad_parameter(request: Request, exc: Exception) -> Response:
    return await _error(request, 400, str(exc))


async def _on_usage_error(request: Request, exc: Exception) -> Response:
    return await _error(request, 400, " ".join(str(exc).split()))


async def _on_not_found(request: Request, exc: Exception) -> Response:
    return await _error(request, 404, " ".join(str(exc).split()))


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = "no such page" if exc.status_code == 404 else str(exc.detail)
    return await _error(request, exc.status_code, message)


async def _on_review(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ReviewError)
    response = await _error(request, exc.status, str(exc))
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def _on_busy(request: Request, exc: Exception) -> Response:
    return await _error(request, 503, "the knowledge base is busy with an import; try again in a moment")


async def _on_server_busy(request: Request, exc: Exception) -> Response:
    response = await _error(request, 503, "the server is busy; try again in a moment")
    response.headers["Retry-After"] = "5"
    return response


async def _on_crash(request: Request, exc: Exception) -> Response:
    # Never a traceback to the browser; the server log keeps it.
    return await _error(request, 500, "the server could not answer this request")


def create_app(
    kb_dir: str | Path | None = None,
    *,
    analyst_token: str | None = None,
    warm: bool = True,
    write_wait: float = WRITE_WAIT_S,
    readers: int = READERS,
    request_timeout: float = REQUEST_TIMEOUT_S,
    **options: Any,
) -> Starlette:
    """The ASGI app over the knowledge base in ``kb_dir`` (``options`` as for ``KnowledgeBase.open``).

    Analyst writes are allowed with ``analyst_token``, else with ``$SMKB_ANALYST_TOKEN``, else not at all; a
    token shorter than 24 characters is a ``UsageError``. A read that takes longer than ``request_timeout``
    seconds is answered with 503.
    """
    token = analyst_token if analyst_token is not None else os.environ.get("SMKB_ANALYST_TOKEN")
    state = WebState(kb_dir, token, write_wait, readers, request_timeout, **options)
    from jinja2 import Environment, FileSystemLoader

    # Autoescaping everywhere: every field of an item may carry markup.
    env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=True)
    env.filters["safe_url"] = safe_url
    templates = Jinja2Templates(env=env)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if warm:
            await state.warm()
        yield
        state.close()

    app = Starlette(
        routes=[
            Route("/", home),
            Route("/brief", brief_page),
            Route("/search", search_page),
            Route("/items/{item_id}", item_page),
            Route("/trends", trends_page),
            Route("/api/brief", brief_api),
            Route("/api/search", search_api),
            Route("/api/items/{item_id}", item_api),
            Route("/api/items/{item_id}/tags", tags_api, methods=["POST"]),
            Route("/items/{item_id}/review", review_form, methods=["POST"]),
            Route("/signin", sign_in, methods=["POST"]),
            Route("/signout", sign_out, methods=["POST"]),
            Route("/api/trends", trends_api),
            Route("/healthz", healthz),
            Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        ],
        middleware=[Middleware(Guard, max_body=MAX_BODY_BYTES, max_url=MAX_URL_CHARS)],
        exception_handlers={
            BadParameter: _on_bad_parameter,
            UsageError: _on_usage_error,
            NotFoundError: _on_not_found,
            ReviewError: _on_review,
            LockTimeoutError: _on_busy,
            ServerBusy: _on_server_busy,
            HTTPException: _on_http,
            Exception: _on_crash,
        },
        lifespan=lifespan,
    )
    app.state.web = state
    app.state.templates = templates
    return app
