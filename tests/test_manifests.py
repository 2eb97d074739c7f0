"""Every Kubernetes object of every stack is what a real API server would accept."""

from __future__ import annotations

import pytest

from tests.harness import STACKS, default_run, k8s_objects
from tools import manifests


def objects_of_all_stacks() -> list:
    # Sorted: resources register asynchronously, and pytest-xdist workers must collect the same list.
    found = {f"{stack}:{manifests.file_name(obj)}": obj for stack in STACKS for obj in k8s_objects(default_run(stack))}
    return [pytest.param(found[key], id=key) for key in sorted(found)]


@pytest.mark.parametrize("obj", objects_of_all_stacks())
def test_object_is_schema_valid(obj):
    assert manifests.validate(obj) == []


@pytest.mark.parametrize("obj", objects_of_all_stacks())
def test_object_names_itself_and_its_namespace(obj):
    meta = obj["metadata"]
    assert meta.get("name")
    assert bool(meta.get("namespace")) == manifests.namespaced(obj), "namespaced kinds carry their namespace"


def test_validator_catches_a_snake_case_field_and_a_bad_custom_resource():
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x", "namespace": "y"},
               "spec": {"ports": [{"port": 80, "target_port": 8000}]}}  # fmt: skip
    assert manifests.validate(service), "strict validation rejects fields that never reached camelCase"
    gateway = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
               "metadata": {"name": "g", "namespace": "y"}, "spec": {"listeners": []}}  # fmt: skip
    assert any("gatewayClassName" in p for p in manifests.validate(gateway))


def test_cached_builtin_validation_reports_what_kubernetes_validate_reports():
    # tools.manifests builds kubernetes-validate's strict validator once per kind (speed); the verdict
    # and message must stay the library's own, for valid objects, bad ones and unknown kinds.
    import copy

    import kubernetes_validate

    deployment = next(o for o in k8s_objects(default_run("doks")) if o["kind"] == "Deployment")
    wrong_type, unknown_field, missing = (copy.deepcopy(deployment) for _ in range(3))
    wrong_type["spec"]["replicas"] = "two"
    unknown_field["spec"]["template"]["spec"]["containers"][0]["image_pull_policy"] = "Always"
    del missing["spec"]["selector"]
    unknown_kind = {"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "w"}}
    for obj in (deployment, wrong_type, unknown_field, missing, unknown_kind):
        try:
            kubernetes_validate.validate(obj, manifests.KUBERNETES_VERSION, strict=True)
            expected = []
        except kubernetes_validate.ValidationError as error:
            expected = [f"{'.'.join(str(p) for p in error.path) or '<root>'}: {error.message}"]
        except kubernetes_validate.SchemaNotFoundError as error:
            expected = [error.message]
        assert manifests.validate(obj) == expected
    assert len({tuple(manifests.validate(o)) for o in (wrong_type, unknown_field, missing, unknown_kind)}) == 4
