"""Request validation against the vendored X API OpenAPI document (jsonschema + referencing).

Layer one of the sandbox's two: is the request shaped as the document says (path and query
parameters, body)? The meaning (does the Thrift detail match the body, is the caller a
participant) is checked by the resource modules (`kit.sandbox.key_changes`, `conversations`, ...).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from kit.errors import APIError

__all__ = ["Operation", "load_document", "spec"]

_METHODS = ("get", "post", "put", "patch", "delete")


@cache
def load_document() -> dict[str, Any]:
    """The vendored OpenAPI document (X API 2.167, chat and public-key paths)."""
    return json.loads(resources.files("kit.spec").joinpath("x-api-chat-openapi.json").read_text("utf-8"))


def _json_path(path: Any) -> str:
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


@dataclass(frozen=True)
class Operation:
    """One operation of the document, with compiled validators."""

    operation_id: str
    method: str
    template: str
    pattern: re.Pattern[str]
    path_params: dict[str, Any]
    query_params: dict[str, tuple[dict[str, Any], bool]]
    body_validator: Any
    body_required: bool

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method.lower() != self.method:
            return None
        m = self.pattern.match(path)
        return m.groupdict() if m else None

    def validate_path(self, params: dict[str, str]) -> None:
        for name, validator in self.path_params.items():
            _raise_first(validator, params.get(name), f"path parameter {name}", parameter=name)

    def validate_query(self, query: list[tuple[str, str]]) -> dict[str, Any]:
        """Check the query against the document; returns the parsed values (arrays split on ',')."""
        out: dict[str, Any] = {}
        for name, value in query:
            if name in out:
                raise APIError.of(400, f"query parameter {name} is given more than once", parameter=name, value=value)
            spec_entry = self.query_params.get(name)
            if spec_entry is None:
                allowed = ", ".join(sorted(self.query_params)) or "none"
                # no `value` echoed: an unknown parameter may be a credential in the wrong place (?access_token=...)
                detail = f"query parameter {name} is not allowed here (allowed: {allowed})"
                raise APIError.of(400, detail, parameter=name)
            validator, _ = spec_entry
            schema = validator.schema
            parsed: Any = value
            if schema.get("type") == "array":
                parsed = value.split(",") if value else []
                most = schema.get("maxItems")
                if most is not None and len(parsed) > most:  # before any walk of the items
                    raise APIError.of(400, f"query parameter {name} lists {len(parsed)} items; at most {most}", parameter=name)
            elif schema.get("type") == "integer":
                if not re.fullmatch(r"-?[0-9]{1,18}", value):
                    raise APIError.of(400, f"query parameter {name} must be an integer, got {value!r}", parameter=name, value=value)
                parsed = int(value)
            _raise_first(validator, parsed, f"query parameter {name}", parameter=name)
            out[name] = parsed
        for name, (_, required) in self.query_params.items():
            if required and name not in out:
                raise APIError.of(400, f"query parameter {name} is required", parameter=name)
        return out

    def validate_body(self, body: Any) -> None:
        if self.body_validator is None:
            return
        _raise_first(self.body_validator, body, "request body")


#: How many of jsonschema's errors are looked at to name the best one: errors come lazily, so
#: an invalid array of a million items costs a few items' walk, not a million errors.
FIRST_ERRORS = 8


def _raise_first(validator: Any, instance: Any, what: str, *, parameter: str | None = None) -> None:
    from jsonschema.exceptions import best_match

    if validator.fast is not None and validator.fast(instance):
        return  # valid: the compiled check accepts only what jsonschema accepts
    error = best_match(itertools.islice(validator.full.iter_errors(instance), FIRST_ERRORS))
    if error is None:
        return
    where = _json_path(error.absolute_path)
    if what == "request body":
        detail = f"{where}: {error.message}"
        param = where
    else:
        detail = f"{what}: {error.message}"
        param = parameter
    raise APIError.of(400, detail, parameter=param, value=None)


def _ecma_regex(pattern: str) -> str:
    """An OpenAPI / JSON Schema pattern (ECMA-262) as a Python regex with the same meaning.

    The difference that matters here: in ECMA-262 ``$`` is the end of the input, while in
    Python's `re` it also matches just before a final newline, so ``"123\\n"`` would pass
    ``^[0-9]+$``. Every ``$`` outside a character class becomes ``\\Z``.
    """
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "$":
            c = r"\Z"
        out.append(c)
        i += 1
    return "".join(out)


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(_ecma_regex(pattern))


def _pattern_keyword(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if validator.is_type(instance, "string") and not _compiled(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# ----------------------------------------------------------------------------- compiled checks
#
# jsonschema walks a schema anew for every instance (about 200 µs for an init body). The sandbox
# answers mostly valid requests, so each schema is also compiled, once, into nested Python
# closures that only say valid or not. A request the closure accepts is done; one it rejects goes
# to jsonschema, which finds the error to name (and has the last word). A schema with a keyword
# the compiler does not know gets no closure: jsonschema alone checks it.
# `tests/sandbox/test_sandbox_schema.py` checks that both agree on valid and broken bodies of every operation.

Check = Callable[[Any], bool]

#: Keywords that assert nothing under draft 2020-12 as the sandbox runs it (no format checker;
#: `nullable`, `discriminator`, `example` are OpenAPI words jsonschema does not know).
_ANNOTATIONS = frozenset(
    {"description", "title", "example", "examples", "format", "nullable", "discriminator", "deprecated",
     "readOnly", "writeOnly", "default", "externalDocs", "xml"}
)
_TYPES: dict[str, Check] = {
    "string": lambda v: type(v) is str,
    "object": lambda v: type(v) is dict,
    "array": lambda v: type(v) is list,
    "boolean": lambda v: type(v) is bool,
    "null": lambda v: v is None,
    "integer": lambda v: (type(v) is int) or (type(v) is float and v.is_integer()),
    "number": lambda v: type(v) in (int, float),
}


class _Unsupported(Exception):
    pass


def _compile(schema: Any, document: dict[str, Any], memo: dict[str, Check] | None = None) -> Check | None:
    """A closure equivalent to `schema` (refs resolved in `document`), or None when it cannot tell."""
    try:
        return _compile_node(schema, document, {} if memo is None else memo)
    except _Unsupported:
        return None


def _compile_node(schema: Any, document: dict[str, Any], memo: dict[str, Check]) -> Check:
    if schema is True or schema == {}:
        return lambda v: True
    if schema is False:
        return lambda v: False
    if not isinstance(schema, dict):
        raise _Unsupported(repr(schema))
    checks: list[Check] = []
    for key, arg in schema.items():
        if key in _ANNOTATIONS:
            continue
        if key == "$ref":
            checks.append(_compile_ref(arg, document, memo))
        elif key == "type":
            names = [arg] if isinstance(arg, str) else list(arg)
            if any(n not in _TYPES for n in names):
                raise _Unsupported(f"type {arg!r}")
            tests = [_TYPES[n] for n in names]
            checks.append(tests[0] if len(tests) == 1 else (lambda v, tests=tests: any(t(v) for t in tests)))
        elif key == "properties":
            props = {name: _compile_node(sub, document, memo) for name, sub in arg.items()}
            checks.append(
                lambda v, props=props: type(v) is not dict
                or all(check(v[name]) for name, check in props.items() if name in v)
            )
        elif key == "additionalProperties":
            known = frozenset(schema.get("properties", {}))
            if "patternProperties" in schema:
                raise _Unsupported("patternProperties")
            extra = _compile_node(arg, document, memo)
            checks.append(
                lambda v, known=known, extra=extra: type(v) is not dict
                or all(extra(item) for name, item in v.items() if name not in known)
            )
        elif key == "required":
            names = tuple(arg)
            checks.append(lambda v, names=names: type(v) is not dict or all(n in v for n in names))
        elif key == "items":
            item = _compile_node(arg, document, memo)
            checks.append(lambda v, item=item: type(v) is not list or all(item(x) for x in v))
        elif key in ("minItems", "maxItems", "minLength", "maxLength"):
            kind = list if key.endswith("Items") else str
            bound = int(arg)
            if key.startswith("min"):
                checks.append(lambda v, kind=kind, bound=bound: type(v) is not kind or len(v) >= bound)
            else:
                checks.append(lambda v, kind=kind, bound=bound: type(v) is not kind or len(v) <= bound)
        elif key in ("minimum", "maximum"):
            if type(arg) not in (int, float):
                raise _Unsupported(f"{key} {arg!r}")
            if key == "minimum":
                checks.append(lambda v, b=arg: type(v) not in (int, float) or v >= b)
            else:
                checks.append(lambda v, b=arg: type(v) not in (int, float) or v <= b)
        elif key == "uniqueItems":
            if arg is True:  # strings only here; anything else goes to jsonschema (a False is always safe)
                checks.append(
                    lambda v: type(v) is not list or (all(type(x) is str for x in v) and len(set(v)) == len(v))
                )
        elif key == "pattern":
            search = _compiled(arg).search
            checks.append(lambda v, search=search: type(v) is not str or search(v) is not None)
        elif key == "enum":
            if not all(type(x) is str for x in arg):
                raise _Unsupported("enum of non-strings")  # jsonschema's equality of 1, 1.0 and True
            allowed = frozenset(arg)
            checks.append(lambda v, allowed=allowed: type(v) is str and v in allowed)
        elif key in ("allOf", "anyOf", "oneOf"):
            subs = [_compile_node(sub, document, memo) for sub in arg]
            if key == "allOf":
                checks.append(lambda v, subs=subs: all(s(v) for s in subs))
            elif key == "anyOf":
                checks.append(lambda v, subs=subs: any(s(v) for s in subs))
            else:
                checks.append(lambda v, subs=subs: sum(1 for s in subs if s(v)) == 1)
        else:
            raise _Unsupported(key)
    if not checks:
        return lambda v: True
    if len(checks) == 1:
        return checks[0]
    return lambda v, checks=tuple(checks): all(c(v) for c in checks)


def _compile_ref(ref: Any, document: dict[str, Any], memo: dict[str, Check]) -> Check:
    if not isinstance(ref, str) or not ref.startswith("#/"):
        raise _Unsupported(f"$ref {ref!r}")
    if ref not in memo:
        cell: list[Check] = []
        memo[ref] = lambda v: cell[0](v)  # a recursive ref meets this forwarder
        target: Any = document
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        cell.append(_compile_node(target, document, memo))
    return memo[ref]


class _Validator:
    """One schema of the document: the jsonschema validator, and its compiled check if any."""

    __slots__ = ("fast", "full")

    def __init__(self, full: Any, fast: Check | None) -> None:
        self.full = full
        self.fast = fast

    @property
    def schema(self) -> Any:
        return self.full.schema


@cache
def _validator_class() -> Any:
    """Draft 2020-12 with ECMA-262 `pattern` semantics (see `_ecma_regex`)."""
    from jsonschema import Draft202012Validator
    from jsonschema.validators import extend

    return extend(Draft202012Validator, {"pattern": _pattern_keyword})


class _Spec:
    def __init__(self, document: dict[str, Any]) -> None:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        self.document = document
        uri = "urn:xchat-kit:openapi"
        resource = Resource(contents=document, specification=DRAFT202012)
        registry: Registry = Registry().with_resource(uri, resource)

        def absolute(node: Any) -> Any:
            # Inline schemas (a query array's items, say) hold "#/components/..." refs of their own:
            # point every one at the registered document, or they resolve against the fragment.
            if isinstance(node, dict):
                return {
                    k: (uri + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else absolute(v))
                    for k, v in node.items()
                }
            if isinstance(node, list):
                return [absolute(v) for v in node]
            return node

        memo: dict[str, Check] = {}

        def validator(schema: dict[str, Any]) -> _Validator:
            return _Validator(_validator_class()(absolute(schema), registry=registry), _compile(schema, document, memo))

        def resolve(node: dict[str, Any]) -> dict[str, Any]:
            while "$ref" in node:
                target: Any = document
                for part in node["$ref"].lstrip("#/").split("/"):
                    target = target[part]
                node = target
            return node

        self.operations: list[Operation] = []
        for template, item in document["paths"].items():
            for method in _METHODS:
                op = item.get(method)
                if not op:
                    continue
                params = [resolve(p) for p in (item.get("parameters", []) + op.get("parameters", []))]
                path_params = {p["name"]: validator(p["schema"]) for p in params if p["in"] == "path"}
                query_params = {
                    p["name"]: (validator(p["schema"]), bool(p.get("required"))) for p in params if p["in"] == "query"
                }
                body_validator = None
                body_required = False
                if "requestBody" in op:
                    rb = resolve(op["requestBody"])
                    body_required = bool(rb.get("required"))
                    body_validator = validator(rb["content"]["application/json"]["schema"])
                regex = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
                self.operations.append(
                    Operation(
                        operation_id=op["operationId"],
                        method=method,
                        template=template,
                        pattern=re.compile(regex),
                        path_params=path_params,
                        query_params=query_params,
                        body_validator=body_validator,
                        body_required=body_required,
                    )
                )
        # Literal paths first: /2/chat/conversations/group before /2/chat/conversations/{id}.
        self.operations.sort(key=lambda o: (o.template.count("{"), -len(o.template)))
        self.by_id = {o.operation_id: o for o in self.operations}

    def find(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation for a request; 405 (with `Allow`) when the path exists but not the method.

        As in OpenAPI, a literal path wins over a template: ``/2/chat/conversations/group``
        is the group-create resource (POST only), not ``/2/chat/conversations/{id}``.
        """
        resource = next((op.template for op in self.operations if op.pattern.match(path)), None)
        if resource is None:
            return None
        candidates = [op for op in self.operations if op.template == resource]
        for op in candidates:
            params = op.match(method, path)
            if params is not None:
                return op, params
        methods = sorted({op.method.upper() for op in candidates})
        allow = ", ".join(methods)
        raise APIError.of(405, f"{method} is not allowed on {path} (allowed: {allow})", headers={"allow": allow})


@cache
def spec() -> _Spec:
    """The compiled document (built once per process, ~0.1 s)."""
    return _Spec(load_document())
