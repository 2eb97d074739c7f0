"""List the HTTP routes a vLLM release registers, from its source, as data the entry-point tests use.

    python -m tools.vllm_routes <unpacked vllm wheel> <wheel file name> <wheel sha256> > tests/data/vllm-routes.yaml

The OpenAI server's app is assembled in vllm/entrypoints/launchers/app.py (build_app) from routers
spread over vllm/entrypoints/**: FastAPI decorators (`@router.post("/path")`), `add_api_route`,
websocket routes and Starlette `Mount`s (/metrics). Which routers a given server includes depends on
flags, env (VLLM_SERVER_DEV_MODE) and the model's tasks, so this lists every route in the source — a
superset of what one server exposes, which is what a deny-by-default test wants. Two files are
separate servers on their own ports and are left out: launchers/dp_supervisor.py (the data-parallel
supervisor's health port) and cli/preload.py.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import yaml

_METHOD_DECORATORS = {"get", "post", "put", "delete", "patch", "head", "options"}
_OTHER_SERVERS = {"launchers/dp_supervisor.py", "cli/preload.py"}
# FastAPI(lifespan=...) as build_app creates it by default adds these (fastapi/applications.py:
# openapi_url="/openapi.json", docs_url="/docs", redoc_url="/redoc", swagger_ui_oauth2_redirect_url).
FASTAPI_DEFAULT_ROUTES = [
    ("/openapi.json", ["GET"]),
    ("/docs", ["GET"]),
    ("/docs/oauth2-redirect", ["GET"]),
    ("/redoc", ["GET"]),
]


def _literal_path(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("/"):
        return node.value
    return None


def routes_in(source: str) -> list[tuple[str, list[str], int]]:
    """(path, methods, line) of every literal route registration in one module."""
    found: list[tuple[str, list[str], int]] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        path = _literal_path(node.args[0] if node.args else None)
        if path is None:
            continue
        if name in _METHOD_DECORATORS:
            found.append((path, [name.upper()], node.lineno))
        elif name in {"api_route", "add_api_route"}:
            methods = next((kw.value for kw in node.keywords if kw.arg == "methods"), None)
            listed = (
                [str(e.value) for e in methods.elts if isinstance(e, ast.Constant)]
                if isinstance(methods, ast.List)
                else []
            )
            found.append((path, sorted(listed) or ["GET"], node.lineno))
        elif name in {"websocket", "add_websocket_route", "websocket_route"}:
            found.append((path, ["WEBSOCKET"], node.lineno))
        elif name in {"Mount", "mount"}:
            found.append((path, ["ANY"], node.lineno))
    return found


def collect(root: Path) -> list[dict[str, object]]:
    entrypoints = root / "vllm" / "entrypoints"
    merged: dict[str, dict[str, object]] = {}
    for file in sorted(entrypoints.rglob("*.py")):
        relative = file.relative_to(entrypoints).as_posix()
        if relative in _OTHER_SERVERS or "/tests/" in f"/{relative}":
            continue
        for path, methods, line in routes_in(file.read_text()):
            row = merged.setdefault(path, {"path": path, "methods": [], "sources": []})
            row["methods"] = sorted({*row["methods"], *methods})  # type: ignore[misc]
            row["sources"].append(f"vllm/entrypoints/{relative}:{line}")  # type: ignore[union-attr]
    for path, methods in FASTAPI_DEFAULT_ROUTES:
        merged.setdefault(path, {"path": path, "methods": methods, "sources": ["fastapi default (build_app)"]})
    return sorted(merged.values(), key=lambda r: str(r["path"]))


def main(argv: list[str]) -> None:
    root, wheel, sha256 = Path(argv[0]), argv[1], argv[2]
    document = {
        "vllm_version": wheel.split("-")[1],
        "source": f"{wheel} (sha256 {sha256}) from PyPI, unpacked; extracted by tools/vllm_routes.py",
        "auth_guarded_prefixes": _guarded_prefixes(root),
        "routes": collect(root),
    }
    yaml.safe_dump(document, sys.stdout, sort_keys=False, width=120)


def _guarded_prefixes(root: Path) -> list[str]:
    """GUARDED_PREFIX of vLLM's AuthenticationMiddleware: the only paths --api-key protects."""
    tree = ast.parse((root / "vllm/entrypoints/serve/middleware/authenticate.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "GUARDED_PREFIX" for t in node.targets
        ):
            return list(ast.literal_eval(node.value))
    raise SystemExit("GUARDED_PREFIX not found")


if __name__ == "__main__":
    main(sys.argv[1:])
