"""Run the policy pack (policy/policies.py) in-process on an offline plan, as `pulumi preview
--policy-pack policy` would on the real one: every resource policy on every resource, every stack
policy on the whole stack. `make preview` stops on a mandatory violation before writing the plan."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from pulumi_policy import EnforcementLevel

from policy import policies
from tools.engine import ProgramRun


@dataclass(frozen=True)
class Violation:
    policy: str
    mandatory: bool
    resource: str
    message: str

    def line(self) -> str:
        where = f"{self.resource}: " if self.resource else ""
        return f"policy {self.policy}: {where}{' '.join(self.message.split())}"


def _mandatory(policy: Any) -> bool:
    return policy.enforcement_level == EnforcementLevel.MANDATORY


def check(run: ProgramRun) -> list[Violation]:
    """Every violation of the plan, mandatory first."""
    resources = [r for r in run.registered() if r.custom]
    found: list[Violation] = []
    for r in resources:
        args = SimpleNamespace(resource_type=r.type, props=r.inputs, urn=r.urn, name=r.name)
        for pol in policies.RESOURCE_POLICIES:
            pol.validate(
                args,  # type: ignore[arg-type]
                lambda message, urn=None, pol=pol, r=r: found.append(Violation(pol.name, _mandatory(pol), r.name, message)),
            )  # fmt: skip
    views = {r.urn: SimpleNamespace(resource_type=r.type, props=r.inputs, urn=r.urn, name=r.name) for r in resources}
    for r in resources:
        views[r.urn].dependencies = [views[d] for d in r.dependencies if d in views]
        views[r.urn].property_dependencies = {}  # not captured offline: policies fall back to dependencies
    by_urn = {r.urn: r.name for r in resources}
    stack_args = SimpleNamespace(resources=list(views.values()))
    for pol in policies.STACK_POLICIES:
        pol.validate(
            stack_args,  # type: ignore[arg-type]
            lambda message, urn=None, pol=pol: found.append(Violation(pol.name, _mandatory(pol), by_urn.get(urn or "", ""), message)),
        )  # fmt: skip
    return sorted(found, key=lambda v: not v.mandatory)
