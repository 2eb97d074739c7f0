"""The llm-serving policy pack: only builds the PolicyPack (which serves the Pulumi engine until it
exits). The policies and their validate functions live in policies.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from policies import POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(name="llm-serving-guard-rails", enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
