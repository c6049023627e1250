"""Huitaine: the core of a community assistant that never answers on its own."""

__version__ = "0.1.0"
