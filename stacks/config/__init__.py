"""The stack config: one validated pydantic tree, read from `Pulumi.<stack>.yaml`.

No imports here on purpose: modules import each other by full name (`stacks.config.base`), so
loading one never pulls in the whole package (and the import-cycle test sees the real edges).
"""
