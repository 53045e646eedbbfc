"""The optional language-model backend against a real loopback server replaying recorded answers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import free_port, require_shared

from shadowmatch_kb.enrich.llm import LlmSettings, build_request, enrich_with_llm
from shadowmatch_kb.errors import BackendError
from shadowmatch_kb.formats.signals_post import parse_signals_post

RECORDED = Path(__file__).parent / "recorded" / "llm"
MODEL = "llama-3.1-8b-instruct"
POST_ID = "01bec9add8819c277aad7d7ba19983f7"
# Error paths do not depend on the article; this text keeps them running where ../shared is absent.
SHORT_TEXT = "Banks are replacing call-centre staff with chatbots. Unions ask for retraining funds before 2030."


class RecordedServer:
    """A chat-completions server on loopback: answers with queued replies, remembers every request."""

    def __init__(self) -> None:
        self.replies: list[tuple[int, bytes, float]] = []
        self.requests: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                owner.requests.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "json": json.loads(raw),
                    }
                )
                status, body, delay = owner.replies.pop(0) if owner.replies else (404, b'{"error": "none"}', 0.0)
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting, as the timeout test wants

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def reply(self, name: str | None = None, *, status: int = 200, delay: float = 0.0, body: Any = None) -> None:
        """Queue one answer: a recorded file by name, or a body given here."""
        raw = (RECORDED / name).read_bytes() if name else json.dumps(body).encode()
        self.replies.append((status, raw, delay))

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[RecordedServer]:
    running = RecordedServer()
    yield running
    running.close()


@pytest.fixture(scope="module")
def post():
    path = require_shared("signals_posts", f"{POST_ID}.md")
    return parse_signals_post(path.read_text(encoding="utf-8"), item_id=POST_ID)


def recorded_content(name: str) -> dict[str, Any]:
    """The JSON object inside a recorded completion."""
    return json.loads(json.loads((RECORDED / name).read_text())["choices"][0]["message"]["content"])


def completion(content: Any) -> dict[str, Any]:
    """A chat completion as an OpenAI-compatible server sends it, around ``content``."""
    text = content if isinstance(content, str) else json.dumps(content)
    choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1717430400,
        "model": MODEL,
        "choices": [choice],
    }


def failure(server: RecordedServer, text: str = SHORT_TEXT, **settings: Any) -> str:
    """Run one request that must fail; returns the BackendError's message after checking it is one line."""
    with pytest.raises(BackendError) as caught:
        enrich_with_llm("A title", text, LlmSettings(url=server.url, model=MODEL, **settings))
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400
    return message


def test_from_env_is_none_without_a_url(monkeypatch) -> None:
    monkeypatch.delenv("SMKB_LLM_URL", raising=False)
    monkeypatch.setenv("SMKB_LLM_MODEL", MODEL)
    assert LlmSettings.from_env() is None
    monkeypatch.setenv("SMKB_LLM_URL", "   ")
    assert LlmSettings.from_env() is None


def test_from_env_reads_the_endpoint_model_and_key(monkeypatch) -> None:
    monkeypatch.setenv("SMKB_LLM_URL", "http://127.0.0.1:8080/v1/")
    monkeypatch.setenv("SMKB_LLM_MODEL", MODEL)
    monkeypatch.setenv("SMKB_LLM_API_KEY", "sk-local-secret")
    settings = LlmSettings.from_env()
    assert settings == LlmSettings("http://127.0.0.1:8080/v1/", MODEL, "sk-local-secret", 60.0)
    assert settings.endpoint == "http://127.0.0.1:8080/v1/chat/completions"
    assert "sk-local-secret" not in repr(settings)
    monkeypatch.setenv("SMKB_LLM_URL", "http://127.0.0.1:8080/v1/chat/completions")
    monkeypatch.setenv("SMKB_LLM_API_KEY", "")
    monkeypatch.delenv("SMKB_LLM_MODEL")
    settings = LlmSettings.from_env()
    assert settings is not None and settings.api_key is None and settings.model == ""
    assert settings.endpoint == "http://127.0.0.1:8080/v1/chat/completions"


def test_a_good_answer_is_validated_and_every_row_quotes_whole_sentences(server, post) -> None:
    server.reply("good.json")
    settings = LlmSettings(url=server.url, model=MODEL, api_key="sk-local-secret", timeout=10)
    with httpx.Client() as client:
        found = enrich_with_llm(post.title, post.summary, settings, client=client)

    expected = recorded_content("good.json")
    assert found.summary == expected["summary"]
    assert found.keywords == expected["keywords"] and len(found.keywords) == 10
    assert found.themes == ["augmentation of professional work", "productivity gains", "knowledge management"]
    assert found.sectors == ["call centres", "administrative and support service activities"]
    assert found.dropped_rows == 0
    assert [s.signal for s in found.signals] == [row["signal"] for row in expected["signals"]]
    assert found.signals[0].driving_force == "efficiency and productivity"
    assert found.signals[0].change.startswith("from unaided support work")
    # A partial quote becomes its whole sentence; a quote across two sentences keeps both.
    assert found.signals[0].evidence.startswith("The findings show that access to this tool")
    assert found.signals[1].evidence.endswith("Experienced and highly skilled workers experience minimal impact.")
    # The recorded quote breaks a line where the text has one space; the evidence is the text's own slice.
    assert found.signals[2].evidence.startswith("The AI model appears to disseminate tacit knowledge")
    for signal in found.signals:
        assert signal.evidence in post.summary

    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["authorization"] == "Bearer sk-local-secret"
    assert request["headers"]["content-type"] == "application/json"
    body = request["json"]
    assert body["model"] == MODEL
    assert body["response_format"] == {"type": "json_object"}
    system, user = body["messages"]
    assert system["role"] == "system" and user["role"] == "user"
    for field in ('"summary"', '"keywords"', '"themes"', '"sectors"', '"signals"', '"driving_force"', '"evidence"'):
        assert field in system["content"]
    assert "at most 7 words" in system["content"] and "labour shortage" in system["content"]
    assert post.title in user["content"] and post.summary in user["content"]


def test_rows_without_a_verbatim_quote_are_dropped(server, post) -> None:
    # This recording also wraps its JSON in a code fence, as some servers do even in JSON mode.
    server.reply("non_verbatim_evidence.json")
    found = enrich_with_llm(post.title, post.summary, LlmSettings(url=server.url, model=MODEL))
    assert found.dropped_rows == 3  # a paraphrase, the title, and a quote with an ellipsis
    assert [s.signal for s in found.signals] == ["Fewer escalations to managers"]
    assert found.signals[0].evidence in post.summary
    assert "authorization" not in server.requests[0]["headers"]


def test_invalid_json_is_a_backend_error(server, post) -> None:
    server.reply("invalid_json.json")
    assert "invalid JSON" in failure(server, post.summary)


def test_an_answer_cut_at_the_length_limit_is_a_backend_error(server, post) -> None:
    server.reply("truncated_at_length_limit.json")
    assert "length limit" in failure(server, post.summary)


def test_a_schema_violation_is_a_backend_error(server, post) -> None:
    server.reply("schema_violation.json")
    message = failure(server, post.summary)
    assert "breaks the schema: signals[0].signal has 12 words (at most 7)" in message


def test_a_server_error_is_a_backend_error_with_its_message(server) -> None:
    server.reply("server_error.json", status=500)
    message = failure(server)
    assert "HTTP 500" in message and "overloaded" in message and server.url in message


def test_a_slow_server_times_out(server) -> None:
    server.reply("server_error.json", delay=3.0)
    started = time.monotonic()
    message = failure(server, timeout=0.3)
    assert "did not answer within 0.3 s" in message
    assert time.monotonic() - started < 2.0


def test_an_unreachable_endpoint_is_a_backend_error() -> None:
    settings = LlmSettings(url=f"http://127.0.0.1:{free_port()}/v1", model=MODEL, timeout=5)
    with pytest.raises(BackendError, match="could not be reached"):
        enrich_with_llm("A title", SHORT_TEXT, settings)


def _bad(content: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**content, **changes}


GOOD = {
    "summary": "Banks replace call-centre staff with chatbots.",
    "keywords": ["chatbots", "call centres"],
    "themes": ["task automation"],
    "sectors": ["financial and insurance activities"],
    "signals": [
        {
            "signal": "Chatbots replace call-centre staff",
            "change": "from human agents to chatbots",
            "horizon": "by 2030 few banks staff call centres",
            "driving_force": "cost",
            "evidence": "Banks are replacing call-centre staff with chatbots.",
        }
    ],
}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ([GOOD], "JSON list, not an object"),
        (_bad(GOOD, summary=None), "summary is NoneType, not a string"),
        (_bad(GOOD, summary=" "), "summary is empty"),
        (_bad(GOOD, keywords="chatbots, call centres"), "keywords is missing or not a list"),
        (_bad(GOOD, keywords=[f"keyword {i}" for i in range(16)]), "keywords has 16 entries (at most 15)"),
        (_bad(GOOD, themes=["task automation", 3]), "themes[1] is int, not a string"),
        ({k: v for k, v in GOOD.items() if k != "sectors"}, "sectors is missing or not a list"),
        (_bad(GOOD, signals=GOOD["signals"] * 9), "signals has 9 rows (at most 8)"),
        (_bad(GOOD, signals=["Chatbots replace staff"]), "signals[0] is str, not an object"),
        (_bad(GOOD, signals=[{**GOOD["signals"][0], "evidence": None}]), "signals[0].evidence is NoneType"),
        (_bad(GOOD, signals=[{**GOOD["signals"][0], "horizon": 2030}]), "signals[0].horizon is int"),
    ],
)
def test_schema_violations_name_the_field(server, content, reason) -> None:
    server.reply(body=completion(content))
    assert reason in failure(server)


def test_a_text_without_signals_gets_an_empty_table_and_duplicates_are_merged(server) -> None:
    server.reply(body=completion(_bad(GOOD, signals=[], keywords=["chatbots", "Chatbots", " call   centres "])))
    found = enrich_with_llm("A title", SHORT_TEXT, LlmSettings(url=server.url, model=MODEL))
    assert found.signals == [] and found.dropped_rows == 0
    assert found.keywords == ["chatbots", "call centres"]


def test_a_reasoning_preamble_is_skipped_and_a_short_quote_is_no_evidence(server) -> None:
    short = {**GOOD["signals"][0], "evidence": "chatbots."}
    content = "<think>The article is about banks.</think>\n" + json.dumps(_bad(GOOD, signals=[*GOOD["signals"], short]))
    server.reply(body=completion(content))
    found = enrich_with_llm("A title", SHORT_TEXT, LlmSettings(url=server.url, model=MODEL))
    assert [s.evidence for s in found.signals] == ["Banks are replacing call-centre staff with chatbots."]
    assert found.dropped_rows == 1


def test_an_answer_that_is_not_a_chat_completion_is_a_backend_error(server) -> None:
    server.reply(body={"object": "list", "data": []})
    assert "no chat completion" in failure(server)


def test_without_a_model_name_the_request_names_none() -> None:
    body = build_request("Title", SHORT_TEXT, LlmSettings(url="http://127.0.0.1:1/v1", model=""))
    assert "model" not in body and body["response_format"] == {"type": "json_object"}
    long_text = "Robots arrive. " * 5000
    assert len(build_request("Title", long_text, LlmSettings(url="u", model=MODEL))["messages"][1]["content"]) < 13_000


def test_a_blank_text_is_not_sent(server) -> None:
    assert "no text" in failure(server, "  \n ")
    assert server.requests == []


@pytest.mark.slow
def test_smkb_enrich_asks_the_configured_model_and_falls_back_with_a_warning(
    server, post, tmp_path, monkeypatch
) -> None:
    from conftest import smkb

    article = tmp_path / "article.txt"
    article.write_text(f"{post.title}\n\n{post.summary}\n", encoding="utf-8")
    kb = tmp_path / "kb"
    ingest = smkb("ingest", str(article), "--json", kb=kb)  # no endpoint configured: offline
    assert ingest.exit_code == 0, ingest.stderr and not server.requests
    item_id = json.loads(ingest.stdout)["items"][0]["id"]

    def shown() -> dict[str, Any]:
        return json.loads(smkb("show", item_id, "--format", "json", "-k", "0", kb=kb).stdout)

    assert shown()["enrichment"]["backend"] == "offline"
    monkeypatch.setenv("SMKB_LLM_URL", server.url)
    monkeypatch.setenv("SMKB_LLM_MODEL", MODEL)
    server.reply("good.json")
    result = smkb("enrich", item_id, "--json", kb=kb)
    assert result.exit_code == 0, result.stderr
    item = shown()
    assert item["enrichment"]["backend"] == f"llm:{MODEL}" and len(server.requests) == 1
    assert item["keywords"] == recorded_content("good.json")["keywords"]
    assert item["signals"] and all(row["evidence"] in item["text"] for row in item["signals"])

    server.reply(status=500, body={"error": {"message": "overloaded"}})
    result = smkb("enrich", item_id, "--json", kb=kb)
    assert result.exit_code == 0 and "language model unavailable" in result.stderr, result.stderr
    item = shown()
    assert item["enrichment"]["backend"] == "offline"
    assert item["summary"] and all(row["evidence"] in item["text"] for row in item["signals"])
