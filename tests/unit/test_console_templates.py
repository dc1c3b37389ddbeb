"""The console's templates hold nothing a Content-Security-Policy without 'unsafe-inline'
would have to refuse (issue 15, item 4), keep the CSRF token out of URLs, and mark every
element that refreshes itself as a poll (polling does not count as use of a session)."""

from __future__ import annotations

import re
from importlib import resources

import pytest

TEMPLATES = resources.files("wagate.web.console") / "templates"
NAMES = sorted(t.name for t in TEMPLATES.iterdir() if t.name.endswith(".html"))
TAG = re.compile(r"<(\w+)\b([^>]*)>", re.DOTALL)
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.DOTALL)
JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)


def source(name: str) -> str:
    """The template as the browser could get it: without Jinja's comments."""
    return JINJA_COMMENT.sub("", (TEMPLATES / name).read_text(encoding="utf-8"))


def test_there_are_templates_to_check() -> None:
    assert "base.html" in NAMES and len(NAMES) > 10


@pytest.mark.parametrize("name", NAMES)
def test_no_inline_script_style_or_event_handler(name: str) -> None:
    for tag, attributes in TAG.findall(source(name)):
        assert tag.lower() != "style", name
        if tag.lower() == "script":
            assert "src=" in attributes, f"{name}: inline <script>"
        assert not re.search(r"\sstyle\s*=", attributes), f"{name}: style= on <{tag}>"
        assert not re.search(r"\son[a-z]+\s*=", attributes), f"{name}: on…= on <{tag}>"
        assert not re.search(r"\shx-on", attributes), f"{name}: hx-on needs eval"
        assert "javascript:" not in attributes.lower(), name


@pytest.mark.parametrize("name", NAMES)
def test_the_csrf_token_is_only_in_posted_forms(name: str) -> None:
    for attributes, body in FORM.findall(source(name)):
        if 'name="csrf"' in body:
            assert 'method="post"' in attributes, f"{name}: a GET form would put it in a URL"


@pytest.mark.parametrize("name", NAMES)
def test_every_self_refreshing_element_says_it_polls(name: str) -> None:
    for _, attributes in TAG.findall(source(name)):
        if 'hx-trigger="every' in attributes:
            assert """hx-headers='{"X-Console-Poll": "1"}'""" in attributes, name


def test_htmx_may_not_evaluate_or_inject_anything() -> None:
    config = re.search(r'<meta name="htmx-config" content=\'([^\']*)\'', source("base.html"))
    assert config is not None
    for setting in (
        '"allowEval":false',
        '"allowScriptTags":false',
        '"includeIndicatorStyles":false',
    ):
        assert setting in config.group(1)
