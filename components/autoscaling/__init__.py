"""Replica autoscaling with KEDA (a ScaledObject per served model, the optional KEDA chart)."""
