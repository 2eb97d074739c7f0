"""Generate the `vllm` part of stacks/catalog/metrics.yaml: every Prometheus metric vLLM's engine logger
defines, read from the release's own source.

    python tools/vllm_metrics_gen.py <unpacked vllm wheel dir> > build/vllm-metrics.yaml

It reads `vllm/v1/metrics/loggers.py` (`PrometheusStatLogger`, the logger `vllm serve` exposes on
/metrics) with `ast`: each `self._gauge_cls(...)`, `self._counter_cls(...)` or `self._histogram_cls(...)`
call with a literal `name="vllm:..."` is a metric of that type, at that line. Nothing is imported, so it
runs without vLLM's dependencies. A maintainer's tool, like tools/vllm_flags_gen.py: the tests check
that the committed list belongs to the pinned image and that every query uses a name from it.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

LOGGER = "vllm/v1/metrics/loggers.py"
KINDS = {"_gauge_cls": "gauge", "_counter_cls": "counter", "_histogram_cls": "histogram"}


def metrics(source: str) -> dict[str, dict[str, object]]:
    """metric name -> {type, line} for every literal-named metric the logger creates."""
    found: dict[str, dict[str, object]] = {}
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        kind = KINDS.get(node.func.attr)
        if kind is None:
            continue
        for keyword in node.keywords:
            if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                name = keyword.value.value
                if isinstance(name, str) and name.startswith("vllm:"):
                    found[name] = {"type": kind, "line": keyword.value.lineno}
    return dict(sorted(found.items()))


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(argv[1])
    version = next(root.glob("vllm-*.dist-info")).name.removeprefix("vllm-").removesuffix(".dist-info")
    print(f'vllm:\n  version: "{version}"\n  source: {LOGGER}\n  metrics:')
    for name, row in metrics((root / LOGGER).read_text()).items():
        print(f"    {name}: {{type: {row['type']}, line: {row['line']}}}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
