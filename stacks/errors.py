"""The one error type a user sees for a config mistake."""

from __future__ import annotations

import pulumi


class ConfigError(pulumi.RunError):
    """A stack-config mistake, raised before any resource is registered.

    It derives from `pulumi.RunError`, which the Pulumi language host prints as a single message
    and exits non-zero without a traceback.
    """

    def __init__(self, key: str, problem: str):
        self.key = key
        self.problem = problem
        super().__init__(f"invalid stack config: {key}: {problem}")
