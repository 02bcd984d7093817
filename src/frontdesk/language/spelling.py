"""Server-side spell checking of operator messages, Russian and English.

How it works (details and figures in docs/language.md):

- **Is a word known?** Russian: the OpenCorpora morphological dictionary shipped with
  ``pymorphy3-dicts-ru`` (every inflected form of ~390k lemmas, so "кронштейна" or "доставим"
  are known), plus a small curated list of shop words (``data/extra_ru.txt``) that are expanded
  into all their forms by pymorphy3's inflection. English: the SymSpell frequency dictionary
  shipped with ``symspellpy`` (82,765 words) plus ``data/extra_en.txt``.
- **Suggestions**: a frequency-ranked vocabulary (Russian: the ``wordfreq`` "large" list
  filtered to dictionary words; English: the SymSpell list) indexed by single-character
  deletions (the "symmetric delete" idea of SymSpell) in numpy arrays of hashes, so a lookup
  is a few binary searches, plus a "sounds like" key. Candidates within Damerau distance 2 (3
  for words that sound alike) are ranked by a weighted edit cost (similar sounds, neighbouring
  keys and doubled letters are cheap slips) and frequency.
- Mixed-alphabet words ("заказ" typed with a Latin "а"), and words typed in the wrong keyboard
  layout ("pfrfp" → "заказ") are recognised and suggested in the right form.

Everything loads lazily, once per process, thread-safely; nothing is downloaded.
"""
from __future__ import annotations

import ctypes
import gc
import math
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
from rapidfuzz.distance import OSA, Levenshtein

Lang = Literal["ru", "en"]

MAX_SUGGESTIONS = 5

__all__ = [
    "MAX_SUGGESTIONS",
    "Issue",
    "SpellChecker",
    "WordSet",
    "get_spell_checker",
    "is_loaded",
    "tokenize",
    "utf16_offset",
]


@dataclass(slots=True)
class Issue:
    """One misspelled word. ``start``/``end`` are code-point offsets into the checked text
    (``text[start:end] == word``)."""

    word: str
    start: int
    end: int
    suggestions: list[str] = field(default_factory=list)
    lang: Lang = "ru"
    # "unknown": not in the dictionary; "mixed": Latin and Cyrillic letters in one word;
    # "layout": a word typed with the other keyboard layout.
    kind: Literal["unknown", "mixed", "layout"] = "unknown"

    def as_dict(self) -> dict:
        return {
            "word": self.word,
            "start": self.start,
            "end": self.end,
            "suggestions": list(self.suggestions),
            "lang": self.lang,
            "kind": self.kind,
        }


def utf16_offset(text: str, index: int) -> int:
    """A code-point offset into ``text`` as a UTF-16 code-unit offset (what JavaScript string
    indices count): characters outside the BMP (emoji) are one code point but two units."""
    return index + sum(1 for ch in text[:index] if ord(ch) > 0xFFFF)


# ---------------------------------------------------------------------------------------------
# Tokenising

# Spans never checked: URLs, e-mails, bare domains, @mentions, #tags, {template_variables},
# identifiers with underscores.
_SKIP_RE = re.compile(
    r"""
      (?:https?://|ftp://|www\.)\S+
    | [\w.+-]+@[\w-]+(?:\.[\w-]+)+
    | \b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:[a-z]{2,24}|рф|рус)\b(?:/\S*)?
    | [а-яё0-9][а-яё0-9-]*\.(?:рф|рус)\b(?:/\S*)?
    | [@#]\w+
    | \{\w+\}
    | \w*_\w*
    """,
    re.IGNORECASE | re.VERBOSE,
)
# A word: letters/digits, possibly joined by apostrophes or hyphens ("don't", "из-за").
# Combining marks count as part of a word: decomposed "й"/"ё" (NFD text from macOS) and stress
# marks ("доста́вка") must not split it.
_WORD_RE = re.compile(r"[^\W_](?:[^\W_]|[\u0300-\u036f])*(?:['’\-](?:[^\W_]|[\u0300-\u036f])+)*")
_COMBINING = re.compile(r"[\u0300-\u036f]")

_CYR = re.compile(r"[а-яёА-ЯЁ]")
_LAT = re.compile(r"[a-zA-Z]")
_DIGIT = re.compile(r"\d")
_PURE_RU = re.compile(r"[а-яёА-ЯЁ]+(?:-[а-яёА-ЯЁ]+)*")
_PURE_EN = re.compile(r"[a-zA-Z]+(?:['’\-][a-zA-Z]+)*")
_ONLY_OURS = re.compile(r"[а-яёА-ЯЁa-zA-Z]+(?:['’\-][а-яёА-ЯЁa-zA-Z]+)*")


_SPECIAL = re.compile(r"[./@#{_:]")
_CHUNK = re.compile(r"\S+")


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """Words of ``text`` that are subject to checking, as ``(word, start, end)``."""
    skipped: list[tuple[int, int]] = []
    if _SPECIAL.search(text):
        for chunk in _CHUNK.finditer(text):
            c = chunk.group()
            if _SPECIAL.search(c):
                base = chunk.start()
                skipped.extend((base + m.start(), base + m.end()) for m in _SKIP_RE.finditer(c))
    if not skipped:
        return [(m.group(), m.start(), m.end()) for m in _WORD_RE.finditer(text)]
    out = []
    k = 0
    for m in _WORD_RE.finditer(text):
        s, e = m.span()
        while k < len(skipped) and skipped[k][1] <= s:
            k += 1
        if k < len(skipped) and skipped[k][0] < e:
            continue  # overlaps a URL / e-mail / ...
        out.append((m.group(), s, e))
    return out


# ---------------------------------------------------------------------------------------------
# Character tables

_LAT_TO_CYR_HOMO = str.maketrans("aeopcyxkmthbAEOPCYXKMTHB", "аеорсухкмтнвАЕОРСУХКМТНВ")
_CYR_TO_LAT_HOMO = str.maketrans("аеорсухкмтнвАЕОРСУХКМТНВ", "aeopcyxkmthbAEOPCYXKMTHB")

_QWERTY = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`"
_JCUKEN = "йцукенгшщзхъфывапролджэячсмитьбюё"
_LAT_TO_CYR_LAYOUT = str.maketrans(_QWERTY + _QWERTY.upper(), _JCUKEN + _JCUKEN.upper())
_CYR_TO_LAT_LAYOUT = str.maketrans(_JCUKEN + _JCUKEN.upper(), _QWERTY + _QWERTY.upper())

_ROWS = {
    "ru": ["йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю"],
    "en": ["qwertyuiop", "asdfghjkl", "zxcvbnm"],
}


def _neighbours(rows: list[str]) -> set[frozenset[str]]:
    pairs: set[frozenset[str]] = set()
    for r, row in enumerate(rows):
        for i, ch in enumerate(row):
            if i + 1 < len(row):
                pairs.add(frozenset((ch, row[i + 1])))
            if r + 1 < len(rows):
                below = rows[r + 1]
                for j in (i - 1, i):
                    if 0 <= j < len(below):
                        pairs.add(frozenset((ch, below[j])))
    return pairs


_ADJACENT = {lang: _neighbours(rows) for lang, rows in _ROWS.items()}
# Letters people confuse by sound or spelling rule.
_SIMILAR = {
    "ru": {frozenset(p) for p in (
        "ао", "еи", "иы", "ея", "её", "ёо", "эе", "юу", "яа", "ьъ", "тд", "сз", "шщ", "жш",
        "цс", "бп", "вф", "гк", "чщ", "йи",
    )},
    "en": {frozenset(p) for p in ("ae", "ei", "iy", "cs", "ck", "sz", "ou", "ao", "eo", "ia")},
}
_CHEAP_INSERT = {"ru": set("ьъйв"), "en": set("eu")}


def _edit_cost(typed: str, word: str, lang: Lang) -> float:
    """Weighted edit cost of turning ``typed`` into ``word`` (both lower case): a plain edit costs
    1, a plausible slip less (same-sound letters, neighbouring keys, doubled letters, swapped
    letters); changing the first letter costs extra because people rarely get it wrong."""
    ops = Levenshtein.editops(typed, word)
    cost = 0.0
    similar, adjacent, cheap = _SIMILAR[lang], _ADJACENT[lang], _CHEAP_INSERT[lang]
    for op in ops:
        if op.tag == "replace":
            a, b = typed[op.src_pos], word[op.dest_pos]
            pair = frozenset((a, b))
            cost += 0.5 if pair in similar else 0.75 if pair in adjacent else 1.0
        elif op.tag == "delete":  # typed has an extra letter
            ch = typed[op.src_pos]
            doubled = (op.src_pos > 0 and typed[op.src_pos - 1] == ch) or (
                op.src_pos + 1 < len(typed) and typed[op.src_pos + 1] == ch
            )
            cost += 0.5 if doubled else 0.9
        else:  # insert: typed lacks a letter
            ch = word[op.dest_pos]
            doubled = (op.dest_pos > 0 and word[op.dest_pos - 1] == ch) or (
                op.dest_pos + 1 < len(word) and word[op.dest_pos + 1] == ch
            )
            cost += 0.5 if doubled else 0.6 if ch in cheap else 0.9
    osa = OSA.distance(typed, word)
    if osa < len(ops):  # a transposition ("доставок"/"доставко") is one slip, not two
        cost = min(cost, 0.7 * osa)
    if typed[:1] != word[:1]:
        cost += 0.4
    return cost


def _recase(original: str, suggestion: str) -> str:
    """Give ``suggestion`` the case pattern of ``original``."""
    if original.isupper() and len(original) > 1:
        return suggestion.upper()
    if original[:1].isupper():
        return suggestion[:1].upper() + suggestion[1:]
    return suggestion


def _fold(word: str) -> str:
    """Case- and ё-insensitive key for user dictionaries."""
    return unicodedata.normalize("NFC", word).casefold().replace("ё", "е").replace("’", "'")


# ---------------------------------------------------------------------------------------------
# The suggestion index


_B = 0x100000001B3  # odd, so it has an inverse modulo 2**64
_B_INV = pow(_B, -1, 1 << 64)
_K = 0x9E3779B97F4A7C15  # mixes the length in
_MAX_LEN = 40  # longer words are kept out of the index (nobody mistypes a 41-letter word)
_POW = np.array([pow(_B, k, 1 << 64) for k in range(_MAX_LEN + 1)], dtype=np.uint64)


def _codes(words: list[str], width: int) -> tuple[np.ndarray, np.ndarray]:
    """Code points of ``words`` as a zero-padded (n, width) uint64 matrix, and the lengths."""
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    buf = np.frombuffer("".join(words).encode("utf-32-le"), dtype=np.uint32)
    mat = np.zeros((len(words), width), dtype=np.uint64)
    rows = np.repeat(np.arange(len(words)), lengths)
    cols = np.arange(len(buf)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    mat[rows, cols] = buf
    return mat, lengths


def _prefix_hashes(mat: np.ndarray) -> np.ndarray:
    """P[:, j] = sum_{k<j} code_k * B**k (mod 2**64), shape (n, width + 1)."""
    weighted = mat * _POW[: mat.shape[1]]
    out = np.zeros((mat.shape[0], mat.shape[1] + 1), dtype=np.uint64)
    np.cumsum(weighted, axis=1, out=out[:, 1:])
    return out


def _sound_key_fn(fold: str, drop: str) -> Callable[[str], str]:
    """A "sounds like" key: the first letter as typed, then the rest with each space-separated
    group of ``fold`` letters folded onto its first letter and the ``drop`` letters removed."""
    table: dict[int, int | None] = {ord(ch): ord(group[0]) for group in fold.split() for ch in group}
    table.update({ord(ch): None for ch in drop})

    def key(word: str) -> str:
        return word[:1] + word[1:].translate(table)

    return key


# Russian: letters confused by ear — unstressed vowels (а/о, е/и/я, и/ы after ц), ю/у — and the
# easily forgotten ь, ъ, й ("пожалусто" ~ "пожалуйста", "харашо" ~ "хорошо").
_RU_SOUND = _sound_key_fn("ао еиёэяы юу", "ьъй")
# English: the consonant skeleton ("definetly" ~ "definitely", "seperatly" ~ "separately").
_EN_SOUND = _sound_key_fn("", "aeiouy")


def _hash_strings(strings: list[str]) -> np.ndarray:
    """The word hash of each string (vectorised, in chunks)."""
    out = []
    for start in range(0, len(strings), 50_000):
        chunk = [x[:_MAX_LEN] for x in strings[start : start + 50_000]]
        width = max(1, max(map(len, chunk)))
        mat, lengths = _codes(chunk, width)
        total = _prefix_hashes(mat)[:, -1]
        out.append(total + lengths.astype(np.uint64) * np.uint64(_K))
    return np.concatenate(out) if out else np.zeros(0, np.uint64)


class _DeleteIndex:
    """Frequency-ordered vocabulary + a symmetric-delete index of its words, in numpy arrays.

    Word id == frequency rank (0 is the most frequent). Words are kept in one string with an
    offsets array. A word's hash is a polynomial hash modulo 2**64; because the base is odd, the
    hash of the word with letter j deleted follows from the prefix sums without building the
    string, so both the index build and the query's deletions are vectorised. Two sorted arrays
    map hashes to word ids: one of the words, one of their single-letter deletions (~12 bytes per
    entry). Hash hits are only candidates: each is verified with a real edit distance."""

    def __init__(self, words: list[str], sound_key: Callable[[str], str] | None = None,
                 alphabet: str = "") -> None:
        words = [w for w in words if 0 < len(w) <= _MAX_LEN]
        self._alphabet = np.array([ord(c) for c in alphabet], dtype=np.uint64) if alphabet else None
        # "Sounds like" key (see _RU_SOUND, _EN_SOUND): one more hash array.
        self._sound = sound_key
        self.size = len(words)
        self._blob = "".join(words)
        self._off = np.zeros(len(words) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, words), dtype=np.int64, count=len(words)), out=self._off[1:])
        word_h: list[np.ndarray] = []
        del_h: list[np.ndarray] = []
        del_i: list[np.ndarray] = []
        step = 50_000
        for start in range(0, len(words), step):
            chunk = words[start : start + step]
            width = max(map(len, chunk))
            mat, lengths = _codes(chunk, width)
            pre = _prefix_hashes(mat)
            total = pre[:, -1:]
            length_mix = lengths.astype(np.uint64)[:, None] * np.uint64(_K)
            word_h.append((total + length_mix)[:, 0])
            # deletion of letter j: P[j] + (H - P[j+1]) / B, length - 1
            dels = pre[:, :-1] + (total - pre[:, 1:]) * np.uint64(_B_INV) + (length_mix - np.uint64(_K))
            valid = np.arange(width)[None, :] < lengths[:, None]
            ids = np.broadcast_to(np.arange(start, start + len(chunk), dtype=np.int32)[:, None], dels.shape)
            del_h.append(dels[valid])
            del_i.append(ids[valid])
        wh = np.concatenate(word_h) if word_h else np.zeros(0, np.uint64)
        order = np.argsort(wh)
        self._word_hashes, self._word_ids = wh[order], order.astype(np.int32)
        dh = np.concatenate(del_h) if del_h else np.zeros(0, np.uint64)
        di = np.concatenate(del_i) if del_i else np.zeros(0, np.int32)
        order = np.argsort(dh)
        self._del_hashes, self._del_ids = dh[order], di[order]
        if self._sound is not None:
            sh = _hash_strings([self._sound(w) for w in words])
            order = np.argsort(sh)
            self._sound_hashes, self._sound_ids = sh[order], order.astype(np.int32)

    def word(self, i: int) -> str:
        return self._blob[self._off[i] : self._off[i + 1]]

    def __contains__(self, w: str) -> bool:
        if not 0 < len(w) <= _MAX_LEN:
            return False
        return any(self.word(i) == w for i in self._lookup(self._word_hashes, self._word_ids, self._hashes(w, 0)))

    @staticmethod
    def _hashes(q: str, deletions: int) -> np.ndarray:
        """Hashes of q (deletions=0), of q with 1 letter deleted, or with 1 and 2 deleted."""
        mat, _ = _codes([q], len(q))
        pre = _prefix_hashes(mat)[0]
        n = len(q)
        total = pre[-1:]
        kk = np.array([_K], dtype=np.uint64)
        own = total + np.array([n], dtype=np.uint64) * kk
        if deletions == 0:
            return own
        binv = np.array([_B_INV], dtype=np.uint64)
        j = np.arange(n)
        d1 = pre[j] + (total - pre[j + 1]) * binv + np.array([n - 1], dtype=np.uint64) * kk
        parts = [own, d1]
        if deletions >= 2 and n >= 2:
            i1, j1 = np.triu_indices(n, k=1)  # delete letters i < j
            d2 = (
                pre[i1]
                + (pre[j1] - pre[i1 + 1]) * binv
                + (total - pre[j1 + 1]) * binv * binv
                + np.array([n - 2], dtype=np.uint64) * kk
            )
            parts.append(d2)
        return np.concatenate(parts)

    @staticmethod
    def _lookup(hashes: np.ndarray, ids: np.ndarray, keys: np.ndarray) -> list[int]:
        keys = np.sort(keys)  # sorted keys: numpy's binary search reuses the previous bound
        lo = np.searchsorted(hashes, keys, "left")
        hi = np.searchsorted(hashes, keys, "right")
        hit = hi > lo
        if not hit.any():
            return []
        out: list[int] = []
        for a, b in zip(lo[hit].tolist(), hi[hit].tolist()):
            out.extend(ids[a:b].tolist())
        return out

    def candidates(self, q: str, max_dist: int) -> tuple[set[int], set[int]]:
        """Ids of words within ``max_dist`` edits of ``q`` (plus some further ones: hash hits are
        verified by the caller), and ids of words that sound like ``q``."""
        if not 0 < len(q) <= _MAX_LEN:
            return set(), set()
        keys = self._hashes(q, max_dist)
        found = set(self._lookup(self._del_hashes, self._del_ids, keys))  # same length or q is short
        found.update(self._lookup(self._word_hashes, self._word_ids, keys[1:]))  # q has extra letters
        sounds: set[int] = set()
        if self._sound is not None and len(q) >= 5:
            sounds.update(self._lookup(self._sound_hashes, self._sound_ids, _hash_strings([self._sound(q)])))
        return found, sounds

    def _insertion_hashes(self, q: str) -> np.ndarray:
        """Hashes of q with one letter of the alphabet inserted anywhere. Matched against the
        words' single-letter deletions they find words two letters longer than q ("basicly" →
        "basically"), which the plain lookup misses. (Adding "one missing and one wrong letter"
        the same way takes ~10x as many keys, and binary searches over 3.8 M hashes cost ~1 µs
        each: not worth it.)"""
        n = len(q)
        alpha = self._alphabet
        assert alpha is not None  # only indexes built with an alphabet insert letters
        mat, _ = _codes([q], n)
        pre = _prefix_hashes(mat)[0]  # n + 1
        total = pre[n]
        b = np.array([_B], dtype=np.uint64)
        kk = np.array([_K], dtype=np.uint64)
        i = np.arange(n + 1)
        ins = (
            pre[i][:, None]
            + alpha[None, :] * _POW[i][:, None]
            + ((total - pre[i]) * b)[:, None]
            + np.array([n + 1], dtype=np.uint64) * kk
        )
        return ins.ravel()

    def suggest(self, q: str, lang: Lang, limit: int) -> list[str]:
        if not 0 < len(q) <= _MAX_LEN:
            return []
        max_dist = 1 if len(q) <= 4 else 2
        edits, sounds = self.candidates(q, max_dist)
        scored = self._score(q, lang, edits, sounds, max_dist)
        if len(q) >= 5 and self._alphabet is not None and not any(c <= 1.0 for c, _, _ in scored):
            # no single plain slip explains q: look further (two letters missing); only here,
            # as it costs a few times a normal lookup
            more = set(self._lookup(self._del_hashes, self._del_ids, self._insertion_hashes(q)))
            scored += self._score(q, lang, more - edits - sounds, set(), 2)
        scored.sort(key=lambda t: (t[0] + 0.08 * math.log10(t[1] + 10), t[1]))
        out: list[str] = []
        seen: set[str] = set()
        for _, _, w in scored:
            key = w.replace("ё", "е")
            if key not in seen:
                seen.add(key)
                out.append(w)
            if len(out) >= limit:
                break
        return out

    def _score(self, q: str, lang: Lang, ids: set[int], sounds: set[int],
               max_dist: int) -> list[tuple[float, int, str]]:
        """(edit cost, frequency rank, word) of the candidates within reach."""
        out = []
        for i in ids | sounds:
            w = self.word(i)
            allowed = max_dist + 1 if i in sounds else max_dist
            if w == q or OSA.distance(q, w, score_cutoff=allowed) > allowed:
                continue
            out.append((_edit_cost(q, w, lang), i, w))
        return out


# ---------------------------------------------------------------------------------------------
# Shared resources (one per process)

RU_VOCAB_LIMIT = 400_000  # the most frequent wordfreq words that are dictionary words
EN_WORDFREQ_MIN_ZIPF = 3.3
_EN_WORD = re.compile(r"^[a-z]+(?:['-][a-z]+)*$")
# Prefixes that make new words from any noun or verb (a typo in the rest is still caught).
_RU_PREFIXES = (
    "авто", "аудио", "видео", "фото", "радио", "электро", "теле", "мото", "вело", "мини", "микро",
    "макро", "мега", "супер", "анти", "контр", "пере", "недо", "само", "полу", "псевдо", "онлайн",
    "интернет", "веб", "смарт", "эко", "гипер", "мульти", "пред", "сверх", "меж",
)
_EN_DENY = frozenset({"alot", "ur", "teh", "thx", "pls", "plz", "ya", "yeah", "wanna", "gonna", "gotta", "cuz", "coz"})


def _data_lines(name: str) -> list[str]:
    text = resources.files("frontdesk.language").joinpath("data", name).read_text("utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def _trim_heap() -> None:
    """Give the build's temporary memory back to the OS (glibc only; a no-op elsewhere)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class _Resources:
    def __init__(self) -> None:
        # imported here, not at the top: they are heavy and only needed once the checker is used
        import importlib.util

        import pymorphy3
        import wordfreq

        self.morph = pymorphy3.MorphAnalyzer(lang="ru")
        dawg = self.morph.dictionary.words

        # English: SymSpell's frequency list (already sorted by count) + extras.
        # symspellpy ships the file; its code is not needed (so not imported)
        spec = importlib.util.find_spec("symspellpy")
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError("symspellpy is not installed (it ships the English word list)")
        path = Path(next(iter(spec.submodule_search_locations))) / "frequency_dictionary_en_82_765.txt"
        en_words: list[str] = []
        en_seen: set[str] = set()
        rows = []
        for line in path.read_text("utf-8").splitlines():
            parts = line.split()
            if len(parts) == 2:
                rows.append((-int(parts[1]), parts[0]))
        rows.sort()
        for _, w in rows:
            if w not in en_seen:
                en_seen.add(w)
                en_words.append(w)
        for w in _data_lines("extra_en.txt"):
            w = w.lower()
            if w not in en_seen:
                en_seen.add(w)
                en_words.append(w)
        # The SymSpell list misses some common forms ("colors", "canceled"): accept words that
        # wordfreq's web-wide list sees at least ~2 times per million words, except run-together
        # contractions ("dont", "thats") and a few chat misspellings frequent on the web.
        try:
            en_buckets = wordfreq.read_cBpack(wordfreq.available_languages("small")["en"])
        except Exception:  # noqa: BLE001
            en_buckets = []
        for i, bucket in enumerate(en_buckets):
            if 9 - i / 100 < EN_WORDFREQ_MIN_ZIPF:  # bucket i holds words of frequency 10**(-i/100)
                break
            for w in bucket:
                if w in en_seen or not _EN_WORD.match(w) or w in _EN_DENY:
                    continue
                if any(w[:j] + "'" + w[j:] in en_seen for j in range(1, len(w))):
                    continue
                en_seen.add(w)
                en_words.append(w)
        del en_buckets
        self.en = _DeleteIndex(en_words, _EN_SOUND, "abcdefghijklmnopqrstuvwxyz")
        self.en_known = frozenset(en_seen)

        # Russian: curated shop words, expanded into all their forms.
        extra_ru: list[str] = []
        for lemma in _data_lines("extra_ru.txt"):
            lemma = lemma.lower()
            forms = {lemma}
            if "-" not in lemma and " " not in lemma:
                forms.update(f.word for f in self.morph.parse(lemma)[0].lexeme)
            extra_ru.extend(sorted(forms))
        self.extra_ru = frozenset(extra_ru)

        ru_words: list[str] = []
        seen: set[str] = set()
        try:  # the raw frequency-bucketed list: faster than iter_wordlist, and not cached by wordfreq
            buckets = wordfreq.read_cBpack(wordfreq.available_languages("large")["ru"])
        except Exception:  # noqa: BLE001 - internal API moved: use the public one
            buckets = [list(wordfreq.iter_wordlist("ru", "large"))]
        for bucket in buckets:
            for w in bucket:
                # the dictionary holds Cyrillic words only, so no script check is needed
                if (w in dawg or w in self.extra_ru) and w not in seen:
                    seen.add(w)
                    ru_words.append(w)
            if len(ru_words) >= RU_VOCAB_LIMIT:
                break
        del buckets
        ru_words.extend(w for w in extra_ru if w not in seen)
        self.ru = _DeleteIndex(ru_words, _RU_SOUND, "абвгдеёжзийклмнопрстуфхцчшщъыьэюя")
        del ru_words, seen
        gc.collect()
        _trim_heap()

    @lru_cache(maxsize=65536)  # noqa: B019 - one instance per process, lives forever
    def ru_known(self, w: str) -> bool:
        if w in self.extra_ru or self.morph.word_is_known(w):
            return True
        # productive prefixes on a dictionary word: "автоприветствие", "переподключение"
        for prefix in _RU_PREFIXES:
            if w.startswith(prefix) and len(w) - len(prefix) >= 5:
                rest = w[len(prefix):]
                if self.morph.word_is_known(rest) or rest in self.extra_ru:
                    return True
        return False

    def en_known_word(self, w: str) -> bool:
        w = w.replace("’", "'")
        if w in self.en_known:
            return True
        if "'" in w:
            base, _, suffix = w.rpartition("'")
            if suffix in ("s", "d", "ll", "re", "ve", "m", "t") and base in self.en_known:
                return True
            if w.endswith("s'") and w[:-1] in self.en_known:  # customers'
                return True
        return False


_resources: _Resources | None = None
_resources_lock = threading.Lock()


def _get_resources() -> _Resources:
    global _resources
    if _resources is None:
        with _resources_lock:
            if _resources is None:
                _resources = _Resources()
    return _resources


# ---------------------------------------------------------------------------------------------
# The checker


class WordSet(frozenset):
    """A user dictionary folded for look-ups (case-insensitive, ё = е). Build it once with
    :meth:`of` and pass it to :meth:`SpellChecker.check` to avoid folding a big site dictionary
    on every check; plain iterables of words work too."""

    @classmethod
    def of(cls, words: Iterable[str]) -> WordSet:
        if isinstance(words, WordSet):
            return words
        return cls(_fold(w.strip()) for w in words if w and w.strip())


class _Allowed(tuple):
    """The user dictionaries of one check, looked up in turn (no union is built)."""

    def __contains__(self, folded: object) -> bool:
        return any(folded in d for d in tuple.__iter__(self))


def is_loaded() -> bool:
    """Whether the dictionaries are loaded (a server can answer "not ready" instead of waiting)."""
    return _resources is not None


class SpellChecker:
    """Spell checker for Russian and English text.

    ``extra_words`` are always accepted (e.g. the product's own words). The dictionaries load on
    first use (or on :meth:`load`), once per process and thread-safely; instances are cheap."""

    def __init__(self, extra_words: Iterable[str] = ()) -> None:
        self.extra = WordSet.of(extra_words)

    def load(self) -> SpellChecker:
        """Load the dictionaries now (e.g. at server start in a worker thread)."""
        _get_resources()
        return self

    # --- single words ---------------------------------------------------------------------

    def word_is_known(self, word: str, lang: Lang | None = None) -> bool:
        lang = lang or _lang_of(word)
        if lang is None:
            return True
        r = _get_resources()
        w = word.lower().replace("’", "'")
        if lang == "ru":
            return r.ru_known(w)
        return r.en_known_word(w)

    def suggest(self, word: str, lang: Lang | None = None, *, limit: int = MAX_SUGGESTIONS) -> list[str]:
        """Best corrections for ``word``, best first, in the word's case pattern."""
        lang = lang or _lang_of(word) or "en"
        r = _get_resources()
        index = r.ru if lang == "ru" else r.en
        q = word.lower().replace("’", "'")
        out: list[str] = []
        if len(q) >= 5 and "-" not in q:
            # A missing hyphen ("чтонибудь", "ктото"): the vocabulary has no hyphenated words.
            known = r.ru_known if lang == "ru" else r.en_known_word
            out = [c for c in (q[:i] + "-" + q[i:] for i in range(2, len(q) - 1)) if known(c)][:1]
        out += [s for s in index.suggest(q, lang, limit) if s not in out]
        return [_recase(word, s) for s in out[:limit]]

    # --- text -----------------------------------------------------------------------------

    def check(self, text: str, *, personal: Iterable[str] = (), site: Iterable[str] = ()) -> list[Issue]:
        """Misspelled words of ``text``, in order. ``personal`` (the operator's dictionary) and
        ``site`` (brand and product names) are accepted case-insensitively."""
        allowed = _Allowed((self.extra, WordSet.of(personal), WordSet.of(site)))
        issues: list[Issue] = []
        for word, start, end in tokenize(text):
            if _COMBINING.search(word):
                # judge the composed word without stress marks; report the word as typed
                norm = unicodedata.normalize("NFC", word).replace("\u0301", "").replace("\u0300", "")
                found = self._check_word(norm, start, start + len(norm), allowed)
                issues.extend(Issue(word, start, end, i.suggestions, i.lang, i.kind) for i in found[:1])
                continue
            issues.extend(self._check_word(word, start, end, allowed))
        return issues

    def _check_word(self, word: str, start: int, end: int, allowed: _Allowed) -> list[Issue]:
        if len(word) < 2 or word.isupper():  # single letters; abbreviations: ООО, СДЭК, USB
            return []
        if _PURE_RU.fullmatch(word):  # the common cases first, without per-letter loops
            lang: Lang = "ru"
            mixed = False
        elif _PURE_EN.fullmatch(word):
            lang, mixed = "en", False
        else:
            if _DIGIT.search(word) or not _ONLY_OURS.fullmatch(word):
                return []  # digits ("XR500"), or another alphabet ("ї", "é"): not ours to judge
            lang, mixed = "ru", True
            if not _CYR.search(word) or not _LAT.search(word):  # apostrophes in Russian, etc.
                lang, mixed = ("ru" if _CYR.search(word) else "en"), False
        if not mixed and self.word_is_known(word, lang):
            return []
        if _fold(word) in allowed:
            return []
        if "-" in word:
            # "Wi-Fi-роутер", "кто-нибудь": judge the parts separately.
            issues = []
            pos = start
            for part in word.split("-"):
                issues.extend(self._check_word(part, pos, pos + len(part), allowed))
                pos += len(part) + 1
            return issues
        if mixed:
            return self._mixed(word, start, end, allowed)
        switched = _other_layout(word, lang)
        if switched is not None:
            other: Lang = "en" if lang == "ru" else "ru"
            return [Issue(word, start, end, [switched], other, "layout")]
        return [Issue(word, start, end, self.suggest(word, lang), lang, "unknown")]

    def _mixed(self, word: str, start: int, end: int, allowed: _Allowed) -> list[Issue]:
        cyr = len(_CYR.findall(word))
        lat = len(_LAT.findall(word))
        to_ru = word.translate(_LAT_TO_CYR_HOMO)
        to_en = word.translate(_CYR_TO_LAT_HOMO)
        order: list[tuple[str, Lang]] = [(to_ru, "ru"), (to_en, "en")] if cyr >= lat else [(to_en, "en"), (to_ru, "ru")]
        for fixed, lang in order:
            single = (lang == "ru" and not _LAT.search(fixed)) or (lang == "en" and not _CYR.search(fixed))
            if single and (self.word_is_known(fixed, lang) or _fold(fixed) in allowed):
                return [Issue(word, start, end, [fixed], lang, "mixed")]
        # No homoglyph reading is a word: suggest for the majority-script reading.
        fixed, lang = order[0]
        single = (lang == "ru" and not _LAT.search(fixed)) or (lang == "en" and not _CYR.search(fixed))
        return [Issue(word, start, end, self.suggest(fixed, lang) if single else [], lang, "mixed")]


def _lang_of(word: str) -> Lang | None:
    if _CYR.search(word):
        return "ru"
    if _LAT.search(word):
        return "en"
    return None


def _other_layout(word: str, lang: Lang) -> str | None:
    """``word`` re-read as typed in the other keyboard layout, when that is a known word and the
    word itself is not (e.g. "pfrfp" → "заказ", "руддщ" → "hello")."""
    if len(word) < 3:
        return None
    r = _get_resources()
    if lang == "en":
        cand = word.translate(_LAT_TO_CYR_LAYOUT)
        if _CYR.search(cand) and not _LAT.search(cand) and r.ru_known(cand.lower()):
            # Short letter strings map to *some* Russian word often; demand a real word length.
            return cand if len(cand) >= 4 else None
    else:
        cand = word.translate(_CYR_TO_LAT_LAYOUT)
        if cand.isalpha() and not _CYR.search(cand) and r.en_known_word(cand.lower()):
            return cand if len(cand) >= 4 else None
    return None


_default: SpellChecker | None = None


def get_spell_checker() -> SpellChecker:
    """The process-wide checker (no extra words)."""
    global _default
    if _default is None:
        _default = SpellChecker()
    return _default
