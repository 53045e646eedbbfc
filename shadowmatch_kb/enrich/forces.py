"""The driving-force vocabulary of Signals rows, and a classifier that picks one force for a sentence.

The fifteen labels group the free-text "Driving force" cells of real Signals posts (clustered on the
bundled embedding model, then named and described by hand). Each force has a description, cue words
and a few prototype statements of the force at work. A sentence gets the force whose prototypes are
closest to it on the embedding model, nudged by the cue words it contains. Prototype vectors are
embedded once per embedder and kept.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from shadowmatch_kb.embed.base import Embedder

__all__ = ["FORCES", "Force", "classify_force", "force_scores"]


@dataclass(frozen=True)
class Force:
    """One driving force: its label, what it covers, cue words and prototype statements.

    ``cues`` is comma-separated; a cue ending in ``*`` is a stem ("regulat*"), any other is matched
    as whole words.
    """

    label: str
    description: str
    cues: str
    prototypes: tuple[str, ...]


_FORCES = (
    Force(
        "efficiency and productivity",
        "doing more work in less time: streamlined processes, faster and more productive workflows",
        "efficien*, productiv*, streamlin*, faster, time-saving, save time, saves time, workflow*, output, "
        "speed up, automat*, optimi*, throughput",
        (
            "Firms want to get more done in less time.",
            "Automating routine steps raises output per worker.",
            "The aim is faster, more productive workflows.",
        ),
    ),
    Force(
        "cost",
        "cutting costs: cheaper ways to do the work, savings, budgets and prices",
        "cost*, cheap*, saving*, budget*, price*, pricing, expens*, afford*, spending, fees, wage bill, payroll",
        (
            "Companies cut staff to save money.",
            "The service is cheaper than hiring people.",
            "Budgets are tight and every expense is questioned.",
        ),
    ),
    Force(
        "labour shortage",
        "too few workers: hard-to-fill vacancies, staffing gaps and competition for scarce talent",
        "shortage*, scarce, scarcity, unfilled, vacanc*, staffing, hard to hire, struggle to hire, short-staffed, "
        "understaffed, talent gap, recruit*, fill gaps, hiring, cannot hire, can't hire, not enough, enough staff, "
        "enough workers",
        (
            "Employers cannot find enough workers to fill open positions.",
            "Staffing shortages persist across the industry.",
            "Firms compete for a shrinking pool of qualified people.",
        ),
    ),
    Force(
        "ageing population",
        "an older population: retirements, falling birth rates and a shrinking working-age population",
        "ageing, aging, older worker*, older people, elderly, retire*, birth rate*, fertility, demograph*, "
        "pension*, shrinking workforce, baby boomer*",
        (
            "The population is ageing and birth rates are falling.",
            "Baby boomers are retiring in large numbers.",
            "Demographic decline shrinks the working-age population.",
        ),
    ),
    Force(
        "regulation",
        "laws, rules, courts and compliance duties set by governments and regulators",
        "regulat*, laws, new law, legislat*, ordinance*, complian*, lawmaker*, ban, bans, banned, court*, lawsuit*, "
        "copyright*, mandat*, licens*, senate, congress, government*, eu, act",
        (
            "A new law requires companies to disclose what they do.",
            "Regulators impose rules and fines for non-compliance.",
            "Lawmakers debate legislation and courts rule on lawsuits.",
        ),
    ),
    Force(
        "consumer demand",
        "what customers, users and clients want: convenience, speed, personalisation and better service",
        "customer*, consumer*, demand*, user, users, client*, convenien*, personali*, subscriber*, shopper*, "
        "audience*, patient*, buyer*",
        (
            "Customers expect fast, convenient and personalised service.",
            "Demand from users drives companies to offer new features.",
            "Clients want quicker and cheaper answers.",
        ),
    ),
    Force(
        "technology capability",
        "advances in AI, models, robots and other technology that can now do what they could not before",
        "capabilit*, advance*, advancement*, breakthrough*, generative, machine learning, robot*, "
        "language model*, algorithm*, innovation*, can now, able to, ability",
        (
            "Advances in AI let machines perform tasks that once needed people.",
            "New language models can write, code and analyse data.",
            "Robots and algorithms keep getting more capable.",
        ),
    ),
    Force(
        "competition and growth",
        "competitive pressure and the pursuit of growth, revenue, market share and profit",
        "compet*, revenue*, profit*, market share, growth, investor*, rival*, sales, margin*, business model*, "
        "monetiz*, monetis*, strategy",
        (
            "Companies race to keep up with rivals and grow revenue.",
            "Pressure from investors pushes firms to find new sources of profit.",
            "Competition forces a change of strategy.",
        ),
    ),
    Force(
        "skills and education",
        "the need for new skills: reskilling, training, education and careers that adapt",
        "skill*, reskill*, upskill*, training, educat*, learn*, curricul*, student*, school*, universit*, "
        "qualification*, career*, teach*, retrain*",
        (
            "People need new skills to stay employable.",
            "Training and reskilling programmes prepare people for other jobs.",
            "Schools change what students learn.",
        ),
    ),
    Force(
        "worker wellbeing and expectations",
        "work-life balance, mental health, flexibility, burnout, job satisfaction and what workers expect",
        "well-being, wellbeing, burnout, stress*, mental health, work-life, flexib*, satisf*, morale, harassment, "
        "retention, loyalty, meaningful, autonomy, quit*, resign*, anxiety, job security",
        (
            "Employees want flexibility and a better work-life balance.",
            "Burnout and stress lead people to quit.",
            "Younger workers expect meaningful work and respect.",
        ),
    ),
    Force(
        "trust, safety and ethics",
        "trust, misinformation, bias, transparency, accountability, safety and ethical concerns",
        "trust*, ethic*, bias*, misinformation, disinformation, transparen*, accountab*, authentic*, fake*, "
        "deepfake*, fairness, safety, safe, security, harm*, surveillance, scam*, fraud*, misuse, privacy",
        (
            "Concerns about bias and misinformation undermine trust.",
            "People demand transparency and accountability.",
            "Safety, privacy and ethical risks slow things down.",
        ),
    ),
    Force(
        "economic conditions",
        "recession, inflation, interest rates, uncertainty, downturns and crises such as the pandemic",
        "recession*, inflation, interest rate*, downturn*, uncertain*, economy, economic, pandemic, covid*, "
        "crisis, crises, cost of living, cost-of-living, slowdown",
        (
            "Economic uncertainty and inflation lead firms to hold back.",
            "The pandemic changed how and where people work.",
            "A downturn forces companies to restructure.",
        ),
    ),
    Force(
        "sustainability",
        "environmental concerns: climate change, energy use, waste, repair and limited resources",
        "climate, environment*, sustainab*, emission*, carbon, energy, waste, recycl*, repair*, green, pollut*",
        (
            "Climate concerns push industries towards cleaner processes.",
            "Firms cut waste and energy use to meet sustainability goals.",
            "Repair and reuse replace throwing things away.",
        ),
    ),
    Force(
        "equity and access",
        "inequality, inclusion, fair access to work, healthcare and education, and the digital divide",
        "inequal*, inequit*, equitab*, equity, access, accessib*, divide, inclusi*, disabilit*, underserved, "
        "marginali*, gender, women, poverty, social mobility, discriminat*",
        (
            "The change could widen or narrow inequality between groups.",
            "More people gain access to education and healthcare.",
            "Not everyone has access to the internet or its benefits.",
        ),
    ),
    Force(
        "new ways of working",
        "how work is organised: collaboration, teams, leadership, platforms, gig and remote work",
        "collaborat*, team*, leadership, leaders, manager*, restructur*, reorgani*, gig, freelanc*, "
        "decentrali*, culture, remote work*, hybrid work*, work from home",
        (
            "Teams reorganise around new forms of collaboration.",
            "Companies restructure roles and give employees more autonomy.",
            "Work moves to platforms, freelancers and distributed teams.",
        ),
    ),
)

FORCES: list[str] = [force.label for force in _FORCES]

# Cosine similarity on this model moves in a narrow band; one cue word is worth a few hundredths.
_CUE_WEIGHT = 0.04
_CUE_CAP = 3
_FALLBACK = "technology capability"


def _cue_pattern(cues: str) -> re.Pattern[str]:
    parts = [c.strip() for c in cues.split(",") if c.strip()]
    alternatives = [re.escape(c[:-1]) if c.endswith("*") else re.escape(c) + r"\b" for c in parts]
    return re.compile(r"\b(?:" + "|".join(alternatives) + ")", re.IGNORECASE)


# A force is most often named after one of these; cue words there count twice.
_CAUSE = re.compile(
    r"\b(?:because|due to|driven by|owing to|amid|in response to|as a result of|to address|to cope with|"
    r"to fill|to offset|spurred by|fuelled by|fueled by|thanks to)\b",
    re.IGNORECASE,
)
_CUE_PATTERNS = [_cue_pattern(force.cues) for force in _FORCES]
_prototype_cache: dict[int, tuple[object, np.ndarray, np.ndarray]] = {}
_cache_lock = threading.Lock()


def _prototype_matrix(embedder: Embedder) -> tuple[np.ndarray, np.ndarray]:
    """Prototype vectors of every force (rows) and the force index of each row, embedded once per embedder."""
    with _cache_lock:
        cached = _prototype_cache.get(id(embedder))
        # The entry keeps the embedder itself, so its id cannot be taken over by another object.
        if cached is not None and cached[0] is embedder:
            return cached[1], cached[2]
    texts = [text for force in _FORCES for text in (f"{force.label}: {force.description}", *force.prototypes)]
    owners = np.asarray([i for i, force in enumerate(_FORCES) for _ in range(1 + len(force.prototypes))])
    vectors = np.asarray(embedder.embed_batch(texts), dtype=np.float32)
    with _cache_lock:
        _prototype_cache[id(embedder)] = (embedder, vectors, owners)
    return vectors, owners


def force_scores(text: str, vector: np.ndarray, embedder: Embedder) -> np.ndarray:
    """One score per force in ``FORCES`` order: the best prototype cosine plus a bonus per cue word."""
    prototypes, owners = _prototype_matrix(embedder)
    similarities = prototypes @ np.asarray(vector, dtype=np.float32).reshape(-1)
    best = np.full(len(_FORCES), -1.0, dtype=np.float32)
    np.maximum.at(best, owners, similarities)
    cause = _CAUSE.split(text, maxsplit=1)[1] if _CAUSE.search(text) else ""
    cues = np.asarray([min(len(p.findall(text)) + len(p.findall(cause)), _CUE_CAP) for p in _CUE_PATTERNS])
    return best + _CUE_WEIGHT * cues.astype(np.float32)


def classify_force(sentence: str, embedder: Embedder, *, vector: np.ndarray | None = None) -> str:
    """The driving force in ``FORCES`` that best fits a sentence (its embedding may be passed in)."""
    if not sentence.strip():
        return _FALLBACK
    if vector is None:
        vector = embedder.embed_batch([sentence])[0]
    return FORCES[int(np.argmax(force_scores(sentence, vector, embedder)))]
