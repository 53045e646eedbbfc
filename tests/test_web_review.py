"""Analyst review under attack: sessions that end, guesses that are throttled, tokens too short to
trust, and odd values that must be refused with 400 rather than crash a request (issue 17)."""

from __future__ import annotations

import re

import pytest
from conftest import copy_kb, smkb

TOKEN = "review-token-0123456789abcdef"  # 29 characters


def _first_item_id(kb) -> str:
    from shadowmatch_kb.kb import KnowledgeBase

    with KnowledgeBase.open(kb) as opened:
        return next(iter(opened.iter_all())).id


@pytest.fixture
def writable(demo_kb, tmp_path):
    from starlette.testclient import TestClient

    from shadowmatch_kb.web.app import create_app

    kb = tmp_path / "kb"
    copy_kb(demo_kb, kb)
    app = create_app(kb, analyst_token=TOKEN, warm=False, readers=1)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.item_id = _first_item_id(kb)
        yield client


def _sign_in(client) -> str:
    signed = client.post("/signin", data={"token": TOKEN}, follow_redirects=False)
    assert signed.status_code == 303, signed.text
    return client.cookies["smkb_analyst"]


def _review_forms_shown(client, cookie: str) -> bool:
    client.cookies.clear()
    client.cookies.set("smkb_analyst", cookie)
    return 'name="csrf"' in client.get(f"/items/{client.item_id}").text


@pytest.mark.slow
def test_signing_out_ends_the_session_on_the_server_too(writable) -> None:
    client = writable
    cookie = _sign_in(client)
    assert _review_forms_shown(client, cookie)
    page = client.get(f"/items/{client.item_id}").text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    assert client.post("/signout", data={"next": "/"}, follow_redirects=False).status_code == 303
    # The cookie replayed after sign-out, as one copied from the browser would be, is worth nothing.
    assert not _review_forms_shown(client, cookie)
    form = {"action": "add_tag", "value": "after-sign-out", "csrf": csrf}
    assert client.post(f"/items/{client.item_id}/review", data=form).status_code == 401
    assert "after-sign-out" not in client.get(f"/api/items/{client.item_id}").json()["tags"]


@pytest.mark.slow
def test_sessions_expire_after_eight_hours(writable) -> None:
    client = writable
    signed = client.post("/signin", data={"token": TOKEN}, follow_redirects=False)
    assert "max-age=28800" in signed.headers["set-cookie"].lower()  # the browser forgets it too
    cookie = client.cookies["smkb_analyst"]
    review = client.app.state.web.review
    started = review.clock()
    review.clock = lambda: started + 8 * 3600 - 60
    assert _review_forms_shown(client, cookie)
    review.clock = lambda: started + 8 * 3600 + 1
    assert not _review_forms_shown(client, cookie)


@pytest.mark.slow
def test_failed_sign_ins_are_throttled_per_address_then_forgiven(writable) -> None:
    client = writable
    for _ in range(5):
        assert client.post("/signin", data={"token": "guess-" + "x" * 24}).status_code == 403
    throttled = client.post("/signin", data={"token": TOKEN}, follow_redirects=False)
    # Even the right token waits: answering it would tell a guesser when they are right.
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert "Too many" in throttled.text
    review = client.app.state.web.review
    started = review.clock()
    review.clock = lambda: started + 61
    assert client.post("/signin", data={"token": TOKEN}, follow_redirects=False).status_code == 303


@pytest.mark.slow
def test_wrong_bearer_tokens_are_throttled(writable) -> None:
    client = writable
    url = f"/api/items/{client.item_id}/tags"
    answers = [
        client.post(url, json={"add": ["x"]}, headers={"Authorization": f"Bearer guess-{n:024d}"}).status_code
        for n in range(8)
    ]
    assert answers[:5] == [403] * 5 and answers[5:] == [429] * 3
    right = client.post(url, json={"add": ["x"]}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert right.status_code == 429 and "retry-after" in right.headers
    # Another address is not held back by this one's guesses.
    from starlette.testclient import TestClient

    other = TestClient(client.app, client=("192.0.2.7", 40000))
    done = other.post(url, json={"add": ["x"]}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert done.status_code == 200 and "x" in done.json()["tags"]


def test_an_analyst_token_shorter_than_24_characters_is_refused(demo_kb) -> None:
    from shadowmatch_kb.errors import UsageError
    from shadowmatch_kb.web.app import create_app

    with pytest.raises(UsageError, match="at least 24 characters"):
        create_app(demo_kb, analyst_token="too-short-token", warm=False)


def test_smkb_serve_refuses_a_short_token_with_one_line_and_exit_code_2(demo_kb, monkeypatch) -> None:
    import uvicorn

    started = []
    # Were the token taken, the server would start: record that instead of serving forever.
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, *a, **k: started.append(self))
    monkeypatch.setenv("SMKB_ANALYST_TOKEN", "analyst-secret-1234")
    result = smkb("serve", "--port", "1", kb=demo_kb)
    assert started == []
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: SMKB_ANALYST_TOKEN") and "24" in lines[0]


@pytest.mark.slow
def test_odd_values_are_400_never_a_crash(writable) -> None:
    client = writable
    for url in [
        "/api/search?q=nurse&k=%C2%B2",  # '²' is a digit to str.isdigit, not to int()
        "/search?q=nurse&k=%D9%A3",  # an Arabic-Indic three
        "/api/search?q=nurse&k=" + "9" * 2000,
        "/api/search?q=nurse&k=-1",
        "/api/search?q=nurse&since=2024-02-30",
    ]:
        response = client.get(url)
        assert response.status_code == 400, (url, response.status_code)
    url = f"/api/items/{client.item_id}/tags"
    before = client.get(f"/api/items/{client.item_id}").json()["tags"]
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    deep = b"[" * 30_000 + b"]" * 30_000
    for body in [
        b'{"add": ["\\ud800"]}',  # a lone surrogate cannot be stored as text
        b'{"remove": ["ok", "\\udfff tail"]}',
        b'{"\\ud800": ["x"]}',
        deep,
        b'{"add": ' + deep + b"}",
    ]:
        response = client.post(url, content=body, headers=auth)
        assert response.status_code == 400, (body[:40], response.status_code)
        assert "error" in response.json()
    assert client.get(f"/api/items/{client.item_id}").json()["tags"] == before


@pytest.mark.slow
def test_odd_cookies_and_csrf_tokens_are_refused_never_a_crash(writable) -> None:
    client = writable
    client.cookies.clear()
    # Header bytes beyond ASCII arrive as Latin-1 text, which hmac.compare_digest refuses to compare.
    odd_cookie = {"Cookie": "smkb_analyst=caf\xe9.\xe9t\xe9".encode("latin-1")}
    page = client.get(f"/items/{client.item_id}", headers=odd_cookie)
    assert page.status_code == 200 and 'name="token"' in page.text  # simply not signed in
    _sign_in(client)
    form = {"action": "add_tag", "value": "x", "csrf": "caf\u00e9"}
    assert client.post(f"/items/{client.item_id}/review", data=form).status_code == 403
