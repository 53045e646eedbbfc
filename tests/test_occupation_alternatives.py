"""Which close groups a person is offered as "Is this you?": not managers to someone who runs nothing, nor university
or vocational teachers to someone who teaches nothing.

Session 11's reviews found "University and higher education teachers" offered to a dental nurse (ESCO has a lecturer
label for every subject); on the development questions "Restaurant managers" was offered to a waiter.
"""

from __future__ import annotations

from shadowmatch_kb.occupations.match import OccupationMatch, offered_alternatives


def _found(*codes: str) -> list[OccupationMatch]:
    return [OccupationMatch(code, f"group {code}", 0.5, f"label {code}", ()) for code in codes]


def _offered(text: str, *codes: str, count: int = 3) -> list[str]:
    return [m.isco for m in offered_alternatives(_found(*codes), text, count)]


def test_managers_and_lecturers_are_offered_only_to_those_who_say_so() -> None:
    found = ("3251", "2261", "2310", "1342", "3214", "5321")
    assert _offered("I'm a dental nurse, I pass the instruments", *found) == ["2261", "3214", "5321"]
    assert _offered("I'm a dental nurse and I run the practice", *found) == ["2261", "1342", "3214"]
    assert _offered("I'm a dental nurse and I teach students at the college", *found) == ["2261", "2310", "3214"]
    assert _offered("I'm a dental nurse", *found, count=2) == ["2261", "3214"]
    # Teaching at school is not teaching after it (session 14's review: a Year 3 teaching assistant was offered
    # university teachers).
    assistant = ("5312", "2310", "2330", "2320", "2341")
    assert _offered("I'm a teaching assistant in a Year 3 class, helping with phonics", *assistant) == ["2330", "2341"]


def test_a_first_group_of_managers_or_lecturers_keeps_its_kind_among_the_others() -> None:
    assert _offered("I look after the budget of a care home", "1343", "1342", "3412") == ["1342", "3412"]
    assert _offered("I mark essays on anatomy", "2310", "2320", "2221") == ["2320", "2221"]
    assert _offered("anything", "2342", "2341") == ["2341"]  # early childhood and primary teachers are not filtered
    assert offered_alternatives([], "anything", 3) == []


def test_a_group_far_from_the_person_by_what_its_work_is_is_not_offered() -> None:
    # Session 18's reviewer read "Veterinary technicians and assistants" offered to a ward nurse: close by a label's
    # words, 21st of all groups by what its work is.
    found = [
        OccupationMatch("2221", "Nursing professionals", 0.6, "nurse", (), work_rank=0),
        OccupationMatch("3240", "Veterinary technicians", 0.5, "veterinary nurse", (), work_rank=21),
        OccupationMatch("5321", "Health care assistants", 0.45, "healthcare assistant", (), work_rank=1),
        OccupationMatch("2269", "Health professionals", 0.4, "nurse anaesthetist", (), work_rank=9),
        OccupationMatch("3221", "Nursing associate professionals", 0.3, "assistant nurse", (), work_rank=10),
    ]
    assert [m.isco for m in offered_alternatives(found, "I'm a nurse on a ward", 3)] == ["5321", "2269"]
    # A matcher that read no work texts places none, and offers by its labels alone.
    unread = [OccupationMatch(m.isco, m.label, m.score, m.matched_label, ()) for m in found]
    assert [m.isco for m in offered_alternatives(unread, "I'm a nurse on a ward", 3)] == ["3240", "5321", "2269"]
