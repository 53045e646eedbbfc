"""The export folder both exporters write (``bert_onnx`` from the weights, ``sentence_transformer`` by tracing):
its format number, the ONNX opset, and how a finished folder replaces the old one in one rename."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path

__all__ = ["EXPORT_FORMAT", "OPSET", "make_readable", "remove_stale_tmp", "swap_into_place"]

# Bumped when the layout of an export directory changes, so old exports are rebuilt, not misread.
EXPORT_FORMAT = 1
# 14 is the first opset with the ops BERT-style graphs need in one piece; 17 is well supported by onnxruntime.
OPSET = 17
# Temporary export folders older than this are leftovers of a crashed export, not one in progress.
_STALE_TMP_SECONDS = 3600


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
