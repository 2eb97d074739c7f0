"""Generate the config reference (Markdown tables) from the pydantic config tree's field descriptions.

python -m tools.config_reference            # print
python -m tools.config_reference --write    # refresh the README section between the markers
"""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from stacks.config.stack import PLATFORM_DESCRIPTION, PLATFORMS, PROJECT, StackBase

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- config-reference:start -->", "<!-- config-reference:end -->"


def _models_in(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _type_name(annotation: object) -> str:
    if annotation is type(None):
        return "null"
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " \\| ".join(repr(a).replace("'", "`") for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if origin is list:
        return f"list of {_type_name(typing.get_args(annotation)[0])}"
    if origin is dict:
        return f"map of name to {_type_name(typing.get_args(annotation)[1])}"
    if isinstance(annotation, type):
        return {"str": "string", "int": "integer", "float": "number", "bool": "boolean",
                "SecretStr": "secret string"}.get(annotation.__name__, "object")  # fmt: skip
    return str(annotation)


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        if _models_in(field.annotation):
            return "(see below)"
        value = field.default_factory()  # type: ignore[call-arg]
        if isinstance(value, dict):
            return "`{}`"
        return f"`[{', '.join(str(v) for v in value)}]`"
    if field.default is PydanticUndefined:
        return "required"
    if isinstance(field.default, bool):
        return f"`{str(field.default).lower()}`"
    return "—" if field.default is None else f"`{field.default}`"


def _rows(model: type[BaseModel], prefix: str) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{field.alias or name}"
        nested = _models_in(field.annotation)
        description = " ".join((field.description or "").split()).replace("|", "\\|")
        if nested and not field.description and len(nested) == 1:
            rows += _rows(nested[0], f"{key}.")
            continue
        rows.append(
            f"| `{key}` | {_type_name(field.annotation) if not nested else 'object'} | {_default(field)} | {description} |"
        )
        for sub in nested:
            rows += _rows(sub, f"{key}.")
    return rows


def _section_rows(key: str, field: FieldInfo) -> list[str]:
    return [row for model in _models_in(field.annotation) for row in _rows(model, f"{key}.")]


def reference() -> str:
    header = ["| key | type | default | description |", "| --- | --- | --- | --- |"]
    out = [f"All keys live in the `{PROJECT}:` namespace of `Pulumi.<stack>.yaml` and are camelCase.", ""]
    out += ["#### Shared by every stack", "", *header]
    platforms = " \\| ".join(f"`{p}`" for p in PLATFORMS)
    out.append(f"| `platform` | {platforms} | required | {PLATFORM_DESCRIPTION} |")
    for name, field in StackBase.model_fields.items():
        alias = field.alias or name
        nested = _models_in(field.annotation)
        if nested:
            for model in nested:
                out += _rows(model, f"{alias}.")
        else:
            out.append(
                f"| `{alias}` | {_type_name(field.annotation)} | {_default(field)} | {' '.join((field.description or '').split())} |"
            )
    shown: dict[str, str] = {}  # a section two platforms read is listed once, under the first
    for platform, variant in sorted(PLATFORMS.items()):
        out += ["", f"#### Platform `{platform}`", "", " ".join((variant.__doc__ or "").split()), ""]
        fields = [(k, f) for k, f in variant.sections()]
        if "model_store" in variant.model_fields:
            fields.append(("modelStore", variant.model_fields["model_store"]))
        rows, also = [], []
        for key, field in fields:
            kinds = ",".join(m.__name__ for m in _models_in(field.annotation))
            if shown.get(key) == kinds:
                also.append(f"`{key}`")
                continue
            shown.setdefault(key, kinds)
            description = " ".join((field.description or "").split()).replace("|", "\\|")
            default = "(see below)" if field.is_required() else _default(field)  # absent: read as `{}`
            rows.append(f"| `{key}` | object | {default} | {description} |")
            rows += _section_rows(key, field)
        if also:
            out += [f"Also reads {', '.join(also)}, as listed above.", ""]
        out += [*header, *rows]
    return "\n".join(out) + "\n"


def write_readme() -> bool:
    text = README.read_text()
    start, end = text.index(START) + len(START), text.index(END)
    new = text[:start] + "\n" + reference() + text[end:]
    changed = new != text
    README.write_text(new)
    return changed


if __name__ == "__main__":
    if "--write" in sys.argv:
        print("README updated" if write_readme() else "README already up to date")
    else:
        print(reference())
