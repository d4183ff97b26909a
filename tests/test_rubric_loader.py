import copy
import json

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from rubric.loader import BUILTIN_RUBRIC, RubricFileError, parse_rubric
from rubric.models import Item, Rubric, ScoreBand, Section

EXAMPLE = BUILTIN_RUBRIC.parent / "examples" / "production-readiness-review.yaml"
BUILTIN = yaml.safe_load(BUILTIN_RUBRIC.read_text())

PAPER_TITLES = {
    "data-1": "Feature expectations are captured in a schema",
    "model-2": "Offline and online metrics correlate",
    "infra-7": "Serving models can be rolled back",
    "monitoring-7": "Prediction quality has not regressed",
}


def table_counts():
    return (Rubric.objects.count(), Section.objects.count(), Item.objects.count(), ScoreBand.objects.count())


def test_migrate_loads_the_2017_ml_test_score(rubric):
    codes = list(rubric.items.order_by("section__order", "order").values_list("code", flat=True))
    expected = [f"{key}-{n}" for key in ("data", "model", "infra", "monitoring") for n in range(1, 8)]
    assert codes == expected
    assert list(rubric.sections.values_list("key", flat=True)) == ["data", "model", "infra", "monitoring"]
    titles = dict(rubric.items.values_list("code", "title"))
    for code, title in PAPER_TITLES.items():
        assert titles[code] == title
    assert rubric.points == {"not_done": 0.0, "manual": 0.5, "automated": 1.0}
    assert rubric.bands.count() == 6


def test_every_item_has_guidance_and_a_spanish_translation(rubric):
    for item in rubric.items.all():
        assert item.guidance
        assert item.translations["es"]["title"] and item.translations["es"]["guidance"]
        assert item.localized("title", "es") != item.title


def test_loading_the_builtin_rubric_twice_changes_nothing(rubric, capsys):
    before = table_counts()
    call_command("load_rubric", str(BUILTIN_RUBRIC))
    assert "unchanged" in capsys.readouterr().out
    assert table_counts() == before


def test_a_custom_rubric_is_a_data_file(db, capsys):
    call_command("load_rubric", str(EXAMPLE))
    custom = Rubric.objects.get(slug="production-readiness-review")
    assert custom.sections.count() == 2
    assert custom.items.count() == 6
    assert custom.points["automated"] == 2.0
    assert "created" in capsys.readouterr().out


def broken(mutate):
    data = copy.deepcopy(BUILTIN)
    mutate(data)
    return data


BROKEN_FILES = {
    "missing key": (broken(lambda d: d.pop("title")), "missing the key 'title'"),
    "duplicate code": (
        broken(lambda d: d["sections"][1]["items"][0].update(code="data-1")),
        "item code 'data-1' is used twice",
    ),
    "unknown status": (broken(lambda d: d["points"].update(perfect=2)), "unknown status 'perfect'"),
    "overlapping bands": (broken(lambda d: d["bands"][2].update(lower=0.5)), "overlaps"),
    "gap between bands": (broken(lambda d: d["bands"][2].update(lower=1.5)), "leaves a gap"),
    "bounded last band": (broken(lambda d: d["bands"][-1].update(upper=7)), "last band must have no upper"),
    "empty section": (broken(lambda d: d["sections"][0].update(items=[])), "non-empty list of items"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_FILES))
def test_a_broken_file_is_refused_with_a_sentence_and_changes_nothing(case, rubric, tmp_path):
    data, message = BROKEN_FILES[case]
    data["version"] = "broken"
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data))
    before = table_counts()
    with pytest.raises(CommandError, match=message):
        call_command("load_rubric", str(path))
    assert table_counts() == before


def test_invalid_yaml_is_refused(db, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("slug: [unclosed")
    with pytest.raises(CommandError, match="not valid YAML"):
        call_command("load_rubric", str(path))


def test_a_json_rubric_loads_too(db, tmp_path):
    data = yaml.safe_load(EXAMPLE.read_text())
    path = tmp_path / "custom.json"
    path.write_text(json.dumps(data))
    call_command("load_rubric", str(path))
    assert Rubric.objects.filter(slug="production-readiness-review").exists()


def test_a_version_in_use_is_never_edited_in_place(rubric, project, manager, tmp_path):
    from audits.services import audit_start

    audit_start(actor=manager, project=project, rubric=rubric)
    changed = copy.deepcopy(BUILTIN)
    changed["title"] = "Something else"
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(changed))
    with pytest.raises(CommandError, match="never edited in place"):
        call_command("load_rubric", str(path))
    rubric.refresh_from_db()
    assert rubric.title == "The ML Test Score"


def test_an_unused_version_may_be_replaced(db, tmp_path):
    data = yaml.safe_load(EXAMPLE.read_text())
    path = tmp_path / "custom.yaml"
    path.write_text(yaml.safe_dump(data))
    call_command("load_rubric", str(path))
    data["title"] = "Renamed"
    path.write_text(yaml.safe_dump(data))
    call_command("load_rubric", str(path))
    assert Rubric.objects.get(slug="production-readiness-review").title == "Renamed"


def test_parse_names_every_problem_at_once():
    data = broken(lambda d: (d.pop("title"), d["points"].update(perfect=2)))
    with pytest.raises(RubricFileError) as excinfo:
        parse_rubric(data)
    assert "title" in str(excinfo.value) and "perfect" in str(excinfo.value)
