"""The Spanish catalogue is complete and its placeholders match the English texts."""

from __future__ import annotations

import re
from pathlib import Path

PO = Path(__file__).resolve().parents[2] / "locale" / "es" / "LC_MESSAGES" / "django.po"
FIELD = re.compile(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d\])?) "(.*)"$')
PLACEHOLDER = re.compile(r"%\(\w+\)[sdgf]|\{\w+\}")


def catalogue_entries() -> list[tuple[dict[str, str], bool]]:
    entries = []
    for block in PO.read_text(encoding="utf-8").split("\n\n")[1:]:
        fields: dict[str, str] = {}
        current = None
        fuzzy = False
        for line in block.splitlines():
            if line.startswith("#,") and "fuzzy" in line:
                fuzzy = True
            match = FIELD.match(line)
            if match:
                current = match.group(1)
                fields[current] = match.group(2)
            elif line.startswith('"') and current:
                fields[current] += line[1:-1]
        if fields.get("msgid"):
            entries.append((fields, fuzzy))
    return entries


def test_every_spanish_entry_is_translated_and_none_is_fuzzy():
    entries = catalogue_entries()
    assert len(entries) > 300
    untranslated = [f["msgid"] for f, _ in entries if not all(v for k, v in f.items() if k.startswith("msgstr"))]
    fuzzy = [f["msgid"] for f, is_fuzzy in entries if is_fuzzy]
    assert untranslated == []
    assert fuzzy == []


def test_spanish_translations_keep_every_placeholder():
    for fields, _ in catalogue_entries():
        expected = sorted(set(PLACEHOLDER.findall(fields["msgid"])))
        for key, text in fields.items():
            if key.startswith("msgstr"):
                assert sorted(set(PLACEHOLDER.findall(text))) == expected, fields["msgid"]


def test_change_is_a_noun_in_spanish_tables_and_a_verb_on_the_language_button():
    from django.utils import translation

    with translation.override("es"):
        assert translation.gettext("Change") == "Cambio"  # the portfolio's and compare page's column
        assert translation.pgettext("verb: apply the chosen language", "Change") == "Cambiar"


def test_a_carried_over_answer_reads_naturally_in_spanish(submitted, manager, signed_in):
    from audits import services

    audit = services.audit_start(actor=manager, project=submitted.project, copy_from_latest=True)
    client = signed_in(manager)
    client.cookies["django_language"] = "es"
    content = client.get(f"/audits/{audit.pk}/", headers={"accept-language": "es"}).content.decode()
    assert "Traída de la auditoría anterior: confírmala" in content
    assert "Arrastrada" not in content
