"""Per-platform composition: a validated config in, components wired together."""
