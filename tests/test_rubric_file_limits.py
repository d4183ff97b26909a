"""Rubric files that are too big, too clever or of the wrong types are refused with a sentence, and change
nothing (issue 12, defect 10)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from rubric.loader import BUILTIN_RUBRIC, MAX_FILE_BYTES, read_rubric_file
from rubric.models import Rubric
from tests.test_rubric_loader import table_counts

BUILTIN = yaml.safe_load(BUILTIN_RUBRIC.read_text())

# The probe's bomb: nine levels of nine aliases, 661 bytes that expand to 9**9 copies of one string.
ALIAS_BOMB = (
    "\n".join(
        ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
        + [f"{b}: &{b} [{','.join(['*' + a] * 9)}]" for a, b in zip("abcdefgh", "bcdefghi", strict=True)]
    )
    + "\nslug: bomb\nversion: '1'\ntitle: Bomb\nsource: *i\n"
)


def builtin_with(**changes) -> dict:
    data = copy.deepcopy(BUILTIN)
    data["version"] = "limits"
    data.update(changes)
    return data


def refused(tmp_path, text: str, suffix: str = ".yaml") -> str:
    path = tmp_path / f"rubric{suffix}"
    path.write_text(text)
    before = table_counts()
    with pytest.raises(CommandError) as error:
        call_command("load_rubric", str(path))
    assert table_counts() == before
    return str(error.value)


def test_a_yaml_alias_bomb_is_refused_quickly(db, tmp_path):
    assert len(ALIAS_BOMB) < 1000
    assert "aliases (*name) are not allowed" in refused(tmp_path, ALIAS_BOMB)


def test_a_yaml_merge_key_is_an_alias_too(db, tmp_path):
    text = yaml.safe_dump(builtin_with()) + "extra: &x {a: 1}\nmore:\n  <<: *x\n"
    assert "aliases" in refused(tmp_path, text)


def test_a_file_over_the_size_limit_is_refused_before_parsing(db, tmp_path):
    text = yaml.safe_dump(builtin_with()) + "#" * MAX_FILE_BYTES
    assert f"larger than {MAX_FILE_BYTES:,} bytes" in refused(tmp_path, text)


def test_deeply_nested_json_is_refused(db, tmp_path):
    assert "nests too deeply" in refused(tmp_path, "[" * 100_000 + "]" * 100_000, suffix=".json")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": ["a", "list"]}, "the rubric: title must be a text"),
        ({"title": "t" * 201}, "title must be at most 200 characters"),
        ({"source": {"url": "x"}}, "the rubric: source must be a text"),
        ({"source": "s" * 80_000}, "source must be at most 2,000 characters (it has 80,000)"),
        ({"description": 12}, "description must be a text"),
        ({"description": "nul \x00 inside"}, "description must not contain the NUL character"),
        ({"version": {"major": 1}}, "version must be a text or a number"),
        ({"version": "v" * 51}, "version must be at most 50 characters"),
        ({"translations": {"es": {"title": "t" * 10_001}}}, "the es translation of title must be at most"),
    ],
    ids=lambda value: str(value)[:30] if isinstance(value, str) else None,
)
def test_rubric_texts_of_the_wrong_type_or_length_are_refused(db, tmp_path, changes, message):
    assert message in refused(tmp_path, json.dumps(builtin_with(**changes)), suffix=".json")


def test_section_item_and_band_texts_are_checked_too(db, tmp_path):
    data = builtin_with()
    data["sections"][0]["title"] = 7
    data["sections"][0]["items"][0]["guidance"] = "g" * 10_001
    data["bands"][0]["label"] = "l" * 101
    message = refused(tmp_path, yaml.safe_dump(data))
    assert "section data: title must be a text" in message
    assert "item data-1: guidance must be at most 10,000 characters" in message
    assert "label must be at most 100 characters" in message


def test_the_builtin_rubric_and_its_example_still_load(db, tmp_path):
    assert read_rubric_file(BUILTIN_RUBRIC).slug == "ml-test-score"
    assert read_rubric_file(BUILTIN_RUBRIC.parent / "examples" / "production-readiness-review.yaml")


def test_load_rubric_exits_non_zero_with_the_sentence(db, tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB)
    result = subprocess.run(
        [sys.executable, "manage.py", "load_rubric", str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "aliases (*name) are not allowed in rubric files" in result.stderr
    assert not Rubric.objects.filter(slug="bomb").exists()
