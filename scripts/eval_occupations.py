"""How well a mentor's own words find their ISCO-08 unit group, on ESCO v1 from ../shared/data/occupations.

The questions below were written for this evaluation, in the way mentors describe their work; each lists
the ISCO-08 unit groups it means (two when the words fit either, as "call centre" fits the contact-centre
clerks and the contact-centre salespeople). Prints one JSON document: top-1 and top-3 accuracy of the
matcher (words and meaning, blended) against a TF-IDF match over the same ESCO labels, from the same run
(targets: top-1 >= 0.8, top-3 >= 0.95), and the time of one warm match.

Usage: python scripts/eval_occupations.py
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ESCO = REPO.parent / "shared" / "data" / "occupations" / "esco_v1"

QUESTIONS: list[tuple[str, tuple[str, ...]]] = [
    ("I answer phones in a call centre", ("4222", "5244")),
    ("I'm a nurse on a hospital ward", ("2221",)),
    ("I drive a lorry for a haulage company", ("8332",)),
    ("I pick and pack orders in a warehouse", ("9333", "4321")),
    ("I work as a bank teller", ("4211",)),
    ("I'm a paralegal in a law firm", ("3411",)),
    ("I teach at a primary school", ("2341",)),
    ("I teach maths at a secondary school", ("2330",)),
    ("I write software for a living", ("2512", "2514")),
    ("I'm an accountant", ("2411",)),
    ("I do the bookkeeping for small businesses", ("4311", "3313")),
    ("I work on the till at a supermarket", ("5230",)),
    ("I cook in a restaurant kitchen", ("5120", "3434")),
    ("I wait tables in a cafe", ("5131",)),
    ("I cut hair in a salon", ("5141",)),
    ("I'm an electrician", ("7411",)),
    ("I'm a plumber", ("7126",)),
    ("I'm a carpenter", ("7115",)),
    ("I grow vegetables on my farm", ("6111", "6113")),
    ("I'm a family doctor", ("2211",)),
    ("I'm a pharmacist", ("2262",)),
    ("I'm a receptionist at a hotel", ("4224", "4226")),
    ("I design logos and posters", ("2166",)),
    ("I'm a journalist at a local newspaper", ("2642",)),
    ("I translate documents from Spanish to English", ("2643",)),
    ("I'm a lawyer", ("2611",)),
    ("I'm a police officer", ("5412",)),
    ("I'm a firefighter", ("5411",)),
    ("I care for elderly people in their homes", ("5322",)),
    ("I'm a social worker", ("2635",)),
    ("I repair cars in a garage", ("7231",)),
    ("I drive a bus", ("8331",)),
    ("I drive a taxi", ("8322",)),
    ("I clean offices", ("9112",)),
    ("I'm a security guard", ("5414",)),
    ("I'm an architect", ("2161",)),
    ("I'm a civil engineer building bridges", ("2142",)),
    ("I work in a public library", ("2622", "4411")),
    ("I type data into spreadsheets all day", ("4132",)),
    ("I sell houses as an estate agent", ("3334",)),
    ("I'm a dental hygienist", ("3251",)),
    ("I work as a pilot for an airline", ("3153",)),
    ("I look after children in a nursery", ("5311", "2342")),
    ("I'm a welder in a shipyard", ("7212",)),
    ("I work as a butcher", ("7511",)),
    ("I'm a baker", ("7512",)),
    ("I'm a chartered surveyor", ("2165", "3112")),
    ("I deliver parcels on a bike", ("9331", "9621")),
    ("I'm a personal assistant to a company director", ("4120", "3343")),
    ("I work in HR, recruiting staff", ("2423", "3333")),
]


def main() -> int:
    """Import ESCO into a scratch knowledge base's store, then score every question both ways."""
    if not ESCO.is_dir():
        sys.stderr.write(f"{ESCO} is absent: the evaluation needs ../shared/data beside the checkout\n")
        return 1
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from shadowmatch_kb.embed.onnx import OnnxEmbedder
    from shadowmatch_kb.embed.sentence_transformer import SentenceTransformerEmbedder
    from shadowmatch_kb.occupations.esco import read_esco
    from shadowmatch_kb.occupations.service import load_matcher
    from shadowmatch_kb.occupations.store import save_dataset
    from shadowmatch_kb.store.migrations import apply_migrations

    with tempfile.TemporaryDirectory() as scratch:
        db = sqlite3.connect(Path(scratch) / "kb.sqlite", isolation_level=None)
        apply_migrations(db)
        save_dataset(db, read_esco(ESCO), str(ESCO))
        embedder = OnnxEmbedder.load(
            SentenceTransformerEmbedder("all-MiniLM-L6-v2").export_onnx(Path(scratch) / "onnx")
        )
        matcher = load_matcher(db, Path(scratch) / "occupations", lambda: embedder)
        assert matcher is not None
        codes = {label.isco for label in matcher.labels}
        unknown = sorted({c for _, wanted in QUESTIONS for c in wanted if c not in codes})
        report: dict[str, object] = {"questions": len(QUESTIONS), "labels": len(matcher.labels)}
        for name, weight in (("ours", None), ("baseline_tfidf_esco_labels", 0.0)):
            top1 = top3 = 0
            misses = []
            start = time.perf_counter()
            for question, wanted in QUESTIONS:
                if weight is None:
                    matches = matcher.match(question, 3)
                else:
                    matches = matcher.match(question, 3, semantic_weight=weight, read_doer=False)
                found = [m.isco for m in matches]
                top1 += bool(found) and found[0] in wanted
                top3 += any(code in wanted for code in found)
                if not found or found[0] not in wanted:
                    misses.append({"question": question, "wanted": wanted, "found": found})
            seconds = (time.perf_counter() - start) / len(QUESTIONS)
            report[name] = {
                "top1": round(top1 / len(QUESTIONS), 3),
                "top3": round(top3 / len(QUESTIONS), 3),
                "ms_per_match": round(seconds * 1000, 1),
                "top1_misses": misses,
            }
        report["targets"] = {"top1": 0.8, "top3": 0.95}
        report["codes_not_in_esco"] = unknown
        db.close()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
