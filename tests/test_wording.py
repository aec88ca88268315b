"""Every template and every page a source produces, scanned for doubled words and a/an slips."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from app.sources import SOURCES
from app.wording import article, plural, sentence

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
DOUBLED = re.compile(r"\b(\w+)\s+\1\b", re.I)
# "a" before a vowel letter, except words that start with a consonant sound (a user, a URL, a one-time key).
A_BEFORE_VOWEL = re.compile(r"\ba\s+(?!u[nrst]?[aeiouk]|us[aeiou]|uri|url|one\b|one-)([aeiou]\w*)", re.I)
AN_BEFORE_CONSONANT = re.compile(r"\b[Aa]n\s+(?!h(?:our|onest)|[FHLMNRSX][A-Z0-9])((?i:[b-df-hj-np-tv-z])\w*)")
OPTIONAL_TWICE = re.compile(r"optional:\s*optional", re.I)


def slips(text: str) -> list[str]:
    found = [m.group(0) for m in DOUBLED.finditer(text) if not m.group(1).isdigit()]
    found += [m.group(0) for m in A_BEFORE_VOWEL.finditer(text)]
    found += [m.group(0) for m in AN_BEFORE_CONSONANT.finditer(text)]
    found += [m.group(0) for m in OPTIONAL_TWICE.finditer(text)]
    found += re.findall(r"\w\.\.(?!\.)", text)
    return found


def visible_text(page: str) -> str:
    """The words a person reads, each run of text apart (¦): tags, scripts and Jinja's own syntax removed."""
    page = re.sub(r"{#.*?#}|{%.*?%}|{{.*?}}", "¦", page, flags=re.S)
    page = re.sub(r"<(script|style)\b.*?</\1>", "¦", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "¦", page))


def test_the_scanner_catches_what_it_is_for():
    assert slips("create a Amazon Redshift connection") == ["a Amazon"]
    assert slips("an PostgreSQL, the the form, Optional: optional: x, does not exist..") == [
        "the the",
        "an PostgreSQL",
        "Optional: optional",
        "t..",
    ]
    assert slips("a user, a URL, an HP Vertica, an hour, a one-time key, 1 1") == []


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_no_template_has_a_doubled_word_or_a_wrong_article(path):
    assert slips(visible_text(path.read_text())) == []


def test_no_page_a_source_makes_has_a_slip(client, fresh_emulator):
    pages = ["/", "/connections?sandbox=prod", "/audit"] + [f"/sources/{key}" for key in SOURCES]
    for spec_id, spec in fresh_emulator.specs.items():
        pages.append(f"/sources/spec/{spec_id}")
        pages += [f"/sources/spec/{spec_id}?auth={a['name']}" for a in spec.get("authSpec") or []]
    for url in pages:
        response = client.get(url, follow_redirects=True)
        assert response.status_code in (200, 404), url
        assert slips(visible_text(response.get_data(as_text=True))) == [], url


def test_the_rules_pages_and_messages_share():
    assert [article(n) for n in ("Amazon Redshift", "Apache Phoenix", "PostgreSQL", "HP Vertica", "MySQL")] == [
        "an",
        "an",
        "a",
        "an",
        "a",
    ]
    assert plural(1, "second") == "1 second" and plural(4, "second") == "4 seconds"
    assert sentence("does not exist.") == "does not exist." and sentence("Is it?") == "Is it?"
