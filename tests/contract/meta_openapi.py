"""Meta's OpenAPI description of the Cloud API (v23.0), made checkable with `jsonschema`.

The description (tests/data/meta-openapi, MIT, kept unchanged) is OpenAPI 3.1, whose schemas are
JSON Schema 2020-12 — but as published it cannot be used as is: some of its schemas refuse the
very bodies its own examples show. `load_spec()` reads it and `patched()` repairs, in memory
and each said below, what is wrong with it, so that a request it refuses is a request of ours
that is wrong, not the spec. `SpecCheck.problems()` then lists everything a captured request
does that the description does not allow: operation (path and method), path and query
parameters, headers, authentication and body.
"""

from __future__ import annotations

import copy
import email.policy
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.parser import BytesParser
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = (
    Path(__file__).parent.parent / "data" / "meta-openapi" / "business-messaging-api_v23.0.yaml"
)
SPEC_URI = "urn:meta:business-messaging-api:v23.0"
SCHEMAS = "#/components/schemas/"


@cache
def load_spec() -> dict[str, Any]:
    """The description as published (parsed once; callers copy before changing it)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 1 s instead of 10
    with SPEC_PATH.open(encoding="utf-8") as handle:
        spec: dict[str, Any] = yaml.load(handle, Loader=loader)  # noqa: S506 (a safe loader)
    return spec


# ---------------------------------------------------------------- the spec's defects, patched


def unevaluated_instead_of_additional(schemas: dict[str, Any]) -> list[str]:
    """DEFECT 1: `allOf` combined with `additionalProperties: false`.

    TextMessage (and Audio, Video, Document, Image, Location, Sticker, Reaction, Interactive,
    Contacts) is `allOf: [BaseMessageProperties, {additionalProperties: false, properties:
    {type, text}}]`. `additionalProperties` sees only its own branch's `properties`, so
    `messaging_product`, `to`, `recipient_type` and `context` — required by the other branch —
    are "additional": no body can ever satisfy both, the spec's own "Send Text Message" example
    included. What the authors meant is JSON Schema 2020-12's `unevaluatedProperties: false` on
    the whole `allOf`: nothing beyond the properties declared across its branches. That keeps
    the strictness (an unknown or misplaced field is still refused) without refusing every
    valid body. Returns the schemas patched."""
    patched = []
    for name, schema in schemas.items():
        branches = schema.get("allOf", [])
        closed = [b for b in branches if b.get("additionalProperties") is False]
        if not closed:
            continue
        for branch in closed:
            del branch["additionalProperties"]
        schema["unevaluatedProperties"] = False
        patched.append(name)
    return patched


def read_receipt_branch(schemas: dict[str, Any]) -> None:
    """DEFECT 2: no branch of `Message` describes the read receipt.

    `POST /{Phone-Number-ID}/messages` also marks a message read — its own example "Send typing
    indicator and read receipt" is `{messaging_product, status: "read", message_id,
    typing_indicator: {type: "text"}}` — but the request body's schema is `Message`, whose
    every branch requires `to` and `type`: the documented call fails its own schema. The spec
    does define the payload elsewhere (`MarkMessageRequestPayload`: messaging_product, status,
    message_id) without ever using it, and has no schema for `typing_indicator`. Added: a
    branch made of that payload, `status` held to "read", and `typing_indicator` as the
    example shows it; closed like the message branches."""
    schemas["ReadReceiptWithTypingIndicator"] = {
        "allOf": [
            {"$ref": f"{SCHEMAS}MarkMessageRequestPayload"},
            {
                "type": "object",
                "properties": {
                    "status": {"const": "read"},
                    "typing_indicator": {
                        "type": "object",
                        "required": ["type"],
                        "properties": {"type": {"const": "text"}},
                        "additionalProperties": False,
                    },
                },
            },
        ],
        "unevaluatedProperties": False,
    }
    schemas["Message"]["oneOf"].append({"$ref": f"{SCHEMAS}ReadReceiptWithTypingIndicator"})


def message_tracking_data(schemas: dict[str, Any]) -> None:
    """DEFECT 3: `biz_opaque_callback_data` is missing from the message properties.

    Meta's Cloud API takes it on every message and echoes it in that message's status webhooks
    (the gateway sends its idempotency key there, to recognise a send whose answer was lost).
    The description has the field only on the calling API's payloads; once DEFECT 1 is patched
    strictly, its absence would refuse every tracked message. Added to BaseMessageProperties
    with the definition the spec itself gives it there (a string of at most 512 characters)."""
    calls = schemas["CallRequestPayload"]["properties"]["biz_opaque_callback_data"]
    schemas["BaseMessageProperties"]["properties"]["biz_opaque_callback_data"] = {
        "type": calls["type"],
        "maxLength": calls["maxLength"],
    }


def button_index_pattern(schemas: dict[str, Any]) -> list[str]:
    """DEFECT 4: a template button's `index` pattern is `^[2-6, 11-14]$`.

    That is one character out of "1-6", "," and " ": it refuses "0", the index of a template's
    first button — the index its own description ("Position index of the button (0-9)") and
    example ('0') give, and the one an AUTHENTICATION template's copy-code button has. Replaced
    by what the description says, `^[0-9]$`. Returns the schemas patched."""
    patched = []
    for name in ("TemplateComponent", "ButtonComponent"):
        for branch in [schemas[name], *schemas[name].get("allOf", [])]:
            index = branch.get("properties", {}).get("index")
            if index is not None and index.get("pattern") == "^[2-6, 11-14]$":
                index["pattern"] = "^[0-9]$"
                patched.append(name)
    return patched


def resolved_discriminators(schemas: dict[str, Any]) -> list[str]:
    """Not a defect, a translation: OpenAPI's `discriminator` is no JSON Schema keyword, so
    `jsonschema` ignores it — a template's body parameter would be checked against
    `ParameterObject` (just a `type`) and never against `TextParameter` (its `text`). Each
    discriminator becomes `if {type: k} then {$ref: mapping[k]}`. The mapped schemas extend
    their base through `allOf`; they are pointed at a copy of the base without the
    discriminator, or validation would go round in a circle."""
    translated = []
    for name in [n for n, s in schemas.items() if "mapping" in s.get("discriminator", {})]:
        schema = schemas[name]
        discriminator = schema.pop("discriminator")
        base = f"{name}__base"
        schemas[base] = copy.deepcopy(schema)
        key = discriminator["propertyName"]
        schema.setdefault("allOf", [])
        schema["allOf"] = [
            *schema["allOf"],
            *(
                {
                    "if": {"properties": {key: {"const": value}}, "required": [key]},
                    "then": {"$ref": target},
                }
                for value, target in discriminator["mapping"].items()
            ),
        ]
        for target in discriminator["mapping"].values():
            for branch in schemas[target.removeprefix(SCHEMAS)].get("allOf", []):
                if branch.get("$ref") == f"{SCHEMAS}{name}":
                    branch["$ref"] = f"{SCHEMAS}{base}"
        translated.append(name)
    return translated


@dataclass(frozen=True)
class Patched:
    spec: dict[str, Any]
    allof_closed: list[str]  # the schemas DEFECT 1 was repaired in
    discriminators: list[str]  # the schemas whose discriminator was translated
    button_index: list[str] = field(default_factory=list)  # DEFECT 4 repaired in


@cache
def patched() -> Patched:
    """The description with DEFECTs 1–4 repaired and discriminators translated (cached: read
    it, never change it)."""
    spec = copy.deepcopy(load_spec())
    schemas = spec["components"]["schemas"]
    closed = unevaluated_instead_of_additional(schemas)
    read_receipt_branch(schemas)
    message_tracking_data(schemas)
    button_index = button_index_pattern(schemas)
    discriminators = resolved_discriminators(schemas)
    return Patched(
        spec=spec, allof_closed=closed, discriminators=discriminators, button_index=button_index
    )


# ---------------------------------------------------------------- checking a request


@dataclass(frozen=True)
class Captured:
    """One request as it reached the server."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes


@dataclass
class SpecCheck:
    spec: dict[str, Any]
    _validators: dict[str, Draft202012Validator] = field(default_factory=dict)
    _registry: Registry[Any] | None = None

    def validator(self, schema: Mapping[str, Any]) -> Draft202012Validator:
        """A validator for a schema of the spec; a `$ref` into it ("#/components/…") is
        resolved in the spec, and so is every `$ref` the schema it names holds."""
        ref = schema.get("$ref")
        if not isinstance(ref, str):
            return Draft202012Validator(dict(schema))  # an inline schema (a parameter's)
        if ref not in self._validators:
            if self._registry is None:
                resource = Resource.from_contents(self.spec, default_specification=DRAFT202012)
                self._registry = Registry().with_resource(SPEC_URI, resource)
            # Made absolute: inside the spec, its own "#/…" references then resolve there too.
            self._validators[ref] = Draft202012Validator(
                {"$ref": SPEC_URI + ref}, registry=self._registry
            )
        return self._validators[ref]

    def operation(self, operation_id: str) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
        """(path template, method, path item, operation) of an operationId."""
        for path, item in self.spec["paths"].items():
            for method, operation in _operations(item):
                if operation.get("operationId") == operation_id:
                    return path, method, item, operation
        raise KeyError(operation_id)

    def problems(self, request: Captured, operation_id: str) -> list[str]:
        """What `request` does that operation `operation_id` does not allow (empty: none)."""
        template, method, item, operation = self.operation(operation_id)
        found: list[str] = []
        if request.method.lower() != method:
            found.append(f"method {request.method}, the operation is {method.upper()}")
        values = _match(template, request.path)
        if values is None:
            return [*found, f"path {request.path} does not match {template}"]
        parameters = _parameters(self.spec, item, operation)
        query = dict(parse_qsl(request.query, keep_blank_values=True))
        found += self._parameters(parameters, "path", values)
        found += self._parameters(parameters, "query", query)
        found += self._parameters(parameters, "header", request.headers)
        declared = {p["name"] for p in parameters if p.get("in") == "query"}
        found += [f"query parameter {q!r} is not in the spec" for q in query if q not in declared]
        found += self._security(operation, request.headers)
        found += self._body(operation, request)
        return found

    def body_problems(self, body: Any, schema_name: str) -> list[str]:
        """What `body` does that components/schemas/`schema_name` does not allow."""
        validator = self.validator({"$ref": f"{SCHEMAS}{schema_name}"})
        return [_described(error) for error in validator.iter_errors(body)]

    def _parameters(
        self, parameters: list[dict[str, Any]], where: str, given: Mapping[str, str]
    ) -> list[str]:
        found = []
        lowered = {k.lower(): v for k, v in given.items()} if where == "header" else given
        for parameter in (p for p in parameters if p.get("in") == where):
            name = parameter["name"].lower() if where == "header" else parameter["name"]
            if name not in lowered:
                if parameter.get("required"):
                    found.append(f"{where} parameter {parameter['name']} is missing")
                continue
            schema = parameter.get("schema", {})
            for error in self.validator(schema).iter_errors(lowered[name]):
                found.append(f"{where} parameter {parameter['name']}: {error.message}")
        return found

    def _security(self, operation: dict[str, Any], headers: Mapping[str, str]) -> list[str]:
        requirements = operation.get("security", self.spec.get("security", []))
        if not requirements:
            return []
        schemes = self.spec["components"]["securitySchemes"]
        unmet = []
        for requirement in requirements:  # any one requirement met is enough
            missing = [n for n in requirement if not _meets(schemes[n], headers)]
            if not missing:
                return []
            unmet += missing
        return [f"authentication: {', '.join(unmet)} not met"]

    def _body(self, operation: dict[str, Any], request: Captured) -> list[str]:
        declared = operation.get("requestBody")
        if declared is None:
            return ["a body is sent, the operation takes none"] if request.body else []
        media_type = request.headers.get("content-type", "").split(";")[0].strip()
        content = declared.get("content", {})
        if media_type not in content:
            return [f"body sent as {media_type!r}, the operation takes {sorted(content)}"]
        if media_type == "multipart/form-data":
            parts = form_parts(request)
            if parts is None:
                return ["the multipart body does not parse"]
            # Each part as the schema describes form fields: a string (a file's bytes are a
            # string of `format: binary`).
            body = {part.name: part.value or "<binary>" for part in parts}
        elif media_type == "application/json":
            body = yaml.safe_load(request.body.decode("utf-8"))  # JSON is YAML
        else:
            return [f"cannot check a {media_type} body"]
        validator = self.validator(content[media_type]["schema"])
        return [_described(error) for error in validator.iter_errors(body)]


@dataclass(frozen=True)
class FormPart:
    """One part of a multipart/form-data body: its field name, its text (a plain field) or
    its file name, type and bytes (a file)."""

    name: str
    value: str | None
    filename: str | None = None
    content_type: str | None = None
    data: bytes = b""


def form_parts(request: Captured) -> list[FormPart] | None:
    """The parts of a captured multipart/form-data body, read with the standard library's
    MIME parser (RFC 7578 bodies are MIME multiparts); None when it does not parse."""
    header = request.headers.get("content-type", "")
    message = BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {header}\r\n\r\n".encode() + request.body
    )
    if not message.is_multipart() or message.defects:
        return None
    parts = []
    for part in message.iter_parts():
        disposition = part.get("content-disposition", "")
        if not str(disposition).startswith("form-data"):
            return None
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        data = part.get_payload(decode=True) or b""
        parts.append(
            FormPart(
                name=str(name),
                value=None if filename is not None else data.decode("utf-8"),
                filename=filename,
                content_type=part.get_content_type() if filename is not None else None,
                data=data,
            )
        )
    return parts


def _meets(scheme: dict[str, Any], headers: Mapping[str, str]) -> bool:
    if scheme.get("type") == "http" and scheme.get("scheme", "").lower() == "bearer":
        value = headers.get("authorization", "")
        return value.startswith("Bearer ") and bool(value.removeprefix("Bearer ").strip())
    raise NotImplementedError(f"security scheme {scheme}")


def _described(error: Any) -> str:
    """A validation error with where it is and, for a oneOf, why its branches refused."""
    where = "/".join(str(p) for p in error.absolute_path) or "(body)"
    causes = sorted({f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in error.context})
    detail = f" ({'; '.join(causes[:6])})" if causes else ""
    return f"{where}: {error.message[:200]}{detail}"


def _match(template: str, path: str) -> dict[str, str] | None:
    names = re.findall(r"\{([^}]+)\}", template)
    pattern = re.escape(template)
    for index, name in enumerate(names):
        pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<p{index}>[^/]+)", 1)
    matched = re.fullmatch(pattern, path)
    if matched is None:
        return None
    return {name: matched.group(f"p{index}") for index, name in enumerate(names)}


HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _operations(item: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for method in HTTP_METHODS:
        if method in item:
            yield method, item[method]


def _resolved(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _parameters(
    spec: dict[str, Any], item: dict[str, Any], operation: dict[str, Any]
) -> list[dict[str, Any]]:
    """Path-level parameters overridden by operation-level ones (OpenAPI's rule), resolved."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*item.get("parameters", []), *operation.get("parameters", [])]:
        parameter = _resolved(spec, raw)
        merged[(parameter["name"], parameter["in"])] = parameter
    return list(merged.values())
