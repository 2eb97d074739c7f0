"""Typed Pulumi ComponentResources. Each knows one concern; stacks/ composes them from config."""

from components.sdk_import import defer_kubernetes_packages

# pulumi_kubernetes then loads only the resource modules the program names (components/sdk_import.py).
defer_kubernetes_packages()
