"""Names the whole program shares, defined once: components, stacks/ and tools/ import them from here."""

from __future__ import annotations

PROJECT = "llm-serving"
"""The Pulumi project (Pulumi.yaml `name`): the config namespace and the prefix of every component type."""

LABEL_PREFIX = "llm-serving.dev"
"""Prefix of the labels and annotations this program sets on Kubernetes objects."""

POOL_LABEL = f"{LABEL_PREFIX}/pool"
"""Node label naming the pool a node belongs to (`system`, `gpu`): what pods select nodes on."""

GPU_RESOURCE = "nvidia.com/gpu"
"""The extended resource NVIDIA's device plugin advertises (NVIDIA/k8s-device-plugin README.md)."""

GPU_TAINT_KEY = "nvidia.com/gpu"
"""The taint GPU nodes carry so only pods tolerating it land there. DOKS taints NVIDIA GPU nodes with
nvidia.com/gpu:NoSchedule itself (https://llm-d.ai/docs/infrastructure/providers/digitalocean); the OKE
pools here register the same key, so one toleration fits every platform."""

DEFAULT_UID = 1000
"""The fixed non-root UID/GID/fsGroup of every pod, unless the platform assigns one (OpenShift's SCCs)."""
