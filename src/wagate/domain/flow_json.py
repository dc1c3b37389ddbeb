"""A structural check of Flow JSON (FL1): what a Flow must be for Meta to publish it and for
its completion to reach us, checked before anyone uploads it. Pure.

Meta validates a Flow when it is uploaded; this check catches the mistakes that would make an
upload fail or, worse, a published Flow useless to the gateway: a screen that navigates
nowhere, a terminal screen without a `complete` action (its answers would never arrive), a
payload that names a field the screen does not have, a label over Meta's limit, a media picker
sent through `navigate` (Meta allows pickers only in a completion's or data exchange's payload).
The limits are those of Meta's Flow JSON component reference; it is not a full schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

# Form components and the longest label Meta accepts for each.
LABEL_LIMITS = {
    "TextInput": 20,
    "TextArea": 20,
    "Dropdown": 20,
    "RadioButtonsGroup": 30,
    "CheckboxGroup": 30,
    "DatePicker": 40,
    "OptIn": 120,
    "DocumentPicker": 30,
    "PhotoPicker": 30,
}
TEXT_LIMITS = {"TextHeading": 80, "TextSubheading": 80, "TextBody": 4096, "TextCaption": 409}
CHOICE_LIMITS = {"Dropdown": 200, "RadioButtonsGroup": 20, "CheckboxGroup": 20}
MEDIA_PICKERS = frozenset({"DocumentPicker", "PhotoPicker"})
INPUT_TYPES = frozenset({"text", "number", "email", "password", "passcode", "phone"})
OTHER_COMPONENTS = frozenset({"Footer", "Form", "Image", "EmbeddedLink", "If", "Switch"})
ACTIONS = frozenset({"navigate", "complete", "data_exchange", "update_data", "open_url"})
FOOTER_LABEL_LIMIT = 35
MIN_MEDIA_VERSION = (4, 0)  # DocumentPicker and PhotoPicker exist from Flow JSON 4.0
MAX_PICKED_DOCUMENTS = 30
RESERVED_SCREEN = "SUCCESS"  # Meta's own final screen

_VERSION = re.compile(r"([0-9]+)\.([0-9]+)")
_SCREEN_ID = re.compile(r"[A-Za-z][A-Za-z_]*")
_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
_REFERENCE = re.compile(r"\$\{(form|data)\.([A-Za-z0-9_]+)\}")


def flow_json_problems(document: Any) -> list[str]:
    """Every problem found, each naming where it is (empty: the Flow passes this check)."""
    if not isinstance(document, Mapping):
        return ["the Flow JSON is not an object"]
    problems: list[str] = []
    version = _version(document.get("version"))
    if version is None:
        problems.append('version: a text like "6.0" is required')
    screens = document.get("screens")
    if not isinstance(screens, list) or not screens:
        return [*problems, "screens: a non-empty list is required"]
    ids = [s.get("id") for s in screens if isinstance(s, Mapping)]
    for duplicate in sorted({i for i in ids if isinstance(i, str) and ids.count(i) > 1}):
        problems.append(f"screen {duplicate}: the id is used twice")
    known = {i for i in ids if isinstance(i, str)}
    for index, screen in enumerate(screens):
        if not isinstance(screen, Mapping):
            problems.append(f"screens[{index}]: not an object")
            continue
        problems.extend(_screen_problems(screen, known, version))
    if not any(isinstance(s, Mapping) and s.get("terminal") is True for s in screens):
        problems.append("no screen is terminal: the Flow could never be completed")
    return problems


def complete_payloads(document: Any) -> list[Mapping[str, Any]]:
    """The payload of every `complete` action: what a completion sends back to us."""
    found: list[Mapping[str, Any]] = []
    if not isinstance(document, Mapping) or not isinstance(document.get("screens"), list):
        return found
    for screen in document["screens"]:
        for component in _components(screen):
            action = component.get("on-click-action")
            if isinstance(action, Mapping) and action.get("name") == "complete":
                payload = action.get("payload")
                if isinstance(payload, Mapping):
                    found.append(payload)
    return found


def first_screen(document: Any) -> str | None:
    """The id of the screen a Flow opens on (the first one listed)."""
    if isinstance(document, Mapping) and isinstance(document.get("screens"), list):
        for screen in document["screens"]:
            if isinstance(screen, Mapping) and isinstance(screen.get("id"), str):
                return str(screen["id"])
    return None


def _version(value: Any) -> tuple[int, int] | None:
    if not isinstance(value, str):
        return None
    match = _VERSION.fullmatch(value)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _components(screen: Any) -> Iterator[Mapping[str, Any]]:
    """A screen's components, those inside a (legacy) Form included."""
    if not isinstance(screen, Mapping):
        return
    layout = screen.get("layout")
    children = layout.get("children") if isinstance(layout, Mapping) else None
    stack = list(children) if isinstance(children, list) else []
    while stack:
        component = stack.pop(0)
        if not isinstance(component, Mapping):
            continue
        yield component
        nested = component.get("children")
        if component.get("type") == "Form" and isinstance(nested, list):
            stack[:0] = nested


def _screen_problems(
    screen: Mapping[str, Any], known: set[str], version: tuple[int, int] | None
) -> list[str]:
    sid = screen.get("id")
    where = f"screen {sid}"
    problems: list[str] = []
    if not isinstance(sid, str) or not _SCREEN_ID.fullmatch(sid):
        problems.append(f"{where}: the id must be letters and underscores")
    elif sid == RESERVED_SCREEN:
        problems.append(f"{where}: SUCCESS is Meta's own screen id")
    if not isinstance(screen.get("title"), str) or not screen["title"].strip():
        problems.append(f"{where}: a title is required")
    layout = screen.get("layout")
    if not isinstance(layout, Mapping) or layout.get("type") != "SingleColumnLayout":
        problems.append(f"{where}: layout must be a SingleColumnLayout")
    elif not isinstance(layout.get("children"), list) or not layout["children"]:
        problems.append(f"{where}: the layout has no children")
    declared = screen.get("data", {})
    if not isinstance(declared, Mapping):
        problems.append(f"{where}: data must be an object")
        declared = {}
    components = list(_components(screen))
    names = [c.get("name") for c in components if "name" in c]
    for duplicate in sorted({n for n in names if isinstance(n, str) and names.count(n) > 1}):
        problems.append(f"{where}: the field {duplicate} is named twice")
    fields = {
        str(c["name"]): str(c.get("type")) for c in components if isinstance(c.get("name"), str)
    }
    footers = [c for c in components if c.get("type") == "Footer"]
    if len(footers) > 1:
        problems.append(f"{where}: more than one Footer")
    for component in components:
        problems.extend(_component_problems(component, where, version))
        problems.extend(_action_problems(component, where, known, fields, set(declared)))
    if screen.get("terminal") is True and not any(_completes(f) for f in footers):
        problems.append(f"{where}: a terminal screen needs a Footer whose action is complete")
    return problems


def _completes(footer: Mapping[str, Any]) -> bool:
    action = footer.get("on-click-action")
    return isinstance(action, Mapping) and action.get("name") == "complete"


def _component_problems(
    component: Mapping[str, Any], where: str, version: tuple[int, int] | None
) -> list[str]:
    kind = component.get("type")
    name = component.get("name")
    at = f"{where}, {kind} {name or ''}".rstrip()
    if not isinstance(kind, str) or not (
        kind in LABEL_LIMITS or kind in TEXT_LIMITS or kind in OTHER_COMPONENTS
    ):
        return [f"{at}: unknown component type"]
    problems = []
    if kind in TEXT_LIMITS:
        problems += _text_problem(component.get("text"), TEXT_LIMITS[kind], f"{at}: text")
    if kind == "Footer":
        problems += _text_problem(component.get("label"), FOOTER_LABEL_LIMIT, f"{at}: label")
        if not isinstance(component.get("on-click-action"), Mapping):
            problems.append(f"{at}: a Footer needs an on-click-action")
    if kind in LABEL_LIMITS:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            problems.append(f"{at}: a form field needs a name (letters, digits, _)")
        problems += _text_problem(component.get("label"), LABEL_LIMITS[kind], f"{at}: label")
    if kind == "TextInput" and component.get("input-type", "text") not in INPUT_TYPES:
        problems.append(f"{at}: input-type must be one of {', '.join(sorted(INPUT_TYPES))}")
    if kind in CHOICE_LIMITS:
        problems += _choice_problems(component.get("data-source"), CHOICE_LIMITS[kind], at)
    if kind in MEDIA_PICKERS:
        if version is not None and version < MIN_MEDIA_VERSION:
            problems.append(f"{at}: media pickers need Flow JSON 4.0 or later")
        most = component.get("max-uploaded-documents", component.get("max-uploaded-photos", 1))
        if not isinstance(most, int) or not 1 <= most <= MAX_PICKED_DOCUMENTS:
            problems.append(f"{at}: at most 1 to {MAX_PICKED_DOCUMENTS} files may be picked")
    return problems


def _text_problem(value: Any, limit: int, at: str) -> list[str]:
    if not isinstance(value, str) or not value.strip():
        return [f"{at} is required"]
    if len(value) > limit:
        return [f"{at} is longer than {limit} characters"]
    return []


def _choice_problems(source: Any, limit: int, at: str) -> list[str]:
    if not isinstance(source, list) or not source:
        return [f"{at}: data-source needs at least one option"]
    if len(source) > limit:
        return [f"{at}: data-source has more than {limit} options"]
    problems = []
    ids = []
    for option in source:
        if not isinstance(option, Mapping) or not all(
            isinstance(option.get(k), str) and option[k] for k in ("id", "title")
        ):
            problems.append(f"{at}: every option needs an id and a title")
            continue
        ids.append(option["id"])
    if len(set(ids)) != len(ids):
        problems.append(f"{at}: two options share an id")
    return problems


def _action_problems(
    component: Mapping[str, Any],
    where: str,
    screens: set[str],
    fields: Mapping[str, str],
    declared: set[str],
) -> list[str]:
    action = component.get("on-click-action")
    if not isinstance(action, Mapping):
        return []
    name = action.get("name")
    at = f"{where}: {name} action"
    if name not in ACTIONS:
        return [f"{where}: unknown action {name!r}"]
    problems = []
    payload = action.get("payload", {})
    if name == "navigate":
        target = action.get("next")
        if not isinstance(target, Mapping) or target.get("type") != "screen":
            problems.append(f"{at}: next must be {{type: screen, name: …}}")
        elif target.get("name") not in screens:
            problems.append(f"{at}: no screen {target.get('name')!r} to go to")
    if name == "complete" and not isinstance(payload, Mapping):
        problems.append(f"{at}: a payload object is required")
    if not isinstance(payload, Mapping):
        return problems
    for key, value in payload.items():
        for source, field in _references(value):
            if source == "form" and field not in fields:
                problems.append(f"{at}: payload {key} names ${{form.{field}}}, not on this screen")
            elif source == "data" and field not in declared:
                problems.append(f"{at}: payload {key} names ${{data.{field}}}, not declared")
            elif source == "form" and fields[field] in MEDIA_PICKERS and name == "navigate":
                problems.append(f"{at}: media from {field} may only go in a completion")
    return problems


def _references(value: Any) -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(m.group(1), m.group(2)) for m in _REFERENCE.finditer(value)]
    if isinstance(value, Mapping):
        return [r for v in value.values() for r in _references(v)]
    if isinstance(value, Sequence):
        return [r for v in value for r in _references(v)]
    return []
