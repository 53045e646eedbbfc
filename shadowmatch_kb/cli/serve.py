"""``smkb serve``: the web page for mentors and analysts."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from shadowmatch_kb.cli.items import KbOption
from shadowmatch_kb.cli.output import fail, options

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


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
    kb_dir: KbOption = None,
) -> None:
    """Serve the web page: ask a question, read and print a briefing, search, browse items, see trends.

    The model and indexes load once at start-up, then every request is warm. Pages work without
    JavaScript; JSON twins live under /api/ (brief, search, items/ID, trends) and /healthz. The server
    only reads the knowledge base, so `smkb ingest` and `smkb crawl` can run beside it. Analyst review
    needs SMKB_ANALYST_TOKEN (at least 24 characters).
    """
    # The server answers on reading threads of its own; numpy's BLAS starting more threads inside
    # each of them only makes them fight for the cores (8 clients on 2 cores: 48 -> 72 searches a second).
    # Read by numpy's BLAS when it loads, so it is set before anything imports numpy.
    for variable in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(variable, "1")
    import uvicorn

    from shadowmatch_kb.errors import UsageError
    from shadowmatch_kb.web.app import create_app
    from shadowmatch_kb.web.server import server_config
    from shadowmatch_kb.web.state import READERS

    opts = options(ctx)
    if host not in LOOPBACK:
        sys.stderr.write(
            f"warning: listening on {host}: anyone who can reach this address can read the knowledge base; "
            "put it behind a reverse proxy with access control\n"
        )
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
    sys.stderr.write(
        f"serving {web.kb.config.kb_dir} on http://{host}:{port}/ with {web.readers} reading threads (Ctrl-C stops)\n"
    )
    server = uvicorn.Server(server_config(app, host=host, port=port, read_timeout=read_timeout))
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    if not server.started:
        fail(f"cannot listen on {host}:{port} (uvicorn's message is above)")
