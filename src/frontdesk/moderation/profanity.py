"""Profanity filter for Russian and English chat messages.

Pure and synchronous: no I/O after construction, no global state besides the
module-level default instance that `default_filter()` builds once.

How a message is checked (details and the reasons in docs/moderation.md):

1. Every character is folded: lower case, ё→е, accents and decorative Unicode
   dropped (NFKD per character, so offsets stay in code points of the input).
2. The text is cut into candidate words. A word is a run of letters, digits and
   the symbols people use in place of letters (@ $ * …). Words glued by one
   separator ("х.у.й", "бл-ять", "f.u.c.k") are also tried joined, and so are
   runs of three or more single letters ("х у й", "f u c k").
3. Each candidate is read in its script: in a word with any Cyrillic letter, Latin
   look-alikes and digits become Cyrillic (x→х, y→у, 0→о, 3→з, 6→б …); in a Latin
   word digits become Latin letters (0→o, 1→i, 3→e, 4→a, 5→s, @→a, $→s); a Latin
   word made only of look-alikes is also read as Cyrillic ("cyka"). Repeated
   letters are tried collapsed ("хуууй", "fuuuck"); an asterisk inside a word
   stands for any one letter ("бл*дь", "f*ck").
4. A reading is bad when it is not whitelisted and either is a form from the
   maintained list (badwords-py, minus our exclusions) or matches a curated rule
   (data/patterns.txt). Russian rules are morphology-aware: a bad root counts only
   at the start of the word or after a chain of real verbal prefixes, so
   "на-хуй", "за-еб-ал", "вы-бляд-ок" are caught and "страхуй", "корабля",
   "употреблять", "себестоимость", "веб" are not.
"""
from __future__ import annotations

import importlib.util
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from pathlib import Path
from typing import Literal

_Rule = tuple[Callable[[str], "re.Match[str] | None"], list[str]]  # (matcher, labels of its alternatives)

__all__ = [
    "Match",
    "Mode",
    "MODES",
    "ProfanityFilter",
    "default_filter",
]

Mode = Literal["off", "flag", "mask"]
MODES: tuple[str, ...] = ("off", "flag", "mask")

_DATA = Path(__file__).with_name("data")

_CYR = frozenset("абвгдежзийклмнопрстуфхцчшщъыьэюя")
_LAT = frozenset("abcdefghijklmnopqrstuvwxyz")
_CYR_EXTRA = {"ё": "е", "і": "и", "ї": "и", "є": "е", "ў": "у", "ґ": "г"}

# Latin look-alikes (and digits/symbols) inside a Cyrillic word.
_TO_CYR = {
    "a": "а", "b": "в", "c": "с", "e": "е", "h": "н", "k": "к", "m": "м", "n": "п",
    "o": "о", "p": "р", "r": "г", "t": "т", "u": "и", "x": "х", "y": "у",
    "0": "о", "3": "з", "4": "ч", "6": "б", "1": "и", "@": "а", "$": "с", "!": "и",
}
# A second Cyrillic reading for the ambiguous ones: "бл@дь", "хuй", "bля".
_TO_CYR_ALT = {**_TO_CYR, "@": "я", "u": "у", "b": "б", "n": "н"}
_TR_CYR = str.maketrans(_TO_CYR)
_TR_CYR_ALT = str.maketrans(_TO_CYR_ALT)
_HAS_CYR = re.compile("[а-яё]").search
_ALL_CYR = re.compile("[а-яё]+").fullmatch
_HAS_AMBIGUOUS = re.compile("[@ubn]").search
# A Latin word written wholly in letters that pass for Cyrillic ones ("cyka").
_ALL_LOOKALIKE = re.compile("[aceopxykmth0-9@$!]*[aceopxykmth][aceopxykmth0-9@$!]*").fullmatch
# Digits and symbols inside a Latin word.
_TO_LAT = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
_TR_LAT = str.maketrans(_TO_LAT)
# Cyrillic look-alikes inside a Latin word (і and ї fold to и, so и reads as i here).
_TR_LAT_FROM_CYR = str.maketrans({
    **_TO_LAT, "а": "a", "в": "b", "с": "c", "е": "e", "н": "h", "и": "i", "к": "k",
    "м": "m", "о": "o", "р": "p", "т": "t", "х": "x", "у": "y", "п": "n", "г": "r",
})
_HAS_LAT = re.compile("[a-z]").search

_IN_WORD_SYMBOLS = frozenset("0123456789@$*!")
_EDGE_STRIP = "!*"          # "блядь!" and "*важно*": not part of the word at its edges
_JOINERS = frozenset(".-_'’·`~,|/\\+")   # one of these between pieces: "х.у.й", "бл-ять"
_WILDCARD = "*"
_MAX_WILDCARDS = 2          # per word; "f***" is not guessed
_MAX_STARRED_WORDS = 8      # per message: bounds the cost of "a**b c**d …" floods
_MAX_STARRED_LEN = 32       # a longer starred "word" is not a masked swear word
_ALPHABET_RU = "абвгдежзийклмнопрстуфхцчшщъыьэюя"
_ALPHABET_EN = "abcdefghijklmnopqrstuvwxyz"
_STAR2_RU = "аеиоуыэюяйбдзхцтл"
_STAR2_EN = "aeiouyckhst"

_VOWELS_RU = frozenset("аеиоуыэюя")
_PREFIXES_RU = (
    "вы", "за", "на", "по", "до", "от", "ото", "при", "пере", "про", "под", "подо",
    "раз", "рас", "разо", "без", "бес", "из", "ис", "изо", "вз", "вс", "во", "в", "с",
    "со", "у", "о", "об", "обо", "ни", "недо", "пре", "пред", "над", "надо",
    "долбо", "мудо", "не", "осто",
)

# Russian entries of the upstream list are adopted only when they carry one of these
# obscene stems: the list also holds plain words (дамба, приклад, фланец, восклицать).
_UPSTREAM_GATE_RU = re.compile(
    r"ху[йеёяюи]|пизд|пизж|пезд|писд|[её]б|йоб|яб|бля|блят|муд|манд|монд|хер|пид[оа]р"
    r"|пидр|г[ао]ндон|залуп|шлю[хш]|др[оа]ч|дрюч|жоп|г[ао]вн|дерьм|сра[тнлчк]|сса|сца"
    r"|ссы|сцы|перд|трах|сук|суч|сцук|шалав|курв|мраз|ублюд|чмо|[её]пт|елд|минет|сиськ"
    r"|шмар|бзд|дрист"
)


@dataclass(frozen=True, slots=True)
class Match:
    """One bad word: text[start:end] (offsets in code points of the original text)."""

    start: int
    end: int
    word: str        # the word as written in the message
    rule: str = ""   # what caught it: "list:<entry>" or "<lang> <kind> <pattern>"


def _fold_char(ch: str) -> str:
    """Lower-case one character and strip decoration; keeps й and maps ё to е.

    Combining marks and invisible format characters (zero-width space, soft hyphen)
    fold to "" so that "fu\u0308ck" and "ху\u200bй" read as one word.
    """
    if unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return ""
    low = ch.lower()
    if len(low) != 1:
        low = low[0]
    if low in _CYR or low in _LAT or low.isdigit() and low.isascii():
        return low
    if low in _CYR_EXTRA:
        return _CYR_EXTRA[low]
    dec = unicodedata.normalize("NFKD", low)
    base = "".join(c for c in dec if not unicodedata.combining(c)).lower()
    if len(base) == 1:
        return "е" if base == "ё" else base
    return low


_FOLD_CACHE: dict[str, str] = {}


def _fold(ch: str) -> str:
    try:
        return _FOLD_CACHE[ch]
    except KeyError:
        out = _fold_char(ch)
        if len(_FOLD_CACHE) < 20_000:   # bounded: a message of rare code points can't grow it
            _FOLD_CACHE[ch] = out
        return out


def _is_wordish(ch: str) -> bool:
    return ch == "" or ch.isalpha() or ch in _IN_WORD_SYMBOLS


_RUNS = re.compile(r"(.)\1+")
_RUNS3 = re.compile(r"(.)\1\1+")


def _collapse(s: str) -> str:
    return _RUNS.sub(r"\1", s)


def _collapse3(s: str) -> str:
    return _RUNS3.sub(r"\1", s)


_ADDRESS = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://|www\.)\S*"            # URL
    r"|[^\s@]+@[^\s@]+\.[^\s@]+"                   # e-mail
    r"|(?:[a-z0-9-]{2,}\.)+[a-z]{2,6}(?:[/:?#]\S*)?",  # host name: orbit.ch, push.it/x
    re.IGNORECASE,
)


def _inside_address(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] sits in a URL, e-mail or host name: its dots are not
    an obfuscation there ("bit.ch" is a domain, not "bitch")."""
    a, b = start, end
    while a > 0 and not text[a - 1].isspace():
        a -= 1
    while b < len(text) and not text[b].isspace():
        b += 1
    chunk = text[a:b].rstrip(".,!?;:)»\"'").lstrip("(«\"'")
    return bool(_ADDRESS.fullmatch(chunk))


def _upstream_dir() -> Path | None:
    """The word lists shipped in badwords-py, found without importing its native module."""
    spec = importlib.util.find_spec("badwords")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "resource" / "words"
    return path if path.is_dir() else None


def _read_lines(path: Path) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def _norm_entry(entry: str) -> str:
    return "".join(_fold(c) for c in entry if c not in _JOINERS and not c.isspace())


class ProfanityFilter:
    """Load once, then call `find`, `mask`, `has_profanity` or `apply` from anywhere.

    `extra_words` / `extra_whitelist` add exact word forms (after folding), e.g. from
    a site setting later on. `use_upstream=False` leaves out the badwords-py lists
    (the curated rules alone), which the tests use to measure what each part adds.
    """

    def __init__(
        self,
        *,
        extra_words: tuple[str, ...] | list[str] = (),
        extra_whitelist: tuple[str, ...] | list[str] = (),
        use_upstream: bool = True,
        data_dir: Path | None = None,
    ) -> None:
        data = data_dir or _DATA
        whitelist: set[str] = set()
        whitelist_prefixes: list[str] = []
        for entry in _read_lines(data / "whitelist.txt") + list(extra_whitelist):
            if entry.endswith("*"):
                whitelist_prefixes.append(_norm_entry(entry[:-1]))
            else:
                whitelist.add(_norm_entry(entry))
        self._whitelist = frozenset(whitelist)
        self._whitelist_prefixes = tuple(whitelist_prefixes)

        words: set[str] = set()
        self.upstream_version = None
        if use_upstream:
            up = _upstream_dir()
            if up is None:
                raise RuntimeError("badwords-py is not installed: pip install badwords-py")
            excluded = {_norm_entry(e) for e in _read_lines(data / "upstream_exclude.txt")}
            for lang in ("ru", "en"):
                for entry in _read_lines(up / f"{lang}.txt"):
                    if " " in entry.strip():
                        continue            # multi-word phrases: not used
                    norm = _norm_entry(entry)
                    if len(norm) < 2 or norm in excluded:
                        continue
                    if lang == "ru" and not _UPSTREAM_GATE_RU.search(norm):
                        continue
                    words.add(norm)
            try:
                from importlib.metadata import version
                self.upstream_version = version("badwords-py")
            except Exception:  # noqa: BLE001 - informative only
                self.upstream_version = "?"
        words.update(_norm_entry(w) for w in extra_words)
        self._words = frozenset(words)
        self._rules = self._compile_rules(_read_lines(data / "patterns.txt"), joined=False)
        # for words glued from pieces ("bit.ch", "push-it") an "any" rule must match at
        # the start: "пи.здец", "mother.fucker" yes; "push-it" -> "pushit" no
        self._rules_joined = self._compile_rules(_read_lines(data / "patterns.txt"), joined=True)
        self._check = lru_cache(maxsize=65536)(self._check_uncached)

    # -- rules ------------------------------------------------------------------

    @staticmethod
    def _compile_rules(lines: list[str], joined: bool) -> dict[str, list[_Rule]]:
        """Per language, up to four compiled regexes (one per rule kind), each with the
        labels of its alternatives: prefix chain and root alternation are factored so
        the engine walks the chain once, and "any" rules are a plain search."""
        prefixes = sorted(_PREFIXES_RU, key=len, reverse=True)
        vowel_end = [p for p in prefixes if p[-1] in _VOWELS_RU]
        cons_end = [p for p in prefixes if p[-1] not in _VOWELS_RU]
        # at most two prefixes, a one-letter one only alone: "по-на-хуярить",
        # "рас-пиздяй", "с-хуяли"; never "с-а-бля", "вс-у-хую", "без-у-хую"
        multi = "(?:" + "|".join(p for p in prefixes if len(p) > 1) + ")"
        single = "(?:" + "|".join(p for p in prefixes if len(p) == 1) + ")"
        chain = f"(?:{multi}{multi}?|{single})?"
        eb_chain = (
            f"(?:{multi}?(?:{'|'.join(vowel_end)}|(?:{'|'.join(cons_end)})[ъь]))?"
        )
        heads = {"root": chain, "ebroot": eb_chain, "word": "", "any": ""}
        grouped: dict[str, dict[str, list[tuple[str, str]]]] = {}
        for line in lines:
            lang, kind, pattern = line.split(None, 2)
            if kind not in heads:
                raise ValueError(f"unknown rule kind {kind!r} in {line!r}")
            re.compile(pattern)  # fail early on a broken line
            grouped.setdefault(lang, {}).setdefault(kind, []).append(
                (pattern, f"{lang} {kind} {pattern}")
            )
        out: dict[str, list[_Rule]] = {}
        for lang, kinds in grouped.items():
            compiled: list[_Rule] = []
            for kind in ("word", "root", "ebroot", "any"):
                items = kinds.get(kind)
                if not items:
                    continue
                alts = "|".join(f"(?P<r{i}>{pat})" for i, (pat, _) in enumerate(items))
                rx = re.compile(heads[kind] + "(?:" + alts + ")")
                method = (rx.match if joined else rx.search) if kind == "any" else rx.fullmatch
                compiled.append((method, [label for _, label in items]))
            out[lang] = compiled
        return out

    def _rule(self, lang: str, s: str, joined: bool = False) -> str | None:
        for method, names in (self._rules_joined if joined else self._rules).get(lang, ()):
            m = method(s)
            if m is not None and m.lastgroup:
                return names[int(m.lastgroup[1:])]
        return None

    def _whitelisted(self, s: str) -> bool:
        return s in self._whitelist or (
            bool(self._whitelist_prefixes) and s.startswith(self._whitelist_prefixes)
        )

    # -- one word -----------------------------------------------------------------

    def _readings(self, word: str) -> list[tuple[str, str]]:
        """(language, reading) pairs for one folded candidate word."""
        if _HAS_CYR(word):
            if _ALL_CYR(word):
                return [("ru", word)]
            out = [("ru", word.translate(_TR_CYR))]
            if _HAS_AMBIGUOUS(word):
                out.append(("ru", word.translate(_TR_CYR_ALT)))
            if _HAS_LAT(word):   # Cyrillic look-alikes in a Latin word: "fuсk", "shіt"
                out.append(("en", word.translate(_TR_LAT_FROM_CYR)))
            return out
        lat = word.translate(_TR_LAT)
        out = [("en", lat), ("ru-lat", lat)]
        if _ALL_LOOKALIKE(word):
            out.append(("ru", word.translate(_TR_CYR)))
        return out

    def _check_uncached(self, word: str, joined: bool = False) -> str | None:
        """The rule that makes a folded word bad, or None."""
        if self._whitelisted(word):
            return None
        stars = word.count(_WILDCARD)
        if stars:
            return self._check_wildcards(word, stars, joined)
        for lang, reading in self._readings(word):
            # as written; with runs of 3+ letters collapsed ("fuuuck", "хууууй"); with
            # every double collapsed too ("fuuck") but then rules only, since the
            # exact list would take "cook" for "cok"
            cands = [(reading, True)]
            if _RUNS.search(reading):
                c3 = _collapse3(reading)
                if c3 != reading:
                    cands.append((c3, True))
                c2 = _collapse(reading)
                if c2 != reading and c2 != c3:
                    cands.append((c2, False))
            for cand, use_list in cands:
                if cand != word and self._whitelisted(cand):
                    return None
                if use_list and cand in self._words:
                    return f"list:{cand}"
                hit = self._rule(lang, cand, joined)
                if hit:
                    return hit
        return None

    def _check_wildcards(self, word: str, stars: int, joined: bool) -> str | None:
        letters = sum(1 for c in word if c.isalpha())
        if stars > _MAX_WILDCARDS or letters < 2 or letters < stars or len(word) > _MAX_STARRED_LEN:
            return None
        cyr = bool(_HAS_CYR(word))
        if stars == 1:
            alphabet = _ALPHABET_RU if cyr else _ALPHABET_EN
        else:  # two stars hide vowels and a few consonants: "пи**ец", "f**k", "бл**ь"
            alphabet = _STAR2_RU if cyr else _STAR2_EN
        parts = word.split(_WILDCARD)
        for fill in product(alphabet, repeat=stars):
            cand = parts[0] + "".join(f + p for f, p in zip(fill, parts[1:]))
            hit = self._check(cand, joined)
            if hit:
                return hit
        return None

    def check_word(self, word: str) -> str | None:
        """The rule that makes one word bad, or None (folds the word first)."""
        folded = "".join(_fold(c) for c in word).strip(_EDGE_STRIP)
        return self._check(folded) if folded else None

    # -- text -------------------------------------------------------------------

    def _candidates(self, text: str) -> Iterator[tuple[int, int, str, bool]]:
        """Yield (start, end, folded word, joined) for every candidate in the text."""
        folded = [_fold(c) for c in text]
        n = len(folded)
        # 1. pieces: maximal runs of word characters
        pieces: list[tuple[int, int]] = []
        i = 0
        while i < n:
            if _is_wordish(folded[i]):
                j = i + 1
                while j < n and _is_wordish(folded[j]):
                    j += 1
                # drop "!" / "*" at the edges of the piece
                a, b = i, j
                while a < b and folded[a] in _EDGE_STRIP:
                    a += 1
                while b > a and folded[b - 1] in _EDGE_STRIP:
                    b -= 1
                if a < b:
                    pieces.append((a, b))
                i = j
            else:
                i += 1

        def word_of(a: int, b: int) -> str:
            return "".join(folded[a:b])

        for a, b in pieces:
            yield a, b, word_of(a, b), False

        # 2. pieces glued by exactly one joiner character: "х.у.й", "бл-ять"
        k = 0
        while k < len(pieces):
            m = k
            while (
                m + 1 < len(pieces)
                and pieces[m + 1][0] - pieces[m][1] == 1
                and folded[pieces[m][1]] in _JOINERS
            ):
                m += 1
            e_prefix = (   # "е-бук", "e-banking", "и-мейл": the "electronic" prefix
                m > k
                and folded[pieces[k][0] : pieces[k][1]] in (["е"], ["e"], ["и"], ["i"], ["э"])
                and folded[pieces[k][1]] == "-"
            )
            if m > k and not e_prefix and not _inside_address(text, pieces[k][0], pieces[m][1]):
                joined = "".join(word_of(a, b) for a, b in pieces[k : m + 1])
                yield pieces[k][0], pieces[m][1], joined, True
            k = m + 1

        # 3. runs of >= 3 one-letter pieces, all separated by the same one or two
        #    non-word characters: "х у й", "f . u . c . k"
        def gap(m: int) -> str:
            return "".join(text[pieces[m][1] : pieces[m + 1][0]])

        k = 0
        while k < len(pieces):
            m = k
            while (
                pieces[m][1] - pieces[m][0] == 1
                and m + 1 < len(pieces)
                and pieces[m + 1][1] - pieces[m + 1][0] == 1
                and 1 <= pieces[m + 1][0] - pieces[m][1] <= 2
                and (m == k or gap(m) == gap(k))
            ):
                m += 1
            if m - k >= 2:
                yield pieces[k][0], pieces[m][1], "".join(folded[a] for a, _ in pieces[k : m + 1]), True
                k = m + 1
            else:
                k += 1

    def find(self, text: str) -> list[Match]:
        """Every bad word in the text, in order, without overlaps."""
        found: list[Match] = []
        starred = 0
        for start, end, word, joined in self._candidates(text):
            if _WILDCARD in word:
                starred += 1
                if starred > _MAX_STARRED_WORDS:
                    continue
            hit = self._check(word, joined)
            if hit:
                found.append(Match(start, end, text[start:end], hit))
        if len(found) < 2:
            return found
        # keep the widest of overlapping spans ("х.у.й" over nothing, "хуй-ня" over "хуй")
        found.sort(key=lambda m: (m.start, -(m.end - m.start)))
        out: list[Match] = []
        for m in found:
            if out and m.start < out[-1].end:
                if m.end > out[-1].end:
                    last = out[-1]
                    out[-1] = Match(last.start, m.end, text[last.start : m.end], last.rule)
                continue
            out.append(m)
        return out

    def has_profanity(self, text: str) -> bool:
        starred = 0
        for _start, _end, word, joined in self._candidates(text):
            if _WILDCARD in word:
                starred += 1
                if starred > _MAX_STARRED_WORDS:
                    continue
            if self._check(word, joined):
                return True
        return False

    def mask(self, text: str, matches: list[Match] | None = None) -> str:
        """Each bad word becomes its first letter and asterisks, same length."""
        matches = self.find(text) if matches is None else matches
        if not matches:
            return text
        out: list[str] = []
        pos = 0
        for m in matches:
            out.append(text[pos : m.start])
            out.append(text[m.start] + "*" * (m.end - m.start - 1))
            pos = m.end
        out.append(text[pos:])
        return "".join(out)

    def apply(self, text: str, mode: str) -> tuple[str, bool]:
        """The site setting: returns (text for the operator, flagged).

        off  -> (text, False): nothing is checked.
        flag -> (text, found): the operator sees the message as sent, marked.
        mask -> (masked text, found): the bad words are masked in the operator's view.
        The visitor's own copy of the message is never changed by this.
        """
        if mode == "off":
            return text, False
        if mode == "flag":
            return text, self.has_profanity(text)
        if mode == "mask":
            matches = self.find(text)
            return self.mask(text, matches), bool(matches)
        raise ValueError(f"profanity mode must be one of {', '.join(MODES)}, not {mode!r}")


_DEFAULT: ProfanityFilter | None = None


def default_filter() -> ProfanityFilter:
    """The process-wide filter, built on first use (about 50 ms), then shared."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = ProfanityFilter()
    return _DEFAULT
