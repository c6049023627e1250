"""Huitaine's platform adapters: each translates one platform's events to and from the core."""

# Every platform's section of the configuration file is known as soon as any adapter is
# imported: a script that builds one adapter can read a file that sets up another.
from adapters import sections as _sections  # noqa: F401
