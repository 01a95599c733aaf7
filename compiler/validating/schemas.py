"""Schema checks: one Kubernetes object to its schema errors, every one with a JSON path.

Schemas are kubernetes-validate's strict files for a pinned Kubernetes version (same version
fallback and apiVersion -> file mapping as kubernetes-validate) plus the CRD schemas in crds/.
Each (apiVersion, kind) is bundled and compiled by jsonschema-rs (a Rust validator) once per
SchemaValidator, and asked only whether an object is valid; an object it doubts (invalid, or a
value it cannot take, such as a non-string key) is walked by jsonschema, which lists all of its
errors and has the last word, so the findings are jsonschema's whichever way the gate goes.
Reads only packaged schema files (and an explicitly given extra schema directory).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata, resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import jsonschema_rs

if TYPE_CHECKING:  # jsonschema (~30 ms to import) is only needed once an object fails
    import jsonschema

from compiler.errors import PresetDataInvalid, UsageError
from compiler.validating.findings import json_path

_SCHEMA_ROOT = "kubernetes-json-schema"
try:
    _KUBERNETES_VALIDATE_VERSION = metadata.version("kubernetes-validate")
except metadata.PackageNotFoundError:  # only a cache key: any stable value will do
    _KUBERNETES_VALIDATE_VERSION = "unknown"
_DEFS_PREFIX = "#/$defs/"
# kubernetes-validate's own mapping: drop the group's domain and join with "-":
# rbac.authorization.k8s.io/v1 -> rbac-v1, v1 -> v1.
_API_VERSION_TO_FILE = re.compile(r"^([^./]*)(?:\.[^/]*)?/")
# Only names that can be schema file names; anything else cannot have a schema (and never reaches
# a path).
_SAFE_KIND = re.compile(r"^[A-Za-z0-9]+$")
_SAFE_API = re.compile(r"^[A-Za-z0-9.-]+$")
_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}

Compiled = Callable[[Any], bool]


@dataclass(frozen=True, slots=True)
class SchemaError:
    path: str
    message: str


@dataclass(slots=True)
class _Schema:
    bundle: dict[str, Any]  # self-contained: its refs point into its own $defs
    fast: Compiled  # True: valid (jsonschema would find nothing); False: ask jsonschema
    full: jsonschema.protocols.Validator | None = None


def supported_versions() -> list[str]:
    """Kubernetes versions with bundled strict schemas, oldest first ("1.25.0", ...)."""
    found = []
    for entry in _schema_root().iterdir():
        match = re.match(r"^v([0-9.]+)-local-strict$", entry.name)
        if match:
            found.append(match[1])
    return sorted(found, key=_version_key)


def resolve_version(desired: str) -> str:
    """The schema version kubernetes-validate would use: the newest one not newer than desired."""
    available = supported_versions()
    wanted = desired[1:] if desired.startswith("v") else desired
    if not re.match(r"^[0-9]+\.[0-9]+(\.[0-9]+)?$", wanted):
        _unsupported(desired, available)
    wanted_minor = _version_key(_minor(wanted))
    candidates = [v for v in available if _version_key(_minor(v)) <= wanted_minor]
    if not candidates or wanted_minor > _version_key(_minor(available[-1])):
        _unsupported(desired, available)
    return candidates[-1]


class SchemaValidator:
    """Strict schema checks for one Kubernetes version; compiled schemas are cached per instance."""

    def __init__(
        self,
        kubernetes_version: str,
        extra_schemas_dir: Path | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.schema_version = resolve_version(kubernetes_version)
        self._cache_dir = cache_dir
        self._dir = _schema_root() / f"v{self.schema_version}-local-strict"
        self._definitions: dict[str, Any] | None = None
        self._crds: dict[tuple[str, str], dict[str, Any]] = {}
        self._load_crds(resources.files("compiler.validating") / "crds")
        if extra_schemas_dir is not None:
            self._load_crds(extra_schemas_dir)
        self._compiled: dict[tuple[str, str], _Schema | None] = {}

    def errors(self, obj: Mapping[str, Any]) -> list[SchemaError] | None:
        """Every schema error of obj, [] when valid, None when no schema knows its kind."""
        schema = self._schema_for(obj["apiVersion"], obj["kind"])
        if schema is None:
            return None
        try:
            if schema.fast(obj):
                return []
        except (ValueError, TypeError, OverflowError):
            pass  # a value jsonschema-rs cannot take (an int key, bytes): jsonschema judges
        if schema.full is None:
            from jsonschema import Draft202012Validator

            schema.full = Draft202012Validator(schema.bundle)
        found: dict[SchemaError, None] = {}  # ordered set: `required` repeats per missing key
        for error in schema.full.iter_errors(obj):
            for item in _describe(error):
                found[item] = None
        return list(found)

    def _schema_for(self, api_version: str, kind: str) -> _Schema | None:
        key = (api_version, kind)
        if key not in self._compiled:
            raw = self._crds.get(key)
            if raw is None:
                raw = self._kubernetes_schema(api_version, kind)
            self._compiled[key] = None if raw is None else self._compile(raw)
        return self._compiled[key]

    def _kubernetes_schema(self, api_version: str, kind: str) -> dict[str, Any] | None:
        mapped = _API_VERSION_TO_FILE.sub(r"\1-", api_version)
        if not _SAFE_KIND.match(kind) or not _SAFE_API.match(mapped):
            return None
        entry = self._dir / f"{kind.lower()}-{mapped}.json"
        if not entry.is_file():
            return None
        loaded: dict[str, Any] = json.loads(entry.read_text(encoding="utf-8"))
        return loaded

    def _compile(self, raw: dict[str, Any]) -> _Schema:
        bundle = self._cached_bundle(raw)
        try:
            validator = jsonschema_rs.validator_for(
                bundle,
                validate_formats=False,  # kubernetes-validate does not assert formats either
                offline=True,  # every ref is local (#/$defs/...); never fetch one
            )
        except ValueError as e:
            raise PresetDataInvalid(f"schema {raw.get('$id', '')} does not compile: {e}") from e
        return _Schema(bundle=bundle, fast=validator.is_valid)

    def _cached_bundle(self, raw: dict[str, Any]) -> dict[str, Any]:
        """The bundled schema, kept on disk when a cache directory is given: bundling reads the
        version's 1.6 MB of definitions (~15 ms), which a warm start need not pay."""
        cached = self._cache_file(raw)
        if cached is not None and cached.is_file():
            try:
                loaded = json.loads(cached.read_bytes())
            except (OSError, ValueError):
                loaded = None
            if isinstance(loaded, dict):
                return loaded
        bundle = self._bundle(raw)
        if cached is not None:
            _write_atomically(cached, json.dumps(bundle, separators=(",", ":")).encode())
        return bundle

    def _cache_file(self, raw: dict[str, Any]) -> Path | None:
        if self._cache_dir is None:
            return None
        key = hashlib.sha256(
            json.dumps(raw, sort_keys=True).encode()
            + f"\0{self.schema_version}\0bundle-1\0".encode()
            + _KUBERNETES_VALIDATE_VERSION.encode()
        ).hexdigest()
        return self._cache_dir / f"{key}.json"

    def _bundle(self, raw: dict[str, Any]) -> dict[str, Any]:
        """One self-contained schema: refs point at #/$defs/<name>, only reachable ones kept."""
        # A CRD file may carry its own $defs; they win over the Kubernetes definitions.
        definitions = {**self._load_definitions(), **raw.get("$defs", {})}
        needed: dict[str, Any] = {}
        pending: list[Any] = []

        def rewrite(node: Any, in_properties: bool = False) -> Any:
            if isinstance(node, list):
                return [rewrite(item) for item in node]
            if not isinstance(node, dict):
                return node
            out: dict[str, Any] = {}
            for key, value in node.items():
                if key == "$ref" and not in_properties and isinstance(value, str):
                    name = value.rsplit("/", 1)[-1]
                    if name not in needed:
                        needed[name] = None
                        pending.append(name)
                    out[key] = _DEFS_PREFIX + name
                else:
                    out[key] = rewrite(value, key == "properties" and not in_properties)
            return out

        root: dict[str, Any] = rewrite({k: v for k, v in raw.items() if k not in ("$id", "$defs")})
        while pending:
            name = pending.pop()
            if name in definitions:
                needed[name] = rewrite(definitions[name])
        missing = [name for name in needed if name not in definitions]
        if missing:
            raise PresetDataInvalid(
                f"schema references unknown definitions: {', '.join(sorted(missing))}"
            )
        root["$defs"] = needed
        root.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")
        return root

    def _load_definitions(self) -> dict[str, Any]:
        if self._definitions is None:
            text = (self._dir / "_definitions.json").read_text(encoding="utf-8")
            self._definitions = json.loads(text)["$defs"]
        return self._definitions

    def _load_crds(self, directory: Traversable | Path) -> None:
        if not directory.is_dir():
            raise UsageError(f"schema directory {directory} does not exist")
        for entry in sorted(directory.iterdir(), key=lambda e: e.name):
            if not entry.name.endswith(".json"):
                continue
            try:
                schema = json.loads(entry.read_text(encoding="utf-8"))
                for gvk in schema["x-kubernetes-group-version-kind"]:
                    api = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
                    self._crds[(api, gvk["kind"])] = schema
            except (ValueError, KeyError, TypeError) as e:
                raise PresetDataInvalid(
                    f"CRD schema {entry.name} is not a JSON schema with "
                    f"x-kubernetes-group-version-kind: {e}"
                ) from e


def _describe(error: jsonschema.ValidationError) -> Iterator[SchemaError]:
    """Messages name the field and the rule, never the value (it might be a secret)."""
    parts = list(error.absolute_path)
    rule, expected, instance = error.validator, error.validator_value, error.instance
    if rule == "additionalProperties" and isinstance(instance, dict):
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        for key in instance:
            if key not in known:
                yield SchemaError(json_path([*parts, key]), f'unknown field "{key}"')
        return
    if rule == "required" and isinstance(instance, dict) and isinstance(expected, list):
        for key in expected:
            if key not in instance:
                yield SchemaError(json_path([*parts, key]), f'missing required field "{key}"')
        return
    yield SchemaError(json_path(parts), _message(str(rule), expected, instance, error))


def _message(rule: str, expected: Any, instance: Any, error: jsonschema.ValidationError) -> str:
    if rule == "type":
        wanted = [expected] if isinstance(expected, str) else list(expected)
        shown = " or ".join(t for t in wanted if t != "null") or "null"
        return f"expected {shown}, got {_json_type(instance)}"
    if rule == "enum":
        choices = ", ".join(json.dumps(choice) for choice in expected[:12])
        return f"must be one of: {choices}"
    if rule in ("oneOf", "anyOf"):
        types = [s.get("type") for s in expected if isinstance(s, dict)]
        flat = sorted({t for ts in types for t in ([ts] if isinstance(ts, str) else ts or [])})
        shown = " or ".join(t for t in flat if t != "null")
        return f"expected {shown}, got {_json_type(instance)}" if shown else f"fails {rule}"
    if rule == "pattern":
        return f"does not match pattern {expected}"
    return f"fails {rule} {json.dumps(expected, default=str)[:80]}"


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _write_atomically(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError:
        pass  # a cache that cannot be written only costs speed


def _schema_root() -> Traversable:
    # find_spec locates the package without importing it: importing kubernetes_validate pulls
    # in jsonschema, referencing and more (~50 ms) that the fast path never uses.
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise PresetDataInvalid("the kubernetes-validate package (its schemas) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / _SCHEMA_ROOT


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _unsupported(desired: str, available: list[str]) -> NoReturn:
    shown = ", ".join(_minor(v) for v in available)
    raise UsageError(
        f"Kubernetes version {desired!r} is not supported; supported versions: {shown}",
        details={"kubernetes_version": desired, "supported": [_minor(v) for v in available]},
    )
