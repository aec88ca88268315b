"""Small rules of English that pages and messages share: plurals, "a" or "an", one full stop."""

from __future__ import annotations

import re

# Capitals read letter by letter whose names start with a vowel sound: an HP, an SQL, an MS.
_VOWEL_SOUND_LETTERS = set("AEFHILMNORSX")


def plural(count: int, word: str, many: str | None = None) -> str:
    """ "1 second", "2 seconds"; `many` when the plural is not `word` + s."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def article(noun: str) -> str:
    """ "a" or "an" before `noun`, by how it sounds: an Amazon Redshift, a PostgreSQL, an HP Vertica."""
    first = noun.strip().split(" ", 1)[0]
    if not first:
        return "a"
    if re.fullmatch(r"[A-Z0-9]{2,}", first):  # an acronym, read letter by letter
        return "an" if first[0] in _VOWEL_SOUND_LETTERS else "a"
    return "an" if first[0].lower() in "aeio" else "a"


def with_article(noun: str) -> str:
    return f"{article(noun)} {noun}"


def sentence(text: str) -> str:
    """`text` ending in exactly one full stop (or its own ? or !)."""
    text = text.rstrip()
    if text.endswith(("?", "!", "…")):
        return text
    return text.rstrip(".") + "."
