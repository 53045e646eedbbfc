"""The export folder both exporters write (``bert_onnx`` from the weights, ``sentence_transformer`` by tracing):
its format number, the ONNX opset, and how a finished folder replaces the old one in one rename."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shadowmatch_kb.errors import BackendError

__all__ = [
    "EXPORT_FORMAT",
    "OPSET",
    "make_readable",
    "remove_stale_tmp",
    "save_graph",
    "swap_into_place",
    "write_export",
]

# Bumped when the layout of an export directory changes, so old exports are rebuilt, not misread.
EXPORT_FORMAT = 1
# 14 is the first opset with the ops BERT-style graphs need in one piece; 17 is well supported by onnxruntime.
OPSET = 17
# Temporary export folders older than this are leftovers of a crashed export, not one in progress.
_STALE_TMP_SECONDS = 3600


def write_export(dest_dir: Path, what: str, write_files: Callable[[Path], dict[str, Any]]) -> Path:
    """Fill a fresh folder beside ``dest_dir`` with ``write_files`` (the graph, its weights and the tokenizer; it
    returns the fields of export.json), write export.json last and rename the folder into place. A failure is one
    BackendError naming ``what`` was exported, and leaves nothing that looks finished."""
    dest_dir = Path(dest_dir)
    dest_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_tmp(dest_dir)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest_dir.name}.", suffix=".tmp", dir=dest_dir.parent))
    try:
        meta = {"format": EXPORT_FORMAT, **write_files(tmp), "opset": OPSET}
        # export.json is written last: a folder holding it is a finished export.
        (tmp / "export.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        make_readable(tmp)
        swap_into_place(tmp, dest_dir)
    except BackendError:
        raise
    except Exception as exc:  # torch, onnx, safetensors and the file system each raise their own kinds
        raise BackendError(f"the ONNX export of {what} to {dest_dir} failed: {exc}") from exc
    finally:
        # Already gone after a successful swap; after a failure or an interrupt, nothing half-done stays.
        shutil.rmtree(tmp, ignore_errors=True)
    return dest_dir


def save_graph(model: Any, folder: Path) -> None:
    """Save an onnx ModelProto as folder/model.onnx with every large weight in the one file model.onnx.data (the
    layout ``OnnxEmbedder.load`` opens)."""
    import onnx

    onnx.save_model(
        model,
        str(folder / "model.onnx"),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="model.onnx.data",
        size_threshold=1024,
    )


def make_readable(folder: Path) -> None:
    """mkdtemp and onnx create owner-only files; an export is as shareable as the index beside it."""
    os.chmod(folder, 0o755)
    for path in folder.iterdir():
        os.chmod(path, 0o644)


def swap_into_place(tmp: Path, dest: Path) -> None:
    """Rename ``tmp`` to ``dest``; an existing ``dest`` is moved aside first and removed after."""
    if not dest.exists():
        os.rename(tmp, dest)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".old", dir=dest.parent))
    os.rmdir(old)
    os.rename(dest, old)
    os.rename(tmp, dest)
    shutil.rmtree(old, ignore_errors=True)


def remove_stale_tmp(dest: Path) -> None:
    """Drop half-written exports that a crashed run left beside ``dest``."""
    now = time.time()
    for pattern in (f".{dest.name}.*.tmp", f".{dest.name}.*.old"):
        for path in dest.parent.glob(pattern):
            with contextlib.suppress(OSError):
                if now - path.stat().st_mtime > _STALE_TMP_SECONDS or path.suffix == ".old":
                    shutil.rmtree(path, ignore_errors=True)
