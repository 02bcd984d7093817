"""Language engines for the operator's composer: spell checking and quick-phrase matching.

Both are pure Python modules with no I/O beyond reading data shipped in pip packages:

- :mod:`frontdesk.language.spelling` — Russian + English spell checker
  (:class:`~frontdesk.language.spelling.SpellChecker`).
- :mod:`frontdesk.language.phrases` — quick phrases: ranked search
  (:class:`~frontdesk.language.phrases.PhraseIndex`), variable filling (``fill``) and CSV
  import/export.

See docs/language.md.
"""
