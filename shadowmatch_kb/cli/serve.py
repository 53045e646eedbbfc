"""``smkb serve``: the web page for mentors and analysts."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from shadowmatch_kb.cli.items import KbOption
from shadowmatch_kb.cli.output import fail, options

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
ACCESS_LOGGER = "shadowmatch_kb.web.access"  # web.access_log.ACCESS_LOGGER, written out so --help imports no server


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("serve")(serve)


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    readers: Annotated[
        int | None,
        typer.Option(
            "--readers",
            min=1,
            max=64,
            help="Reading threads, each with the model loaded [default: one per core, 2 to 4].",
        ),
    ] = None,
    request_timeout: Annotated[
        float,
        typer.Option(
            "--request-timeout",
            min=0.1,
            help="Seconds a briefing, search or page may take before it is answered 503 (busy, try again).",
        ),
    ] = 20.0,  # web.state.REQUEST_TIMEOUT_S, written out so that `smkb --help` imports no server
    read_timeout: Annotated[
        float,
        typer.Option(
            "--read-timeout",
            min=0.1,
            help="Seconds a client has to send a request's headers and body; slower connections are closed.",
        ),
    ] = 10.0,  # web.server.READ_TIMEOUT_S
    verbose: Annotated[
        bool,
        typer.Option(
            "-v", "--verbose", help="Also log debug detail: load times at start-up, time to first byte per request."
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("-q", "--quiet", help="Log errors only: no start-up line, warnings or access log.")
    ] = False,
    access_log: Annotated[
        str | None,
        typer.Option(
            "--access-log",
            metavar="FILE",
            help="Append the access log (one line per request) to FILE instead of stderr; kept with --quiet.",
        ),
    ] = None,
    kb_dir: KbOption = None,
) -> None:
    """Serve the web page: ask a question, read and print a briefing, search, browse items, see trends.

    The model and indexes load once at start-up, then every request is warm. Pages work without
    JavaScript; JSON twins live under /api/ (brief, search, items/ID, trends) and /healthz. The server
    only reads the knowledge base, so `smkb ingest` and `smkb crawl` can run beside it. Analyst review
    needs SMKB_ANALYST_TOKEN (at least 24 characters).

    Each request is logged on stderr (or to --access-log FILE) as one line:
    TIME CLIENT "METHOD TARGET PROTOCOL" STATUS BYTES SECONDSs, with the analyst token never written.
    """
    if verbose and quiet:
        fail("-v/--verbose and -q/--quiet cannot be used together", code=2)
    # The server answers on reading threads of its own; numpy's BLAS starting more threads inside
    # each of them only makes them fight for the cores (8 clients on 2 cores: 48 -> 72 searches a second).
    # Read by numpy's BLAS when it loads, so it is set before anything imports numpy.
    for variable in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(variable, "1")
    import logging

    import uvicorn

    from shadowmatch_kb.errors import ShadowmatchError, UsageError
    from shadowmatch_kb.web.access_log import AccessLog
    from shadowmatch_kb.web.app import create_app
    from shadowmatch_kb.web.server import server_config
    from shadowmatch_kb.web.state import READERS

    opts = options(ctx)
    log = logging.getLogger(__name__)
    with _logging(verbose=verbose, quiet=quiet, access_log=access_log):
        if host not in LOOPBACK:
            log.warning(
                f"listening on {host}: anyone who can reach this address can read the knowledge base; "
                "put it behind a reverse proxy with access control"
            )
        opening = time.perf_counter()
        try:
            app = create_app(
                kb_dir or opts.kb,
                readers=readers or READERS,
                request_timeout=request_timeout,
                model=opts.model,
                index_kind=opts.index,
                chroma_url=opts.chroma_url,
            )
        except (ValueError, UsageError) as exc:
            fail(str(exc), code=2)
        web = app.state.web
        try:
            web.kb.exists  # noqa: B018 - a database that cannot be reached is one line now, not a traceback later
        except ShadowmatchError as exc:
            fail(str(exc))
        log.debug(f"knowledge base opened in {time.perf_counter() - opening:.2f} s")
        if not quiet:
            sys.stderr.write(
                f"serving {web.kb.config.kb_label} on http://{host}:{port}/ with {web.readers} reading threads "
                "(Ctrl-C stops)\n"
            )
        logged = AccessLog(app, secrets=[web.review.token])
        level = "error" if quiet else "warning"
        server = uvicorn.Server(server_config(logged, host=host, port=port, read_timeout=read_timeout, log_level=level))
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        except OSError as exc:
            fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
        if not server.started:
            fail(f"cannot listen on {host}:{port} (uvicorn's message is above)")


@contextmanager
def _logging(*, verbose: bool, quiet: bool, access_log: str | None) -> Iterator[None]:
    """Send the package's log records to stderr (errors only with ``quiet``, debug too with ``verbose``) and
    the access log to stderr or the file ``access_log``, while the server runs; a file that cannot be opened
    is a usage error, before anything loads."""
    import logging

    class LevelFormatter(logging.Formatter):
        """``warning: message``, as every other message of the command line reads."""

        def format(self, record: logging.LogRecord) -> str:
            return f"{record.levelname.lower()}: {super().format(record)}"

    package, access = logging.getLogger("shadowmatch_kb"), logging.getLogger(ACCESS_LOGGER)
    lines: logging.Handler | None = None
    if access_log:
        try:
            lines = logging.FileHandler(access_log, encoding="utf-8")
        except OSError as exc:
            fail(f"cannot open the access log {access_log}: {exc.strerror or exc}", code=2)
    elif not quiet:
        lines = logging.StreamHandler(sys.stderr)
    messages = logging.StreamHandler(sys.stderr)
    messages.setFormatter(LevelFormatter())
    saved = (package.level, access.level, access.propagate)
    package.setLevel(logging.DEBUG if verbose else logging.ERROR if quiet else logging.WARNING)
    package.addHandler(messages)
    # The access lines go only where they were sent, never also through the package's handler.
    access.propagate = False
    access.setLevel(logging.INFO if lines is not None else logging.CRITICAL + 1)
    if lines is not None:
        lines.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(lines)
    try:
        yield
    finally:
        # Undone, so a command run in-process (tests) leaves no handler on a stream that is gone.
        package.removeHandler(messages)
        package.setLevel(saved[0])
        access.setLevel(saved[1])
        access.propagate = saved[2]
        if lines is not None:
            access.removeHandler(lines)
            lines.close()
