"""`secrets.apiKeys`: named keys for the front door, each a strong bearer token, each a secret of its own.
(tests/test_router.py shows the door letting exactly these keys in.)"""

from __future__ import annotations

import pytest

from stacks.config.source import check_stack_config
from stacks.errors import ConfigError
from tests.harness import config_error, preview

STRONG = "9f2c4e1ab7d03e58c6a1f0b2d4e6a8c0"


@pytest.mark.parametrize(
    ("keys", "key", "hint"),
    [
        ({"team-a": "short"}, "secrets.apiKeys.team-a", "too weak"),
        ({"team-a": STRONG, "team-b": "abcabcabcabcabcabcabcabc"}, "secrets.apiKeys.team-b", "too weak"),
        ({"team-a": STRONG + '"; allow'}, "secrets.apiKeys.team-a", "whitespace"),
        ({"team-a": STRONG + "$host"}, "secrets.apiKeys.team-a", "bearer token"),
        ({"Team_A": STRONG}, "secrets.apiKeys", "key name 'Team_A' must be lowercase letters"),
    ],
    ids=lambda v: str(v)[:30],
)
def test_a_bad_door_key_names_its_key_and_never_shows_it(keys, key, hint):
    message = config_error(preview("doks", secrets={"secrets": {"apiKeys": keys}}))
    assert message.startswith(f"invalid stack config: llm-serving:{key}: "), message
    assert hint in message
    assert all(value not in message for value in keys.values())


def test_vllms_own_key_must_be_a_bearer_token_too():
    # The door writes it into its nginx config as the header vLLM gets.
    message = config_error(preview("doks", secrets={"secrets": {"apiKey": STRONG + "$x"}}))
    assert message.startswith("invalid stack config: llm-serving:secrets.apiKey: ") and "bearer token" in message


def test_each_door_key_is_a_secure_value_of_its_own():
    secure = {"secure": "v1:ciphertext"}
    check_stack_config({"llm-serving:secrets": {"apiKeys": {"team-a": secure, "team-b": secure}}}, "llm-serving")
    with pytest.raises(ConfigError) as raised:
        check_stack_config({"llm-serving:secrets": {"apiKeys": {"team-a": secure, "team-b": STRONG}}}, "llm-serving")
    assert raised.value.key == "llm-serving:secrets.apiKeys.team-b" and STRONG not in str(raised.value)
    assert "pulumi config set --secret --path 'secrets.apiKeys.team-b'" in str(raised.value)
