"""Typed Pulumi ComponentResources. Each knows one concern; stacks/ composes them from config."""
