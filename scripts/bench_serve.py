"""Latency and throughput of `smkb serve` under load, against the cold CLI for the same questions.

For the demo corpus and a generated 10k-item knowledge base (built as in scripts/bench_brief.py), a
real `smkb serve` is started on a loopback port; 8 clients then ask `/search` (and then `/brief`)
back to back for ``--seconds`` each, in two ways: ``repeated``, cycling through 8 mentor questions
(the server remembers answers while the record is unchanged, as for bookmarked briefings and the home
page's examples), and ``distinct``, questions worded as mentors word them (job x context x ask, 6,000 of
them), so that no request repeats one asked before; then one client alone asks new questions for a
third of the time. Reported: p50 and p99 latency, requests per second and errors; the baseline from
the same run is the cold command (`smkb search` / `smkb brief` in a fresh process, median of 3), so
the ratio shows what staying warm buys.

With clients asking back to back, p50 is about clients / throughput: on a machine with fewer cores
than clients it measures how many questions a second the server answers, more than how long one takes.

Targets: /search p50 <= 50 ms and /brief p50 <= 1 s at 10k items, no errors under load.
Usage: python scripts/bench_serve.py [--seconds 30] [--clients 8] [--sizes demo 10000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import itertools
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGETS = {"search_p50_ms": 50, "brief_p50_ms_10k": 1000}
QUESTIONS = [
    "I'm a nurse on a busy ward. How will AI change my job?",
    "I work as a bank clerk processing loan forms.",
    "I supervise a team in a distribution warehouse.",
    "I teach maths at a secondary school.",
    "I'm a solicitor at a law firm.",
    "I drive a lorry for a haulage company.",
    "I run the kitchen of a restaurant.",
    "I'm a software developer.",
]


JOBS = ["nurse", "bank clerk", "warehouse supervisor", "maths teacher", "solicitor", "lorry driver", "chef",
        "software developer", "call centre agent", "civil servant", "hotel receptionist", "farmer",
        "graphic designer", "factory worker", "journalist", "accountant", "pharmacist", "electrician",
        "social worker", "shop assistant", "care home manager", "bus driver", "architect", "plumber",
        "paralegal", "radiographer", "insurance underwriter", "translator", "librarian", "police officer"]  # fmt: skip
ASKS = ["How will AI change my job?", "What will robots do to my work?", "Which of my tasks will change first?",
        "Should I worry about automation?", "What skills will I need in ten years?",
        "How are chatbots changing my work?", "Will there be fewer jobs like mine?",
        "What should I tell a young visitor about the future of my work?",
        "Which parts of my day could software take over?", "How should I train the apprentices I host?"]  # fmt: skip
CONTEXTS = ["", "I have done it for twenty years.", "I started last spring.", "I work part-time.",
            "I work nights.", "I work in a small town.", "I work for a large company.", "I am self-employed.",
            "I work for the council.", "I manage a small team.", "I am close to retiring.",
            "I work in the city centre.", "I work shifts at weekends.", "I trained abroad.",
            "My employer is a charity.", "I host a student next month.", "I work from home twice a week.",
            "I am the only one in my firm who does this.", "I changed careers at forty.",
            "I work for a family business."]  # fmt: skip
# 6,000 questions as mentors word them, for the runs where no question is asked twice.
DISTINCT = [f"I work as a {job}. {context} {ask}".replace("  ", " ") for context in CONTEXTS for ask in ASKS
            for job in JOBS]  # fmt: skip


def _bench_brief():
    spec = importlib.util.spec_from_file_location("bench_brief", REPO / "scripts" / "bench_brief.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _smkb(kb: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "shadowmatch_kb", "--kb", str(kb), *args]


def cold_seconds(kb: Path, command: str) -> float:
    """Median of 3 fresh processes answering one question."""
    times = []
    for question in QUESTIONS[:3]:
        start = time.perf_counter()
        subprocess.run(_smkb(kb, command, question), check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def never_asked(questions: list[str], asked: set[str]) -> Iterator[str]:
    """The questions not in ``asked`` (then numbered variants of them), each added to ``asked`` as it is
    handed out: shared by the runs against one server, so none answers from what it remembers."""
    for rounds in itertools.count():
        for question in questions:
            if rounds:
                question = f"{question} ({rounds})"
            if question not in asked:
                asked.add(question)
                yield question


async def load(
    base: str, path: str, clients: int, seconds: float, questions: list[str] | Iterator[str]
) -> dict[str, float | int]:
    """``clients`` asking back to back: cycling through a list, or each taking the next of an iterator."""
    import httpx

    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds
    cycle = itertools.cycle(questions) if isinstance(questions, list) else questions

    async def client() -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            while time.monotonic() < stop:
                question = next(cycle)
                start = time.perf_counter()
                try:
                    response = await http.get(path, params={"q": question})
                    if response.status_code != 200:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - start)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": round(1000 * latencies[len(latencies) // 2], 1),
        "p99_ms": round(1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1),
        "rps": round(len(latencies) / elapsed, 1),
    }


def measure(kb: Path, clients: int, seconds: float) -> dict[str, object]:
    import httpx

    port = _free_port()
    server = subprocess.Popen(_smkb(kb, "serve", "--port", str(port)), stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    why = server.stderr.read() if server.stderr else ""
                    raise SystemExit(f"smkb serve did not start: {why}") from None
                time.sleep(0.3)
        for question in QUESTIONS:  # each question once, so the load measures warm answers
            httpx.get(f"{base}/brief", params={"q": question}, timeout=60)
        result: dict[str, object] = {}
        for path in ("/search", "/brief"):
            asked: set[str] = set()
            result[path] = asyncio.run(load(base, path, clients, seconds, QUESTIONS))
            result[f"{path} distinct"] = asyncio.run(load(base, path, clients, seconds, never_asked(DISTINCT, asked)))
            # One client alone: how long a new question takes when nobody else is asking.
            alone = asyncio.run(load(base, path, 1, seconds / 3, never_asked(DISTINCT, asked)))
            result[f"{path} distinct, one client"] = alone
    finally:
        server.terminate()
        server.communicate(timeout=30)
    for path, command in (("/search", "search"), ("/brief", "brief")):
        cold = cold_seconds(kb, command)
        for name in (path, f"{path} distinct", f"{path} distinct, one client"):
            figures = result[name]
            assert isinstance(figures, dict)
            figures["cold_cli_s"] = round(cold, 3)
            figures["cold_over_warm_p50"] = round(1000 * cold / max(figures["p50_ms"], 1e-9), 1)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--sizes", nargs="+", default=["demo", "10000"])
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "smkb-bench-brief")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    builder = _bench_brief()
    args.workdir.mkdir(parents=True, exist_ok=True)
    demo = builder._demo_with_export(args.workdir)
    report: dict[str, object] = {"clients": args.clients, "seconds": args.seconds, "sizes": {}, "targets": TARGETS}
    for size in args.sizes:
        kb = demo if size == "demo" else builder.build_kb(args.workdir, int(size), demo)
        figures = measure(kb, args.clients, args.seconds)
        report["sizes"][size] = figures  # type: ignore[index]
        print(f"{size}: {json.dumps(figures)}", file=sys.stderr)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
