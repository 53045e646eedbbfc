"""English word forms and the word lists that tell a verb or an adverb from a noun that looks like one.

``verb_forms`` spells the third person, -ing and past forms of a verb, with the irregular pasts of
``IRREGULAR_PAST``; key phrases use them to refuse clauses, Signals rows to find the main verb.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "ING_NOUNS",
    "IRREGULAR_PAST",
    "ISE_NOUNS",
    "LY_NON_ADVERBS",
    "VerbForms",
    "gerund",
    "joined",
    "lower_first",
    "plural",
    "verb_forms",
]

# Past tense and past participle of the irregular verbs that news on work uses ("become" lists only
# "became": its participle is the verb itself).
IRREGULAR_PAST: dict[str, tuple[str, ...]] = {
    lemma: tuple(forms.split())
    for lemma, forms in (
        entry.split(":")
        for entry in """be:was were been,become:became,begin:began begun,bring:brought,build:built,come:came,
cut:cut,do:did done,drive:drove driven,fall:fell fallen,feel:felt,find:found,get:got gotten,give:gave given,
go:went gone,grow:grew grown,hold:held,keep:kept,know:knew known,lay:laid,lead:led,leave:left,lose:lost,make:made,
mean:meant,meet:met,pay:paid,put:put,rise:rose risen,say:said,see:saw seen,seek:sought,sell:sold,set:set,
show:showed shown,shrink:shrank shrunk,shut:shut,spend:spent,spread:spread,take:took taken,tell:told,think:thought,
undergo:underwent undergone,win:won,write:wrote written""".replace("\n", "").split(",")
    )
}
# Verbs that double their final consonant before -ing and -ed ("cutting", "planned").
_DOUBLING = frozenset("cut set put shut drop plan stop ban win begin get".split())
# Words in -ly that are nouns, verbs or names, not adverbs.
LY_NON_ADVERBS = frozenset("supply family assembly monopoly anomaly ally italy july apply reply rely fly".split())
# Words in -ing that name a field, a trade or a thing rather than an action in progress.
ING_NOUNS = frozenset(
    "learning training computing marketing engineering manufacturing programming banking nursing building housing "
    "funding hiring pricing recruiting reskilling upskilling outsourcing offshoring crowdsourcing advertising "
    "publishing accounting consulting writing reading thinking teaching coding testing planning processing screening "
    "monitoring modeling modelling forecasting reasoning prompting tutoring mentoring policing farming mining "
    "shipping trucking retailing gaming streaming trading lending spending hearing meeting setting understanding "
    "wellbeing being morning evening clothing catering cleaning cooking healthcare caring surveillance tracking "
    "scheduling onboarding offboarding networking sharing fact-checking fine-tuning ridesharing ride-hailing "
    "printing packaging recycling warehousing logistics staffing freelancing gig".split()
)
# Nouns in -ise, which the -ise spelling of verbs ("organise") would otherwise claim.
ISE_NOUNS = frozenset(
    "enterprise enterprises expertise exercise exercises franchise franchises merchandise premise premises promise "
    "promises compromise compromises otherwise surprise surprises demise treatise precise concise".split()
)


class VerbForms(NamedTuple):
    """The forms of one verb: "cuts", "cutting" and ("cut",); "grows", "growing" and ("grew", "grown")."""

    third: str
    ing: str
    past: tuple[str, ...]


def gerund(verb: str) -> str:
    """The -ing form of a verb as written, its case kept: "establish" -> "establishing", "tie" -> "tying"."""
    lower = verb.lower()
    if lower.endswith("ie"):
        return verb[:-2] + "ying"
    if lower.endswith("e") and not lower.endswith(("ee", "ye", "oe")):
        return verb[:-1] + "ing"
    return verb + "ing"


def plural(word: str) -> str:
    """A noun's plural, or a verb's third person, by its spelling: "receptionist" -> "receptionists", "secretary" ->
    "secretaries", "coach" -> "coaches"."""
    if len(word) > 1 and word.endswith("y") and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "es" if word.endswith(("s", "sh", "ch", "x", "z")) else word + "s"


def joined(parts: list[str], conjunction: str = "and") -> str:
    """Items of a list as a sentence names them: "a", "a and b", "a, b and c" (or another ``conjunction``)."""
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} {conjunction} {parts[-1]}"


def verb_forms(lemma: str) -> VerbForms:
    """The third person, -ing form and past forms of a verb given in lower case."""
    consonant_y = lemma.endswith("y") and lemma[-2] not in "aeiou"
    third = plural(lemma)
    past = lemma + "d" if lemma.endswith("e") else (lemma[:-1] + "ied" if consonant_y else lemma + "ed")
    ing = gerund(lemma)
    if lemma in _DOUBLING:
        ing, past = lemma + lemma[-1] + "ing", lemma + lemma[-1] + "ed"
    return VerbForms(third, ing, IRREGULAR_PAST.get(lemma, (past,)))


def lower_first(text: str) -> str:
    """A text as it reads after the start of a sentence: "The change" -> "the change", but "AI assistants" keeps its
    capitals (a briefing printed "aI assistants" in session 12's review)."""
    return text if text[1:2].isupper() else text[:1].lower() + text[1:]
