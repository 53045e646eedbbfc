"""Near-duplicate detection: MinHash fingerprints of word shingles, and LSH band keys to find candidates.

Syndicated copies and lightly edited rewrites of one article share most of their word
``SHINGLE_SIZE``-grams, so the Jaccard resemblance of their shingle sets stays high while two different
articles share almost none. A ``Fingerprint`` keeps ``NUM_PERMUTATIONS`` MinHash minima, from which
``similarity`` estimates that resemblance; ``band_keys`` cut the signature into LSH bands so a store can
look up candidates by equal keys instead of comparing every pair, and confirm them with
``is_near_duplicate``.

Everything here is pure and deterministic: token hashes come from keyed BLAKE2b and the permutations
from fixed constants, never from Python's per-process ``hash()``, so a fingerprint stored today matches
one computed by another process or release. Any change to the normalisation, the shingle size, the
hashes or the permutations changes the fingerprints: it must bump ``FINGERPRINT_VERSION``, after which
stored fingerprints (``from_bytes`` refuses other versions) and band keys are recomputed.

``THRESHOLD``, ``SHINGLE_SIZE`` and the band layout were chosen by ``scripts/eval_near_duplicates.py``
on real article bodies; its docstring describes the labelled pairs.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = [
    "BANDS",
    "FINGERPRINT_VERSION",
    "MIN_SHINGLES",
    "NUM_PERMUTATIONS",
    "ROWS",
    "SHINGLE_SIZE",
    "THRESHOLD",
    "Fingerprint",
    "band_keys",
    "candidate_probability",
    "choose_bands",
    "fingerprint",
    "from_shingle_hashes",
    "is_near_duplicate",
    "shingle_hashes",
    "similarity",
    "tokens",
]

# Bump on any change that alters fingerprints or band keys; stored ones are then recomputed.
FINGERPRINT_VERSION = 1
NUM_PERMUTATIONS = 128
# Measured by scripts/eval_near_duplicates.py (893 rewrites of real articles against 11,238 pairs of
# different texts): word 3-grams keep light edits of 5-10 % of the words at a median resemblance of 0.68,
# where 5-grams fall to 0.53, while no different pair comes above 0.24 for either size.
SHINGLE_SIZE = 3
# Below this many distinct shingles (about a dozen words) a text is too short to judge: it gets no
# band keys and is never a near-duplicate; identical short texts are still caught by the text hash.
MIN_SHINGLES = 10
# Measured by scripts/eval_near_duplicates.py: at 0.50, precision 1.0 and recall 0.985 (F1 0.993). No pair of
# different texts reached 0.30 (the most similar, two articles in one syndication wrapper, scores 0.234, 7
# standard errors below 0.50), so every threshold from 0.30 to 0.90 kept precision 1.0; 0.30 would add 1.4
# points of recall, but only 2-row LSH bands find 99 % of pairs there, and those pair 77-96 % of texts at half
# the threshold. 0.50 is the lowest that 42 bands of 3 rows serve (99.6 % at 0.50, 48 % at 0.25).
THRESHOLD = 0.5

_EMPTY = np.uint32(0xFFFFFFFF)  # the signature slot of a text without shingles
_SEED = b"shadowmatch-minhash"
# Scripts written without spaces between words: each character is one token, so Chinese and Japanese
# texts get shingles too. Other letters and digits form words; punctuation and "_" separate them.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_ANY_CJK = re.compile(f"[{_CJK}]")
_WORD = re.compile(r"[^\W_]+")
_WORD_OR_CJK = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])[^\W_])+")
_CHUNK = 4096  # shingles per block when taking minima, to bound memory on very long texts
_HEADER = struct.Struct("<4sBHI")  # magic, version, permutations, shingles
_MAGIC = b"SMMH"


def _constants(label: bytes, count: int) -> np.ndarray:
    """``count`` fixed pseudo-random odd 64-bit numbers derived from the seed and a label."""
    stream = b"".join(
        hashlib.blake2b(_SEED + label + i.to_bytes(4, "little"), digest_size=64).digest()
        for i in range(math.ceil(count * 8 / 64))
    )
    return np.frombuffer(stream[: count * 8], dtype="<u8").astype(np.uint64) | np.uint64(1)


_PERM_A = _constants(b"perm-a", NUM_PERMUTATIONS)[:, None]
_PERM_B = _constants(b"perm-b", NUM_PERMUTATIONS)[:, None]
_POSITION = _constants(b"position", 64)


def choose_bands(threshold: float, permutations: int = NUM_PERMUTATIONS, target: float = 0.99) -> tuple[int, int]:
    """The (bands, rows) that find pairs at ``threshold`` with probability >= target, fewest at half of it."""
    best: tuple[float, int, int] | None = None
    for rows in range(1, permutations + 1):
        bands = permutations // rows
        if candidate_probability(threshold, bands, rows) < target:
            continue
        at_half = candidate_probability(threshold / 2, bands, rows)
        if best is None or at_half < best[0]:
            best = (at_half, bands, rows)
    if best is None:  # no layout reaches the target; one row per band is the most sensitive there is
        return permutations, 1
    return best[1], best[2]


def candidate_probability(resemblance: float, bands: int, rows: int) -> float:
    """Probability that two texts of this resemblance share at least one band key."""
    return 1.0 - (1.0 - resemblance**rows) ** bands


BANDS, ROWS = choose_bands(THRESHOLD)


@dataclass(frozen=True)
class Fingerprint:
    """A MinHash signature (uint32, ``NUM_PERMUTATIONS`` values) and the number of distinct shingles."""

    signature: np.ndarray
    shingles: int

    def __post_init__(self) -> None:
        # A private read-only copy: a fingerprint is a value, and the caller's array may change later.
        signature = np.array(self.signature, dtype=np.uint32)
        if signature.shape != (NUM_PERMUTATIONS,):
            raise ValueError(f"a signature has {NUM_PERMUTATIONS} values, not shape {signature.shape}")
        signature.flags.writeable = False
        object.__setattr__(self, "signature", signature)

    def to_bytes(self) -> bytes:
        """A compact, versioned encoding for storage (a SQLite BLOB)."""
        header = _HEADER.pack(_MAGIC, FINGERPRINT_VERSION, len(self.signature), self.shingles)
        return header + np.asarray(self.signature, dtype="<u4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        """Decode ``to_bytes``; ValueError for another version or a damaged value (recompute it then)."""
        if len(data) < _HEADER.size:
            raise ValueError("fingerprint is too short to decode")
        magic, version, permutations, shingles = _HEADER.unpack_from(data)
        if magic != _MAGIC:
            raise ValueError("not a fingerprint")
        if version != FINGERPRINT_VERSION or permutations != NUM_PERMUTATIONS:
            raise ValueError(
                f"fingerprint version {version} with {permutations} permutations; "
                f"this release uses version {FINGERPRINT_VERSION} with {NUM_PERMUTATIONS}"
            )
        body = data[_HEADER.size :]
        if len(body) != 4 * NUM_PERMUTATIONS:
            raise ValueError("fingerprint signature has the wrong length")
        return cls(signature=np.frombuffer(body, dtype="<u4"), shingles=shingles)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fingerprint):
            return NotImplemented
        return self.shingles == other.shingles and np.array_equal(self.signature, other.signature)

    def __hash__(self) -> int:
        return hash((self.shingles, self.signature.tobytes()))


def tokens(text: str) -> list[str]:
    """The normalised words of a text: NFKC, case-folded, letters and digits only (CJK per character)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    # The plain pattern is twice as fast; most texts have no CJK character at all.
    return (_WORD_OR_CJK if _ANY_CJK.search(text) else _WORD).findall(text)


@lru_cache(maxsize=1 << 17)
def _token_hash(token: str) -> int:
    digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8, key=_SEED).digest()
    return int.from_bytes(digest, "little")


def _mix(values: np.ndarray) -> np.ndarray:
    """The 64-bit finaliser of MurmurHash3: spreads every input bit over the whole word."""
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xFF51AFD7ED558CCD)
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xC4CEB9FE1A85EC53)
    return values ^ (values >> np.uint64(33))


def shingle_hashes(text: str, size: int = SHINGLE_SIZE) -> np.ndarray:
    """The distinct 64-bit hashes of a text's word ``size``-grams (empty when it has fewer words)."""
    if not 1 <= size <= len(_POSITION):
        raise ValueError(f"shingle size must be 1 to {len(_POSITION)}, not {size}")
    words = tokens(text)
    if len(words) < size:
        return np.empty(0, dtype=np.uint64)
    ids = np.fromiter(map(_token_hash, words), dtype=np.uint64, count=len(words))
    count = len(words) - size + 1
    # Each position has its own odd multiplier, so the same words in another order hash differently.
    combined = ids[:count] * _POSITION[0]
    for offset in range(1, size):
        combined = combined + ids[offset : offset + count] * _POSITION[offset]
    return np.unique(_mix(combined))


def from_shingle_hashes(hashes: np.ndarray) -> Fingerprint:
    """The MinHash fingerprint of a set of shingle hashes (as ``shingle_hashes`` returns)."""
    return _minhash(np.unique(np.asarray(hashes, dtype=np.uint64)))


def _minhash(hashes: np.ndarray) -> Fingerprint:
    if hashes.size == 0:
        return Fingerprint(signature=np.full(NUM_PERMUTATIONS, _EMPTY, dtype=np.uint32), shingles=0)
    # Each permutation is x -> a*x + b mod 2**64 with odd a: a bijection of the (already mixed) hashes.
    # The minimum's top 32 bits are kept; ordering by the full word keeps it a true minimum.
    minima = np.full(NUM_PERMUTATIONS, np.iinfo(np.uint64).max, dtype=np.uint64)
    for start in range(0, hashes.size, _CHUNK):
        block = hashes[None, start : start + _CHUNK]
        np.minimum(minima, (_PERM_A * block + _PERM_B).min(axis=1), out=minima)
    return Fingerprint(signature=(minima >> np.uint64(32)).astype(np.uint32), shingles=int(hashes.size))


def fingerprint(text: str) -> Fingerprint:
    """The MinHash fingerprint of a text's normalised word shingles."""
    return _minhash(shingle_hashes(text))


def band_keys(fp: Fingerprint, bands: int = BANDS, rows: int = ROWS) -> list[int]:
    """LSH band keys as signed 64-bit ints; none for a text with fewer than ``MIN_SHINGLES`` shingles."""
    if bands * rows > NUM_PERMUTATIONS:
        raise ValueError(f"{bands} bands of {rows} rows need more than {NUM_PERMUTATIONS} permutations")
    if fp.shingles < MIN_SHINGLES:
        return []
    raw = np.asarray(fp.signature, dtype="<u4").tobytes()
    keys = []
    for band in range(bands):
        # The band number and layout are part of the key, so equal rows in different bands never collide.
        label = struct.pack("<BHH", FINGERPRINT_VERSION, rows, band)
        digest = hashlib.blake2b(raw[band * rows * 4 : (band + 1) * rows * 4], digest_size=8, person=label).digest()
        keys.append(int.from_bytes(digest, "little", signed=True))
    return keys


def similarity(a: Fingerprint, b: Fingerprint) -> float:
    """Estimated Jaccard resemblance of the two texts' shingle sets (0.0 when either has none)."""
    if a.shingles == 0 or b.shingles == 0:
        return 0.0
    return float(np.count_nonzero(a.signature == b.signature)) / NUM_PERMUTATIONS


def is_near_duplicate(a: Fingerprint, b: Fingerprint) -> bool:
    """Whether two texts are near-duplicates: both long enough to judge and resemblance >= THRESHOLD."""
    if a.shingles < MIN_SHINGLES or b.shingles < MIN_SHINGLES:
        return False
    return similarity(a, b) >= THRESHOLD
