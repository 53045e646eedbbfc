"""Sentence splitting with verbatim offsets, on written and real texts."""

from __future__ import annotations

import json

from conftest import require_shared

from shadowmatch_kb.text.sentences import split_sentences


def test_sentences_are_verbatim_slices_with_abbreviations_kept() -> None:
    text = (
        'Dr. Smith said the U.S. economy grew 2.5% in 2023. "Robots will replace clerks," she added! Is it true?\n\n'
        "- Banks cut 10,000 jobs.\n- Call centres shrink.\nBy 2030, 30% of hours could be automated (McKinsey). The end"
    )
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == [
        "Dr. Smith said the U.S. economy grew 2.5% in 2023.",
        '"Robots will replace clerks," she added!',
        "Is it true?",
        "- Banks cut 10,000 jobs.",
        "- Call centres shrink.",
        "By 2030, 30% of hours could be automated (McKinsey).",
        "The end",
    ]
    for sentence in sentences:
        assert text[sentence.start : sentence.end] == sentence.text


def test_empty_and_blank_texts_have_no_sentences() -> None:
    assert split_sentences("") == [] and split_sentences(" \n\n \n") == []


def test_real_articles_split_into_verbatim_sentences() -> None:
    truth = json.loads(require_shared("extraction", "zyte", "ground-truth.json").read_text())
    for entry in list(truth.values())[:80]:
        body = entry["articleBody"]
        sentences = split_sentences(body)
        assert sentences
        for sentence in sentences:
            assert body[sentence.start : sentence.end] == sentence.text and sentence.text.strip() == sentence.text
        # Sentences do not overlap and come in order.
        assert all(a.end <= b.start for a, b in zip(sentences, sentences[1:], strict=False))
