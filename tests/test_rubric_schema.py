"""The rules of the rubric file format (rubric/schema.py) that the loader tests do not already name, each
refused with a sentence that says where: the rubric, the section key, the item code or the band, and the key."""

from __future__ import annotations

import copy

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from rubric.loader import RubricFileError, parse_rubric
from rubric.models import Item, Rubric, ScoreBand, Section
from tests.test_rubric_loader import BUILTIN

PREFIX = "The rubric file was refused: "


def refusal(mutate) -> str:
    data = copy.deepcopy(BUILTIN)
    mutate(data)
    with pytest.raises(RubricFileError) as error:
        parse_rubric(data)
    message = str(error.value)
    assert message.startswith(PREFIX)
    return message.removeprefix(PREFIX)


def item(data, section: int = 0, position: int = 0) -> dict:
    return data["sections"][section]["items"][position]


REFUSALS = {
    "unknown top key": (lambda d: d.update(colour="red"), "the rubric has an unknown key 'colour'."),
    "unknown item key": (lambda d: item(d).update(weight=2), "item data-1 has an unknown key 'weight'."),
    "unknown band key": (
        lambda d: d["bands"][1].update(colour="red"),
        "band 2 (Serious gaps) has an unknown key 'colour'.",
    ),
    "not a mapping": (lambda d: d["sections"].append("x"), "section 5 must be a mapping."),
    "item not a mapping": (lambda d: d["sections"][1]["items"].append(3), "item 8 of section model must be a mapping."),
    "missing item code": (lambda d: item(d, 1, 2).pop("code"), "item 3 of section model is missing the key 'code'."),
    "missing band label": (lambda d: d["bands"][1].pop("label"), "band 2 (no label) is missing the key 'label'."),
    "sections not a list": (lambda d: d.update(sections={}), "the rubric must have a non-empty list of sections."),
    "no bands": (lambda d: d.update(bands=[]), "the rubric must have a non-empty list of bands."),
    "slug": (
        lambda d: d.update(slug="ML Test"),
        "the rubric: slug 'ML Test' must be lowercase letters, digits and hyphens.",
    ),
    "empty slug": (lambda d: d.update(slug=""), "the rubric: slug '' must be lowercase letters, digits and hyphens."),
    "section key": (
        lambda d: d["sections"][2].update(key="Infra"),
        "section Infra: key 'Infra' must be lowercase letters, digits and hyphens.",
    ),
    "item code": (
        lambda d: item(d).update(code="data 1"),
        "item data 1: code 'data 1' must be lowercase letters, digits and hyphens.",
    ),
    "item code not a text": (lambda d: item(d).update(code=None), "item 1 of section data: code must be a text."),
    "duplicate section key": (
        lambda d: d["sections"][3].update(key="data"),
        "the section key 'data' is used twice (sections 1 and 4).",
    ),
    "duplicate item code": (
        lambda d: item(d, 2, 1).update(code="model-3"),
        "the item code 'model-3' is used twice: in section model and again in section infra.",
    ),
    "empty version": (lambda d: d.update(version="  "), "the rubric: version must not be empty."),
    "version true": (lambda d: d.update(version=True), "the rubric: version must be a text or a number."),
    "translations shape": (
        lambda d: d["sections"][1].update(translations={"es": "Modelo"}),
        "translations of section model must map a language code to texts.",
    ),
    "translation not a text": (
        lambda d: d["bands"][0].update(translations={"es": {"label": 3}}),
        "translations of band 1 (Research project) must map a language code to texts.",
    ),
    "translation with NUL": (
        lambda d: item(d, 3, 0).update(translations={"es": {"title": "a\x00b"}}),
        "item monitoring-1: the es translation of title must not contain the NUL character.",
    ),
    "points not a mapping": (lambda d: d.update(points=[0, 0.5, 1]), "the rubric: points must be a mapping."),
    "missing status": (lambda d: d["points"].pop("manual"), "the rubric: points is missing the status 'manual'."),
    "negative points": (
        lambda d: d["points"].update(not_done=-1),
        "the rubric: points for 'not_done' must be 0 or more.",
    ),
    "points not a number": (
        lambda d: d["points"].update(manual="half"),
        "the rubric: points for 'manual' must be a number.",
    ),
    "infinite points": (
        lambda d: d["points"].update(automated=float("inf")),
        "the rubric: points for 'automated' must be a number.",
    ),
    "decreasing points": (
        lambda d: d["points"].update(manual=2),
        "the rubric: points must not decrease from not_done to manual to automated.",
    ),
    "exemption points digits": (
        lambda d: d.update(exemption_points=1_234_567),
        "the rubric: exemption_points must have at most 6 digits before the decimal point.",
    ),
    "bounded first band": (
        lambda d: d["bands"][0].update(lower=-1),
        "band 1 (Research project): the first band must have no lower bound, or low scores fall in a gap.",
    ),
    "open band in the middle": (
        lambda d: d["bands"][2].pop("upper"),
        "band 3 (First steps): only the last band may be open-ended above.",
    ),
    "open band below in the middle": (
        lambda d: (d["bands"][2].pop("lower"), d["bands"][1].update(upper=None)),
        "band 3 (First steps): only the first band may be open-ended below.",
    ),
    "band bounds reversed": (
        lambda d: d["bands"][2].update(lower=2, upper=1),
        "band 3 (First steps): lower bound 2 must be below upper bound 1.",
    ),
    "band bound not a number": (
        lambda d: d["bands"][2].update(upper="two"),
        "band 3 (First steps): upper must be a number.",
    ),
    "allows_not_applicable as a number": (
        lambda d: item(d).update(allows_not_applicable=0),
        "item data-1: allows_not_applicable must be true or false.",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_each_rule_is_refused_with_a_located_sentence(case):
    mutate, sentence = REFUSALS[case]
    assert sentence in refusal(mutate)


def test_the_file_must_be_a_mapping():
    with pytest.raises(RubricFileError, match=r"^The rubric file was refused: the rubric must be a mapping\.$"):
        parse_rubric(["slug", "version"])


def test_problems_in_several_parts_are_named_at_once_in_file_order():
    def mutate(data):
        data.pop("version")
        item(data, 1, 0)["title"] = ["not", "text"]
        data["bands"][1]["meaning"] = 5
        data["sections"][0]["key"] = "Data"

    assert refusal(mutate) == (
        "the rubric is missing the key 'version'. "
        "band 2 (Serious gaps): meaning must be a text. "
        "section Data: key 'Data' must be lowercase letters, digits and hyphens. "
        "item model-1: title must be a text."
    )


def test_no_message_falls_back_to_pydantics_wording():
    """Every error type the rules produce has a sentence of its own (rubric.schema._PHRASES)."""
    for case, (mutate, _sentence) in REFUSALS.items():
        message = refusal(mutate)
        assert "is refused:" not in message and "Input should" not in message, case


def test_allows_not_applicable_defaults_to_true_and_the_validated_file_is_what_is_stored():
    data = copy.deepcopy(BUILTIN)
    item(data)["allows_not_applicable"] = False
    content = parse_rubric(data).content
    assert content.sections[0].items[0].allows_not_applicable is False
    assert all(entry.allows_not_applicable for section in content.sections[1:] for entry in section.items)
    assert [band.upper for band in content.bands][:2] == [0, 1]


# Rules that keep a file the database would refuse from failing inside the save (on PostgreSQL a DataError,
# a traceback from load_rubric): slugs, keys and codes within their columns, band bounds within their
# column's precision, no NUL in the version.


def column(model, name):
    return model._meta.get_field(name)


def test_slug_key_and_code_fit_their_columns():
    slug_limit, key_limit, code_limit = (
        column(m, n).max_length for m, n in [(Rubric, "slug"), (Section, "key"), (Item, "code")]
    )
    long_code = "c" * (code_limit + 1)

    def mutate(data):
        data["slug"] = "s" * (slug_limit + 1)
        data["sections"][1]["key"] = "k" * (key_limit + 1)
        item(data, 2, 0)["code"] = long_code

    message = refusal(mutate)
    assert f"the rubric: slug must be at most {slug_limit} characters (it has {slug_limit + 1})." in message
    assert f"section {'k' * (key_limit + 1)}: key must be at most {key_limit} characters" in message
    assert f"item {long_code}: code must be at most {code_limit} characters (it has {code_limit + 1})." in message


def test_band_bounds_fit_their_column():
    bound = column(ScoreBand, "lower")
    whole_digits = bound.max_digits - bound.decimal_places

    def mutate(data):
        data["bands"][2]["lower"] = 1.005
        data["bands"][4]["upper"] = 10**whole_digits

    message = refusal(mutate)
    assert f"band 3 (First steps): lower must have at most {bound.decimal_places} decimals." in message
    assert f"band 5 ({BUILTIN['bands'][4]['label']}): upper must have at most {whole_digits} digits before" in message


def test_the_version_must_not_contain_nul():
    assert "the rubric: version must not contain the NUL character." in refusal(lambda d: d.update(version="1\x00"))


def test_load_rubric_refuses_a_code_too_long_for_its_column_with_the_sentence(db, tmp_path):
    data = copy.deepcopy(BUILTIN)
    data["version"] = "long-code"
    item(data)["code"] = "c" * (column(Item, "code").max_length + 1)
    path = tmp_path / "long-code.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(CommandError, match="code must be at most"):
        call_command("load_rubric", str(path))
    assert not Rubric.objects.filter(version="long-code").exists()
