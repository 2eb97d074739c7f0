"""Offline tooling: the mock engine that runs the real program, the preview CLI and its checks."""
