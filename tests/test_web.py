"""`smkb serve`: every page and JSON twin through an ASGI client, bad input, and hostile item text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import HOSTILE_POST, PageParser, copy_kb, smkb, smkb_serve

NURSE = "I'm a nurse on a busy ward. How will AI change my job?"


def _client(kb: Path):
    from starlette.testclient import TestClient

    from shadowmatch_kb.web.app import create_app

    return TestClient(create_app(kb), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def client(demo_kb):
    with _client(demo_kb) as test_client:
        yield test_client


def _assert_safe_page(text: str) -> PageParser:
    page = PageParser(text)
    assert "script" not in page.tags and page.handlers == []
    assert all(load.startswith("/static/") for load in page.loads)  # nothing from elsewhere
    assert all(link.startswith(("/", "#", "http://", "https://")) for link in page.links)
    return page


@pytest.mark.slow
def test_every_page_answers_with_a_title_a_footer_and_strict_headers(client) -> None:
    for url, title in [
        ("/", "Ask how your work will change"),
        (f"/brief?q={NURSE}", f"Briefing: {NURSE}"),
        ("/search?q=robots+in+warehouses", "Search: robots in warehouses"),
        ("/search", "Search"),
        ("/trends", "Trends"),
        ("/trends?by=quarter&sector=healthcare", "Trends: healthcare"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "script-src" not in response.headers["content-security-policy"]  # no script is allowed at all
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        page = _assert_safe_page(response.text)
        assert page.title.startswith(title), (url, page.title)
        assert re.search(r"44 items in the knowledge base; the newest from \d{4}-\d{2}-\d{2}", response.text)
    home = client.get("/").text
    assert "healthcare and social care" in home and "/brief?q=" in home  # sectors with counts, examples
    assert client.get("/static/style.css").text.count("@media print") == 1


@pytest.mark.slow
def test_the_briefing_page_cites_and_links_to_the_items(client) -> None:
    text = client.get("/brief", params={"q": NURSE}).text
    page = PageParser(text)
    assert {"h1", "table", "sup", "ol"} <= set(page.tags)
    items = [link for link in page.links if link.startswith("/items/")]
    assert items and all(client.get(link).status_code == 200 for link in items)
    numbers = {int(n) for n in re.findall(r'href="#source-(\d+)"', text)}
    assert numbers and numbers == {int(n) for n in re.findall(r'id="source-(\d+)"', text)}
    thin = client.get("/brief", params={"q": "I run the crushing plant at a quarry"}).text
    assert "Little evidence." in thin


@pytest.mark.slow
def test_json_twins_have_the_spec_shapes(client) -> None:
    found = client.get("/api/brief", params={"q": NURSE}).json()
    assert {"question", "sector", "occupations", "signals", "sources", "markdown"} <= set(found)
    assert all(set(s["sources"]) <= {x["id"] for x in found["sources"]} for s in found["signals"])
    results = client.get("/api/search", params={"q": "warehouse robots", "k": 3}).json()["results"]
    assert len(results) == 3 and {"id", "title", "url", "published", "score"} <= set(results[0])
    item = client.get(f"/api/items/{results[0]['id']}").json()
    assert item["id"] == results[0]["id"] and {"signals", "closest", "duplicates", "tags"} <= set(item)
    series = client.get("/api/trends", params={"by": "quarter"}).json()["series"]
    assert series and {"label", "kind", "points", "growth"} <= set(series[0])
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["items"] == 44


@pytest.mark.slow
def test_unknown_ids_are_404_and_bad_parameters_400_never_a_traceback(client) -> None:
    for url, status in [
        ("/items/" + "0" * 32, 404),
        ("/items/not-an-id", 404),
        ("/api/items/" + "0" * 32, 404),
        ("/no/such/page", 404),
        ("/brief", 400),
        ("/brief?q=" + "x" * 501, 400),
        ("/brief?q=nurse&since=last+week", 400),
        ("/search?q=nurse&k=0", 400),
        ("/api/search", 400),
        ("/trends?by=week", 400),
        ("/api/trends?by=decade", 400),
    ]:
        response = client.get(url)
        assert response.status_code == status, url
        assert "Traceback" not in response.text
        if url.startswith("/api/"):
            assert "error" in response.json()
        else:
            assert PageParser(response.text).title.startswith(("Not found", "Bad request"))
    too_big = client.post("/api/items/" + "0" * 32 + "/tags", content=b"x" * 70_000)
    assert too_big.status_code == 413


@pytest.mark.slow
def test_an_item_is_found_by_a_unique_prefix_of_its_id(client) -> None:
    item_id = client.get("/api/search?q=robots+in+warehouses").json()["results"][0]["id"]
    whole = client.get(f"/api/items/{item_id}").json()
    assert client.get(f"/api/items/{item_id[:10]}").json()["id"] == whole["id"] == item_id
    assert PageParser(client.get(f"/items/{item_id[:10]}").text).title.startswith(whole["title"][:30])
    assert client.get(f"/api/items/{item_id[:3]}").status_code == 404  # too short to be an id's prefix


@pytest.mark.slow
def test_hostile_item_text_is_never_run_or_linked(demo_kb, tmp_path) -> None:
    kb = tmp_path / "kb"
    copy_kb(demo_kb, kb)
    post = tmp_path / "hostile.md"
    post.write_text(HOSTILE_POST, encoding="utf-8")
    result = smkb("ingest", str(post), "--json", kb=kb)
    assert result.exit_code == 0, result.stderr
    item_id = re.search(r'"id": "([0-9a-f]{32})"', result.stdout).group(1)
    with _client(kb) as client:
        pages = [
            client.get(f"/items/{item_id}").text,
            client.get("/brief", params={"q": "How will robots change hospital nursing?"}).text,
            client.get("/search", params={"q": "robots hospital wards"}).text,
            client.get("/trends").text,
        ]
        assert "alert(5)" in pages[0] and item_id in pages[1]  # the hostile text is shown, as text
        for text in pages:
            page = _assert_safe_page(text)
            assert "iframe" not in page.tags and "img" not in page.tags
            assert not any("javascript" in link.lower() for link in page.links)


@pytest.mark.slow
def test_smkb_serve_answers_over_loopback_and_stops(demo_kb) -> None:
    import httpx

    with smkb_serve(demo_kb, "--readers", "3") as served:
        health = httpx.get(f"{served.base}/healthz", timeout=5)
        assert health.status_code == 200 and health.json()["items"] == 44
        page = httpx.get(f"{served.base}/brief", params={"q": NURSE}, timeout=30)
        assert page.status_code == 200 and "Signals of change" in page.text
    assert f"on {served.base}/ with 3 reading threads" in served.stderr and "Traceback" not in served.stderr


TOKEN = "analyst-secret-1234-0123456789"  # the 24 characters a token needs, and more


@pytest.fixture
def writable(demo_kb, tmp_path):
    from starlette.testclient import TestClient

    from shadowmatch_kb.web.app import create_app

    kb = tmp_path / "kb"
    copy_kb(demo_kb, kb)
    with TestClient(create_app(kb, analyst_token=TOKEN), raise_server_exceptions=False) as test_client:
        test_client.item_id = test_client.get("/api/search", params={"q": "nurses"}).json()["results"][0]["id"]
        yield test_client, kb


@pytest.mark.slow
def test_scripts_write_tags_with_the_bearer_token_only(writable) -> None:
    client, kb = writable
    url = f"/api/items/{client.item_id}/tags"
    body = {"add": ["shadow-day", "checked"], "remove": []}
    assert client.post(url, json=body).status_code == 401  # no token
    assert client.post(url, json=body, headers={"Authorization": "Bearer wrong"}).status_code == 403
    auth = {"Authorization": f"Bearer {TOKEN}"}
    done = client.post(url, json=body, headers=auth)
    assert done.status_code == 200 and done.json()["tags"] == ["checked", "shadow-day"]
    fixed = client.post(url, json={"remove": ["checked"], "sectors": ["education"]}, headers=auth).json()
    assert fixed["tags"] == ["shadow-day"] and fixed["sectors"] == ["education"]
    # Recorded as the CLI records them: an analyst edit that `smkb show` reads back.
    shown = smkb("show", client.item_id, "--format", "json", kb=kb)
    assert '"education"' in shown.stdout and '"shadow-day"' in shown.stdout
    for bad in ({"add": "x"}, {"add": [1]}, {"colour": ["red"]}, ["add"]):
        assert client.post(url, json=bad, headers=auth).status_code == 400
    assert client.post(url, content=b"{not json", headers=auth).status_code == 400
    assert client.post("/api/items/" + "0" * 32 + "/tags", json=body, headers=auth).status_code == 404


@pytest.mark.slow
def test_people_review_after_signing_in_and_every_form_needs_its_csrf_token(writable) -> None:
    client, _ = writable
    page = client.get(f"/items/{client.item_id}").text
    assert 'name="token"' in page and "review-add_tag" not in page  # the sign-in form, no review forms
    form = {"action": "add_tag", "value": "from-the-page", "csrf": "forged"}
    assert client.post(f"/items/{client.item_id}/review", data=form).status_code == 401  # not signed in
    assert client.post("/signin", data={"token": "wrong"}).status_code == 403
    signed = client.post("/signin", data={"token": TOKEN, "next": f"/items/{client.item_id}"}, follow_redirects=False)
    assert signed.status_code == 303 and "httponly" in signed.headers["set-cookie"].lower()
    assert "samesite=strict" in signed.headers["set-cookie"].lower()
    page = client.get(f"/items/{client.item_id}").text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    assert client.post(f"/items/{client.item_id}/review", data=form).status_code == 403  # forged CSRF token
    form["csrf"] = csrf
    saved = client.post(f"/items/{client.item_id}/review", data=form, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"/items/{client.item_id}"
    assert "from-the-page" in client.get(f"/api/items/{client.item_id}").json()["tags"]
    themes = {"action": "themes", "value": "care robots, staffing", "csrf": csrf}
    client.post(f"/items/{client.item_id}/review", data=themes)
    assert client.get(f"/api/items/{client.item_id}").json()["themes"] == ["care robots", "staffing"]
    assert (
        client.post("/signin", data={"token": TOKEN, "next": "//evil.example/x"}, follow_redirects=False).headers[
            "location"
        ]
        == "/"
    )  # never redirected off the site


@pytest.mark.slow
def test_a_server_without_a_token_is_read_only(client) -> None:
    item_id = client.get("/api/search", params={"q": "nurses"}).json()["results"][0]["id"]
    refused = client.post(f"/api/items/{item_id}/tags", json={"add": ["x"]}, headers={"Authorization": "Bearer x"})
    assert refused.status_code == 403 and "read-only" in refused.json()["error"]
    assert "Analyst review" not in client.get(f"/items/{item_id}").text
    assert client.post("/signin", data={"token": "x"}).status_code == 403


@pytest.mark.slow
def test_reads_go_on_while_an_import_holds_the_write_lock_and_writes_wait_briefly(demo_kb, tmp_path) -> None:
    import time

    from starlette.testclient import TestClient

    from shadowmatch_kb.store.lock import WriteLock
    from shadowmatch_kb.web.app import create_app

    kb = tmp_path / "kb"
    copy_kb(demo_kb, kb)
    app = create_app(kb, analyst_token=TOKEN, write_wait=0.5)
    with TestClient(app, raise_server_exceptions=False) as client:
        item_id = client.get("/api/search", params={"q": "nurses"}).json()["results"][0]["id"]
        with WriteLock(kb / "corpus" / "write.lock"):  # as `smkb ingest` holds it
            started = time.monotonic()
            assert client.get("/brief", params={"q": NURSE}).status_code == 200
            assert client.get(f"/items/{item_id}").status_code == 200
            assert time.monotonic() - started < 5
            busy = client.post(
                f"/api/items/{item_id}/tags", json={"add": ["x"]}, headers={"Authorization": f"Bearer {TOKEN}"}
            )
            assert busy.status_code == 503 and "busy" in busy.json()["error"]
        after = client.post(
            f"/api/items/{item_id}/tags", json={"add": ["x"]}, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert after.status_code == 200 and "x" in after.json()["tags"]


@pytest.mark.slow
def test_items_imported_while_serving_show_on_the_next_request(demo_kb, tmp_path) -> None:
    kb = tmp_path / "kb"
    copy_kb(demo_kb, kb)
    with _client(kb) as client:
        assert client.get("/healthz").json()["items"] == 44
        assert "44 items in the knowledge base" in client.get("/").text
        asked = {"q": "delivery robots fetch drugs on hospital wards", "k": 3}
        before = [r["title"] for r in client.get("/api/search", params=asked).json()["results"]]
        assert not any("Delivery robots" in title for title in before)
        post = tmp_path / "new.md"
        post.write_text(HOSTILE_POST.replace("Robots", "Delivery robots"), encoding="utf-8")
        assert smkb("ingest", str(post), kb=kb).exit_code == 0  # another writer, as `smkb ingest` would be
        assert client.get("/healthz").json()["items"] == 45
        assert "45 items in the knowledge base" in client.get("/search").text
        # The same question asked again is answered from the record as it is now, not as it was.
        after = [r["title"] for r in client.get("/api/search", params=asked).json()["results"]]
        assert any("Delivery robots" in title for title in after)
