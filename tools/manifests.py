"""Kubernetes objects from a captured plan: render them as files and judge them against the real
schemas (kubernetes-validate --strict for built-in kinds, the upstream CRDs for custom ones)."""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from tools.engine import ProgramRun

KUBERNETES_VERSION = "1.33"
REPO = Path(__file__).resolve().parent.parent
CRDS_DIR = Path(os.environ.get("LLM_SERVING_CRDS_DIR", REPO.parent / "shared" / "crds"))
CACHE_DIR = REPO / "build" / ".cache" / "crds"


def kubernetes_objects(run: ProgramRun) -> list[dict[str, Any]]:
    """Every Kubernetes object the program would send, as sent (Helm releases are not objects)."""
    objects = []
    for r in run.registered():
        if not r.custom or not r.type.startswith("kubernetes:") or "helm.sh" in r.type:
            continue
        if r.type.startswith("kubernetes:yaml") or r.type == "pulumi:providers:kubernetes":
            continue
        objects.append(r.inputs)
    return objects


def file_name(obj: dict[str, Any]) -> str:
    return f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"


def write(objects: Iterable[dict[str, Any]], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for obj in objects:
        path = directory / file_name(obj)
        ordered = {k: obj[k] for k in ("apiVersion", "kind", "metadata") if k in obj}
        ordered.update({k: v for k, v in obj.items() if k not in ordered})
        path.write_text(yaml.safe_dump(ordered, sort_keys=False, width=120))
        written.append(path)
    return written


def _crd_files(api_version: str, kind: str) -> list[Path]:
    """The CRD files that can define `kind`: upstream names them `<group>_<plural>.yaml`. Reading only
    those (not all 9 MB of ../shared/crds) keeps a preview fast; the plural guess falls back to every
    file of the group."""
    group = api_version.split("/")[0]
    lower = kind.lower()
    plurals = [lower + "s", lower + "es", lower[:-1] + "ies" if lower.endswith("y") else ""]
    exact = [CRDS_DIR / f"{group}_{p}.yaml" for p in plurals if p]
    return [p for p in exact if p.is_file()] or sorted(CRDS_DIR.glob(f"{group}_*.yaml"))


@functools.cache
def _crd_file_schemas(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    # Parsed once into build/.cache as JSON (the KubeRay CRD alone takes ~1 s as YAML, 30 ms as JSON),
    # keyed by the file's size and mtime so an updated CRD is read again.
    stat = path.stat()
    cached = CACHE_DIR / f"{path.stem}-{stat.st_size}-{stat.st_mtime_ns}.json"
    if cached.is_file():
        return {(a, k): _without_null_combinators(schema) for a, k, schema in json.loads(cached.read_text())}
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    # libyaml's parser: the pure-Python one takes seconds on these files.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for doc in yaml.load_all(path.read_bytes(), Loader=loader):
        if not doc or doc.get("kind") != "CustomResourceDefinition":
            continue
        spec = doc["spec"]
        for version in spec["versions"]:
            api_version = f"{spec['group']}/{version['name']}"
            schemas[(api_version, spec["names"]["kind"])] = _without_null_combinators(
                version["schema"]["openAPIV3Schema"]
            )
    try:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")  # parallel test workers: write, then rename
        partial.write_text(json.dumps([[a, k, schema] for (a, k), schema in schemas.items()]))
        partial.replace(cached)
    except OSError:
        pass  # a read-only checkout still validates, only slower
    return schemas


def _without_null_combinators(schema: Any) -> Any:
    """The Route CRD as published (openshift/api route/v1) has `anyOf: null`, which a JSON-schema validator
    cannot iterate; a null combinator constrains nothing, so it is dropped (../shared/crds/README.md)."""
    if isinstance(schema, dict):
        return {k: _without_null_combinators(v) for k, v in schema.items()
                if not (k in ("anyOf", "oneOf", "allOf") and v is None)}  # fmt: skip
    if isinstance(schema, list):
        return [_without_null_combinators(v) for v in schema]
    return schema


def crd_schema(api_version: str, kind: str) -> dict[str, Any] | None:
    """The upstream openAPIV3Schema of a custom resource, or None when ../shared/crds has none."""
    for path in _crd_files(api_version, kind):
        schema = _crd_file_schemas(path).get((api_version, kind))
        if schema is not None:
            return schema
    return None


def _is_builtin(api_version: str) -> bool:
    group = api_version.split("/")[0] if "/" in api_version else ""
    return group == "" or "." not in group or (group.endswith(".k8s.io") and not group.startswith("gateway."))


@functools.cache
def _definitions_registry(schema_dir: str) -> Any:
    from kubernetes_validate import utils as kv
    from referencing import Registry, Resource

    definitions = kv.schema_contents(f"{schema_dir}/_definitions.json", KUBERNETES_VERSION)
    return Resource.from_contents(definitions) @ Registry()


@functools.cache
def builtin_validator(api_version: str, kind: str) -> Any:
    """What kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True) checks an object with
    (kubernetes_validate/utils.py `validate`, same files, same validator), built once per kind: the
    library re-reads its 1.4 MB _definitions.json for every object, ~0.5 s of a doks preview.
    None when the library has no schema for the kind."""
    import jsonschema
    from kubernetes_validate import utils as kv
    from referencing import Resource

    version = [v for v in kv.all_versions() if kv.major_minor(v) <= kv.major_minor(KUBERNETES_VERSION)][-1]
    schema_dir = f"kubernetes-json-schema/v{version}-local-strict"
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = kv.schema_contents(f"{schema_dir}/{kind.lower()}-{group_version}.json", KUBERNETES_VERSION)
    except FileNotFoundError:
        return None
    registry = Resource.from_contents(schema) @ _definitions_registry(schema_dir)
    return jsonschema.Draft202012Validator(schema, registry=registry)


def validate(obj: dict[str, Any]) -> list[str]:
    """Problems with one object; empty when it is valid."""
    import jsonschema

    problems: list[str] = []
    meta = obj.get("metadata") or {}
    if not meta.get("name"):
        problems.append("metadata.name is not set explicitly")
    api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
    schema = crd_schema(api_version, kind) if not _is_builtin(api_version) else None
    if schema is not None:
        validator = jsonschema.Draft7Validator(schema)
        for error in sorted(validator.iter_errors(obj), key=lambda e: list(e.path)):
            where = ".".join(str(p) for p in error.path) or "<root>"
            problems.append(f"{where}: {error.message}")
        return problems
    if not _is_builtin(api_version):
        return [*problems, f"no schema for custom resource {api_version} {kind} in {CRDS_DIR}"]
    validator = builtin_validator(api_version, kind)
    if validator is None:
        from kubernetes_validate import SchemaNotFoundError

        missing = SchemaNotFoundError(kind=kind, version=KUBERNETES_VERSION, api_version=api_version)
        return [*problems, missing.message]
    try:
        validator.validate(obj)
    except jsonschema.ValidationError as error:
        where = ".".join(str(p) for p in error.path) or "<root>"
        problems.append(f"{where}: {error.message}")
    return problems


def namespaced(obj: dict[str, Any]) -> bool:
    return obj.get("kind") not in {"Namespace", "PersistentVolume", "StorageClass", "ClusterRole",
                                   "ClusterRoleBinding", "CustomResourceDefinition", "GatewayClass",
                                   "PriorityClass", "RuntimeClass"}  # fmt: skip
