"""Kubernetes objects from a captured plan: render them as files and judge them against the real
schemas (kubernetes-validate --strict for built-in kinds, the upstream CRDs for custom ones)."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from tools.engine import ProgramRun

KUBERNETES_VERSION = "1.33"
REPO = Path(__file__).resolve().parent.parent
CRDS_DIR = Path(os.environ.get("LLM_SERVING_CRDS_DIR", REPO.parent / "shared" / "crds"))


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


@functools.cache
def _crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path in sorted(CRDS_DIR.glob("*.yaml")):
        for doc in yaml.load_all(path.read_text(), Loader=loader):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            for version in spec["versions"]:
                api_version = f"{spec['group']}/{version['name']}"
                schemas[(api_version, spec["names"]["kind"])] = version["schema"]["openAPIV3Schema"]
    return schemas


def _is_builtin(api_version: str) -> bool:
    group = api_version.split("/")[0] if "/" in api_version else ""
    return group == "" or "." not in group or (group.endswith(".k8s.io") and not group.startswith("gateway."))


def validate(obj: dict[str, Any]) -> list[str]:
    """Problems with one object; empty when it is valid."""
    import jsonschema
    import kubernetes_validate

    problems: list[str] = []
    meta = obj.get("metadata") or {}
    if not meta.get("name"):
        problems.append("metadata.name is not set explicitly")
    api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
    schema = _crd_schemas().get((api_version, kind))
    if schema is not None:
        validator = jsonschema.Draft7Validator(schema)
        for error in sorted(validator.iter_errors(obj), key=lambda e: list(e.path)):
            where = ".".join(str(p) for p in error.path) or "<root>"
            problems.append(f"{where}: {error.message}")
        return problems
    if not _is_builtin(api_version):
        return [*problems, f"no schema for custom resource {api_version} {kind} in {CRDS_DIR}"]
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = ".".join(str(p) for p in error.path) or "<root>"
        problems.append(f"{where}: {error.message}")
    except kubernetes_validate.SchemaNotFoundError as error:
        problems.append(error.message)
    return problems


def namespaced(obj: dict[str, Any]) -> bool:
    return obj.get("kind") not in {"Namespace", "PersistentVolume", "StorageClass", "ClusterRole",
                                   "ClusterRoleBinding", "CustomResourceDefinition", "GatewayClass",
                                   "PriorityClass", "RuntimeClass"}  # fmt: skip
