"""The default install has no torch, sentence-transformers or chromadb: the main job must run without them.

CI's test install has all three (the fidelity tests need them), so these tests make them unimportable in a
child process, as the README's default install leaves them, and run the commands there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import smkb

ROOT = Path(__file__).resolve().parents[1]
# A child interpreter in which the optional packages cannot be imported, running `smkb` with its arguments.
_WITHOUT_EXTRAS = (
    "import sys\n"
    "for name in ('torch', 'sentence_transformers', 'transformers', 'chromadb'):\n"
    "    sys.modules[name] = None\n"
    "from shadowmatch_kb.cli import main\n"
    "sys.argv = ['smkb', *sys.argv[1:]]\n"
    "main()\n"
)


def smkb_without_extras(*argv: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT_EXTRAS, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
def test_the_main_job_runs_without_torch_or_chromadb(tmp_path):
    kb = str(tmp_path / "kb")
    imported = smkb_without_extras("--kb", kb, "ingest", str(ROOT / "corpus" / "demo"), "--json")
    assert imported.returncode == 0, imported.stderr[-2000:]
    found = smkb_without_extras("--kb", kb, "search", "will AI take over paperwork in hospitals?", "--json")
    assert found.returncode == 0, found.stderr[-2000:]
    results = json.loads(found.stdout)["results"]
    # The same answer as with every package there (in this process: torch importable, not needed).
    same = smkb("search", "will AI take over paperwork in hospitals?", "--json", kb=Path(kb))
    assert results and [r["id"] for r in results] == [r["id"] for r in json.loads(same.stdout)["results"]]
    assert "slower" not in found.stderr and "sentence-transformers" not in found.stderr
    briefed = smkb_without_extras("--kb", kb, "brief", "I'm a nurse on a hospital ward")
    assert briefed.returncode == 0 and "## Sources" in briefed.stdout, briefed.stderr[-2000:]
    assert list((tmp_path / "kb" / "indexes" / "onnx").glob("*/export.json"))


def test_the_chroma_index_without_chromadb_says_which_extra_to_install(tmp_path):
    result = smkb_without_extras(
        "--kb", str(tmp_path / "kb"), "--index", "chroma", "ingest", str(ROOT / "corpus" / "demo")
    )
    assert result.returncode != 0
    assert "pip install 'shadowmatch_kb[chroma]'" in result.stderr
    assert "Traceback" not in result.stderr
