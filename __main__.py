"""Pulumi entry point: dispatch to the stack's platform. All logic lives in stacks/ and components/."""

import stacks

stacks.run()
