"""Templates as configured (WHATSAPP_TEMPLATES): how their parameters are named, how much
room their body leaves the values, and values checked before a template is queued."""

from __future__ import annotations

import pytest

from wagate.domain.template_text import TEMPLATE_BODY_LIMIT
from wagate.domain.window import (
    DEFAULT_FIXED_TEXT,
    ParameterFormat,
    Template,
    TemplateError,
    TemplateSet,
)


def test_names_tell_the_parameter_format_unless_it_is_declared() -> None:
    named, positional, declared, bare = TemplateSet.parse(
        [
            {"name": "pengingat", "parameters": ["nama", "tanggal"]},
            {"name": "lama", "parameters": ["1", "2"]},
            {"name": "label", "parameters": ["isi"], "parameter_format": "POSITIONAL"},
            {"name": "sapa"},
        ]
    ).templates
    assert named.parameter_names == ("nama", "tanggal")
    assert positional.parameter_names is None
    assert declared.parameter_format is ParameterFormat.POSITIONAL
    assert declared.parameter_names is None
    assert bare.parameter_names is None  # nothing to name


@pytest.mark.parametrize(
    ("item", "complaint"),
    [
        ({"name": "t", "parameters": ["a", "a"]}, "must differ"),
        ({"name": "t", "parameters": ["a"], "parameter_format": "keyword"}, "parameter_format"),
        ({"name": "t", "parameters": ["a"], "body": 5}, "body"),
        ({"name": "t", "parameters": ["a"], "body": "x" * TEMPLATE_BODY_LIMIT}, "no room"),
    ],
)
def test_a_wrongly_configured_template_is_refused_with_its_reason(
    item: dict[str, object], complaint: str
) -> None:
    with pytest.raises(TemplateError, match=complaint):
        TemplateSet.parse([item])


def test_the_body_text_sizes_the_room_for_values_and_a_default_is_kept_without_it() -> None:
    [sized] = TemplateSet.parse(
        [{"name": "t", "parameters": ["pesan"], "body": "Dari kantor kami: {{pesan}} Salam."}]
    ).templates
    assert sized.room == TEMPLATE_BODY_LIMIT - len("Dari kantor kami:  Salam.")
    assert Template(name="t", language="id").room == TEMPLATE_BODY_LIMIT - DEFAULT_FIXED_TEXT


def test_values_are_put_on_one_line_and_refused_when_longer_than_the_room() -> None:
    template = Template(name="jadwal", language="id", parameters=("nama", "tanggal"))
    assert template.values({"nama": "Ibu\n\nSiti", "tanggal": "12\tDesember"}) == [
        "Ibu · Siti",
        "12 · Desember",
    ]
    with pytest.raises(TemplateError, match="room"):
        template.values(["a" * template.room, "b"])
    with pytest.raises(TemplateError, match="missing"):
        template.values({"nama": "x"})
    with pytest.raises(TemplateError, match="takes 2"):
        template.values(["x"])
