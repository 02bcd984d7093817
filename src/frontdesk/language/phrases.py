"""Quick phrases: ranked suggestions while the operator types, variable filling, CSV import/export.

- :class:`PhraseIndex` — build once per phrase set; ``search(query, usage=..., limit=8)`` ranks
  phrases by key prefix (``/deliv``), whole words, word prefixes (the word being typed), Russian
  and English word forms (Snowball stems: "доставка" finds "доставке") and fuzzy similarity
  (rapidfuzz: "доствка" finds "доставка"), with the operator's usage counts as a tie-breaker
  boost. Every query word must match something, so unrelated queries return nothing.
- :func:`fill` — ``{visitor_name}``, ``{operator_name}``, ``{site_name}``, ``{page_title}``.
- :func:`phrases_to_csv` / :func:`phrases_from_csv` — UTF-8 CSV that round-trips.

Pure Python, no I/O. See docs/language.md.
"""
from __future__ import annotations

import bisect
import csv
import io
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer
from rapidfuzz import fuzz, process

__all__ = [
    "KNOWN_VARIABLES",
    "Match",
    "Phrase",
    "PhraseCSVError",
    "PhraseIndex",
    "fill",
    "normalize_key",
    "phrases_from_csv",
    "phrases_to_csv",
]

KNOWN_VARIABLES = ("visitor_name", "operator_name", "site_name", "page_title")
MAX_TITLE = 200
MAX_TEXT = 4000
MAX_KEY = 32


@dataclass(frozen=True, slots=True)
class Phrase:
    """A quick phrase. ``key`` is optional ("" or like "/delivery"); ``group`` is free text."""

    id: int | str | None
    key: str = ""
    title: str = ""
    text: str = ""
    group: str = ""


@dataclass(frozen=True, slots=True)
class Match:
    phrase: Phrase
    score: float
    # "key": the query's /key matched the phrase key; "words": the words matched.
    how: str


# ---------------------------------------------------------------------------------------------
# Words

_TOKEN_RE = re.compile(r"[^\W_]+")
_CYR_RE = re.compile(r"[а-яё]")
_STEMMERS = {"ru": snowballstemmer.stemmer("russian"), "en": snowballstemmer.stemmer("english")}
_STOP = frozenset([
    "и", "в", "во", "на", "с", "со", "к", "ко", "у", "о", "об", "от", "до", "по", "за", "из", "не", "а",
    "но", "или", "что", "как", "это", "же", "ли", "бы", "то", "я", "мы", "вы", "ты", "он", "она", "они",
    "мне", "нам", "вам", "вас", "нас", "вы", "мой", "ваш", "наш", "the", "a", "an", "to", "of", "for", "in",
    "on", "at", "is", "are", "be", "and", "or", "my", "your", "our", "it", "this", "that", "with"
])


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold().replace("ё", "е").replace("\u0301", "")


def _tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(_norm(text))


@lru_cache(maxsize=100_000)
def _stem(token: str) -> str:
    lang = "ru" if _CYR_RE.search(token) else "en"
    return _STEMMERS[lang].stemWord(token)


def normalize_key(key: str) -> str:
    """"/Delivery" → "delivery" (what key matching compares)."""
    return _norm(key.strip()).lstrip("/")


# Where a word was found, and how much that counts.
_FIELD_WEIGHT = {"key": 1.0, "title": 1.0, "text": 0.8, "group": 0.6}
_EXACT, _PREFIX, _FUZZY_MAX = 1.0, 0.85, 0.75
_FUZZY_CUTOFF = 85.0  # rapidfuzz ratio, 0..100: one slip in a 6+ letter word
_KEY_FUZZY_CUTOFF = 80.0  # keys are short: "/retrun" -> "/return"
_MORE_FIELDS = 0.05  # a word found in the title *and* the text counts a little more
_FIELD_BITS = ((1, "key"), (2, "title"), (4, "text"), (8, "group"))
_MASK_WEIGHT = [
    max((_FIELD_WEIGHT[f] for b, f in _FIELD_BITS if m & b), default=0.0)
    + _MORE_FIELDS * max(0, sum(1 for b, _ in _FIELD_BITS if m & b) - 1)
    for m in range(16)
]
_USAGE_STEP, _USAGE_CAP = 0.05, 0.15  # usage reorders near-equal matches only
_MIN_WORDS_SCORE = 0.4


class PhraseIndex:
    """An index over a phrase list for fast ranked search (build it once per list change)."""

    def __init__(self, phrases: Iterable[Phrase]) -> None:
        self.phrases: list[Phrase] = list(phrases)
        # word form -> {phrase index: best field weight + a little per further field}
        self._exact: dict[str, dict[int, float]] = {}
        self._surface: dict[str, dict[int, float]] = {}  # the words as written (for prefixes/fuzzy)
        self._keys: dict[str, list[int]] = {}
        exact_fields: dict[str, dict[int, int]] = {}  # form -> {phrase: bit mask of fields}
        surface_fields: dict[str, dict[int, int]] = {}
        for i, p in enumerate(self.phrases):
            key = normalize_key(p.key)
            if key:
                self._keys.setdefault(key, []).append(i)
            for bit, text in ((1, key.replace("-", " ").replace("_", " ")), (2, p.title), (4, p.text), (8, p.group)):
                for tok in set(_tokens(text)):
                    post = surface_fields.setdefault(tok, {})
                    post[i] = post.get(i, 0) | bit
                    stem = _stem(tok)
                    if stem != tok:
                        post = exact_fields.setdefault(stem, {})
                        post[i] = post.get(i, 0) | bit
        for tok, post in surface_fields.items():
            mine = exact_fields.setdefault(tok, {})
            for i, mask in post.items():
                mine[i] = mine.get(i, 0) | mask
        self._exact = {f: {i: _MASK_WEIGHT[m] for i, m in post.items()} for f, post in exact_fields.items()}
        self._surface = {f: {i: _MASK_WEIGHT[m] for i, m in post.items()} for f, post in surface_fields.items()}
        self._surface_sorted = sorted(self._surface)
        self._by_first: dict[str, list[str]] = {}
        for tok in self._surface_sorted:
            self._by_first.setdefault(tok[0], []).append(tok)
        self._key_sorted = sorted(self._keys)

    def __len__(self) -> int:
        return len(self.phrases)

    # --- matching one query word --------------------------------------------------------

    def _word_scores(self, qt: str, *, typing: bool) -> dict[int, float]:
        """Phrase index -> best score of query word ``qt`` in it. ``typing``: the word may be
        unfinished (the last word of the query), so prefixes count fully."""
        scores: dict[int, float] = {}

        def take(post: dict[int, float], s: float) -> None:
            for i, w in post.items():
                v = s * w
                if v > scores.get(i, 0.0):
                    scores[i] = v

        for form in {qt, _stem(qt)}:
            post = self._exact.get(form)
            if post:
                take(post, _EXACT)
        # word prefixes: "дост" -> "доставке"; a finished word is matched by prefix only if long
        if typing or len(qt) >= 4:
            stem = _stem(qt) if len(qt) >= 4 else qt
            for pref in {qt, stem}:
                if len(pref) < 2:
                    continue
                lo = bisect.bisect_left(self._surface_sorted, pref)
                hi = bisect.bisect_left(self._surface_sorted, pref + "\uffff")
                for tok in self._surface_sorted[lo:hi]:
                    if tok != qt:
                        take(self._surface[tok], _PREFIX if typing or pref == stem else _PREFIX * 0.9)
        # typos: "доствка" -> "доставка"; the first letter must agree (people rarely get it
        # wrong, and "доставку"/"поставку" are different words)
        if len(qt) >= 4:
            for tok, ratio, _ in process.extract(
                qt, self._by_first.get(qt[0], ()), scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF, limit=20
            ):
                if tok != qt:
                    take(self._surface[tok], _FUZZY_MAX * ratio / 100)
        return scores

    def _key_scores(self, qk: str) -> dict[int, float]:
        scores: dict[int, float] = {}
        if not qk:
            return scores
        for i in self._keys.get(qk, ()):
            scores[i] = 1.2  # an exact key beats everything
        lo = bisect.bisect_left(self._key_sorted, qk)
        hi = bisect.bisect_left(self._key_sorted, qk + "\uffff")
        for key in self._key_sorted[lo:hi]:
            for i in self._keys[key]:
                scores.setdefault(i, 1.1 - 0.1 * min(1.0, (len(key) - len(qk)) / max(len(key), 1)))
        if len(qk) >= 3:
            for key, ratio, _ in process.extract(
                qk, self._key_sorted, scorer=fuzz.ratio, score_cutoff=_KEY_FUZZY_CUTOFF, limit=10
            ):
                for i in self._keys[key]:
                    scores.setdefault(i, _FUZZY_MAX * ratio / 100)
        return scores

    # --- the query ------------------------------------------------------------------------

    def search(self, query: str, *, usage: Mapping[int | str | None, int] | None = None,
               limit: int = 8) -> list[Match]:
        """Phrases matching ``query``, best first.

        ``query`` is what the operator typed: ``/key`` (optionally followed by words) or plain
        words; the last word may be unfinished. An empty query (or a lone "/") lists the most
        used phrases. ``usage`` maps phrase ids to how often this operator used them."""
        usage = usage or {}
        q = query.strip()
        results: dict[int, tuple[float, str]] = {}
        if q in ("", "/"):
            ranked = sorted(range(len(self.phrases)), key=lambda i: (-usage.get(self.phrases[i].id, 0), i))
            return [Match(self.phrases[i], 0.0, "recent") for i in ranked[:limit]]

        words_query = q
        if q.startswith("/"):
            head, _, rest = q[1:].partition(" ")
            qk = normalize_key(head)
            key_scores = self._key_scores(qk)
            rest_scores = self._words_scores(rest, typing_last=True) if rest.strip() else None
            for i, s in key_scores.items():
                if rest_scores is None or i in rest_scores:
                    results[i] = (s + (rest_scores[i] * 0.1 if rest_scores else 0.0), "key")
            # "/дост" also finds phrases whose words start like that (keys are optional)
            words_query = (head.replace("-", " ").replace("_", " ") + " " + rest).strip()
        for i, s in self._words_scores(words_query, typing_last=True).items():
            if i not in results or results[i][0] < s:
                results[i] = (s, "words")

        def final(i: int) -> float:
            n = usage.get(self.phrases[i].id, 0)
            return results[i][0] + min(_USAGE_CAP, _USAGE_STEP * math.log2(1 + n)) if n > 0 else results[i][0]

        ranked = sorted(results, key=lambda i: (-final(i), -usage.get(self.phrases[i].id, 0), i))
        return [Match(self.phrases[i], round(final(i), 4), results[i][1]) for i in ranked[:limit]]

    def _words_scores(self, text: str, *, typing_last: bool) -> dict[int, float]:
        """Phrase index -> mean word score. Every content word must match, except that a query
        of three or more content words may leave one unmatched (it then scores 0)."""
        toks = _tokens(text)
        if not toks:
            return {}
        content = [t for t in toks if t not in _STOP] or toks
        allowed_misses = 1 if len(content) >= 3 else 0
        total: dict[int, float] = {}
        misses: dict[int, int] = {}
        for n, qt in enumerate(content):
            typing = typing_last and n == len(content) - 1 and qt == toks[-1]
            scores = self._word_scores(qt, typing=typing)
            if n == 0:
                total = dict(scores)
                misses = dict.fromkeys(scores, 0)
                if allowed_misses:  # the first word may be the unmatched one
                    for i in range(len(self.phrases)):
                        if i not in total:
                            total[i], misses[i] = 0.0, 1
                continue
            for i in list(total):
                s = scores.get(i)
                if s is not None:
                    total[i] += s
                elif misses[i] < allowed_misses:
                    misses[i] += 1
                else:
                    del total[i]
            if not total:
                return {}
        out = {i: s / len(content) for i, s in total.items() if len(content) - misses[i] > 0}
        return {i: s for i, s in out.items() if s >= _MIN_WORDS_SCORE}


# ---------------------------------------------------------------------------------------------
# Variables

_VAR_RE = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_GONE = "\x00"


def fill(text: str, variables: Mapping[str, str | None], *, fallbacks: Mapping[str, str] | None = None) -> str:
    """Fill ``{name}`` placeholders of a phrase.

    - A name with a non-empty value in ``variables`` is replaced by the value, as plain text (the
      panel escapes on display; values are not expanded again).
    - A known name (:data:`KNOWN_VARIABLES`, or any name present in ``variables``) whose value
      is missing or empty takes ``fallbacks[name]`` if given (e.g. "посетитель"); otherwise it is
      removed together with the comma or space before it, so "Здравствуйте, {visitor_name}!"
      becomes "Здравствуйте!".
    - Unknown names ("{order_id}") are left as they are, for the operator to edit.
    """
    fallbacks = fallbacks or {}

    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        value = variables.get(name)
        if value is not None and str(value).strip():
            return str(value).replace(_GONE, "")
        if name in variables or name in KNOWN_VARIABLES:
            fb = fallbacks.get(name)
            return fb if fb else _GONE
        return m.group(0)

    out = _VAR_RE.sub(repl, text)
    if _GONE not in out:
        return out
    # "{visitor_name}, добрый день!" -> "Добрый день!"
    out = re.sub(r"(^|\n)[ \t]*\x00[ \t]*,?[ \t]*(\w?)", lambda m: m.group(1) + m.group(2).upper(), out)
    # "Здравствуйте, {visitor_name}!" -> "Здравствуйте!"
    out = re.sub(r"[ \t]*,?[ \t]*\x00(?=[\s!?.,;:)]|$)", "", out)
    out = out.replace(_GONE, "")
    return re.sub(r"[ \t]{2,}", " ", out)


# ---------------------------------------------------------------------------------------------
# CSV

CSV_COLUMNS = ("id", "key", "title", "text", "group")


class PhraseCSVError(ValueError):
    """A CSV file that cannot be imported. ``errors`` lists ``(row, message)``; row 1 is the
    header line, row numbers count CSV records (a quoted text may span several lines)."""

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"row {n}: {msg}" if n else msg for n, msg in errors))


_KEY_RE = re.compile(rf"^/?[\w-]{{1,{MAX_KEY}}}$")


def phrases_to_csv(phrases: Iterable[Phrase], *, bom: bool = False) -> str:
    """CSV text (UTF-8 when encoded; ``bom=True`` prepends a BOM for Excel) with a header
    ``id,key,title,text,group``; fields with commas, quotes or newlines are quoted (RFC 4180)."""
    buf = io.StringIO()
    if bom:
        buf.write("\ufeff")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for p in phrases:
        w.writerow(["" if p.id is None else p.id, p.key, p.title, p.text, p.group])
    return buf.getvalue()


def phrases_from_csv(data: str | bytes) -> list[Phrase]:
    """Parse CSV made by :func:`phrases_to_csv` or a spreadsheet. The header names the columns
    (any order, case-insensitive; ``text`` is required, the others optional); ``,`` or ``;``
    separated. Raises :class:`PhraseCSVError` listing every bad row."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PhraseCSVError([(0, f"the file is not UTF-8 text (byte {exc.start})")]) from None
    data = data.lstrip("\ufeff")
    if not data.strip():
        raise PhraseCSVError([(0, "the file is empty")])
    first = data.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(data, newline=""), delimiter=delimiter, strict=True)
    errors: list[tuple[int, str]] = []
    try:
        header = [h.strip().lower() for h in next(reader)]
    except csv.Error as exc:
        raise PhraseCSVError([(1, f"unreadable header: {exc}")]) from None
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        names = ", ".join(repr(h) for h in unknown)
        errors.append((1, f"unknown column(s) {names}; expected {', '.join(CSV_COLUMNS)}"))
    if "text" not in header:
        errors.append((1, "the header has no 'text' column"))
    if len(set(header)) != len(header):
        errors.append((1, "a column is repeated in the header"))
    if errors:
        raise PhraseCSVError(errors)

    out: list[Phrase] = []
    seen_keys: dict[str, int] = {}
    row_no = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append((row_no + 1, f"malformed CSV: {exc}"))
            break
        row_no += 1
        if not any(cell.strip() for cell in row):
            continue  # blank line
        if len(row) != len(header):
            errors.append((row_no, f"expected {len(header)} fields, got {len(row)}"))
            continue
        rec = dict(zip(header, row))
        text = rec.get("text", "")
        title = rec.get("title", "").strip()
        key = rec.get("key", "").strip()
        group = rec.get("group", "").strip()
        raw_id = rec.get("id", "").strip()
        problems = []
        if not text.strip():
            problems.append("the text is empty")
        if len(text) > MAX_TEXT:
            problems.append(f"the text is longer than {MAX_TEXT} characters")
        if len(title) > MAX_TITLE:
            problems.append(f"the title is longer than {MAX_TITLE} characters")
        if key:
            if not _KEY_RE.match(key):
                problems.append(f"the key {key!r} must be one word of letters, digits, '-' or '_' (at most {MAX_KEY})")
            else:
                key = "/" + key.lstrip("/")
                norm = normalize_key(key)
                if norm in seen_keys:
                    problems.append(f"the key {key!r} is already used in row {seen_keys[norm]}")
                else:
                    seen_keys[norm] = row_no
        if problems:
            errors.extend((row_no, p) for p in problems)
            continue
        pid: int | str | None = None
        if raw_id:
            pid = int(raw_id) if raw_id.isdigit() else raw_id
        out.append(Phrase(id=pid, key=key, title=title, text=text, group=group))
    if errors:
        raise PhraseCSVError(errors)
    return out
