"""Typed Pulumi ComponentResources. Each knows one concern; stacks/ composes them from config."""

from components.sdk_import import defer_sdk_packages

# pulumi_kubernetes and pulumi_oci then load only the resource modules the program names
# (components/sdk_import.py).
defer_sdk_packages()
