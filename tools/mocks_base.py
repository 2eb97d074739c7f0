"""Shared plumbing and value shapes for the realistic mocks: the from the mocked clouds: the shapes of real ids, kubeconfigs, NFS hosts and
lookups, so the program runs exactly as it would against a provider, minus the cloud."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pulumi

# A kubeconfig as DOKS and OKE return it (the offline preview never connects to it).
_KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCm9mZmxpbmUKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=
    server: https://{host}
  name: {name}
contexts:
- context:
    cluster: {name}
    user: {name}-admin
  name: {name}
current-context: {name}
users:
- name: {name}-admin
  user:
    token: offline-mock-token
"""


class InvokeFailure(Exception):
    """Raised by a mock invoke handler for a lookup the cloud refuses (e.g. a 404)."""

    def __init__(self, property: str, reason: str):
        super().__init__(reason)
        self.property = property
        self.reason = reason


def stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def ocid(kind: str, name: str, region_key: str = "iad") -> str:
    """An OCID in Oracle's documented format: ocid1.<type>.oc1.<region>.<unique>."""
    unique = hashlib.sha256(f"{kind}/{name}".encode()).hexdigest()[:60]
    return f"ocid1.{kind}.oc1.{region_key}.aaaaaaaa{unique}"


def kubeconfig(name: str, host: str) -> str:
    return _KUBECONFIG.format(name=name, host=host)


class MockBase(pulumi.runtime.Mocks):
    """Echo inputs as state and add what each provider computes.

    A handler for a resource type token `pkg:mod/x:X` is a method named `_pkg_mod_x_X` returning
    (id, extra state); a handler for an invoke `pkg:mod/getX:getX` is `_call_getX` returning the
    result in wire (camelCase) form. Provider mixins (tools/mocks_*.py) hold them.
    """

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        handler = getattr(self, "_" + args.typ.replace(":", "_").replace("/", "_").replace(".", "_"), None)
        if handler is not None:
            resource_id, extra = handler(args.name, state)
        else:
            resource_id, extra = self._default_id(args), {}
        state.update(extra)
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        handler = getattr(self, "_call_" + args.token.split(":")[-1], None)
        try:
            return (handler(args.args) if handler is not None else {}), []
        except InvokeFailure as failure:
            # How a provider reports a failed data source: the program's invoke raises with this reason.
            return {}, [(failure.property, failure.reason)]

    @staticmethod
    def _default_id(args: pulumi.runtime.MockResourceArgs) -> str:
        if args.typ.startswith("kubernetes:"):
            return args.name
        return stable_uuid(args.typ, args.name)
