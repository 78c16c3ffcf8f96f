"""Embedded default models with their licence notices."""
