"""Metrics, dashboards and alerts for the serving workloads (Prometheus Operator custom resources,
Grafana dashboards as ConfigMaps, a DCGM exporter for GPU metrics, an optional kube-prometheus-stack)."""
