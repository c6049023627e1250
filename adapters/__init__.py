"""Huitaine's platform adapters: each translates one platform's events to and from the core."""
