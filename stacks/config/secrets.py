"""The `secrets` section: credentials, each a Pulumi secret (`pulumi config set --secret`)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from stacks.config.base import Section
from stacks.config.keys import ApiKeys, bearer_key


class Secrets(Section):
    """Set with `pulumi config set --secret --path 'secrets.<name>' <value>`; never in plain text."""

    hf_token: SecretStr | None = Field(None, description="Hugging Face token, for gated models. Default: none.")
    api_key: SecretStr | None = Field(
        None,
        description="API key clients send as `Authorization: Bearer`. Default: a random 40-character key, "
        "exported as the secret stack output `apiKey`.",
    )
    api_keys: ApiKeys = Field(
        default_factory=dict,
        description="Named keys clients send to the front door as `Authorization: Bearer` (one per team or app: "
        "`pulumi config set --secret --path 'secrets.apiKeys.<name>' <key>`), checked there before a request "
        "reaches a model; vLLM's own key (`apiKey`) stays behind the door as a second layer. Default: none, "
        "the door takes `apiKey`.",
    )
    ocir_auth_token: SecretStr | None = Field(
        None,
        description="OCI auth token for the OCIR login (`oke.ocir`), for images from <key>.ocir.io. Default: none.",
    )
    s3_access_key_id: SecretStr | None = Field(
        None, description="Access key of an S3-compatible model store (`modelStore.kind: s3`). Default: none."
    )
    s3_secret_access_key: SecretStr | None = Field(
        None, description="Secret key of an S3-compatible model store (`modelStore.kind: s3`). Default: none."
    )
    kubeconfig: SecretStr | None = Field(
        None, description="kubeconfig of an existing cluster (`existing.kubeconfig: secret`). Default: none."
    )

    @field_validator("api_key")
    @classmethod
    def _api_key_strong(cls, value: SecretStr | None) -> SecretStr | None:
        # The door sends it to vLLM in its nginx config: a bearer token like the door's own keys.
        return bearer_key(value) if value is not None else None

    def s3_keys(self, instead: str) -> tuple[SecretStr, SecretStr]:
        """The S3 key pair; ValueError naming secrets.s3AccessKeyId when either is missing (`instead`: how
        else the platform gets a key)."""
        if self.s3_access_key_id is None or self.s3_secret_access_key is None:
            raise ValueError(f"secrets.s3AccessKeyId: set secrets.s3AccessKeyId and secrets.s3SecretAccessKey{instead}")
        return self.s3_access_key_id, self.s3_secret_access_key
