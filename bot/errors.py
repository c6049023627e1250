"""One root for every error Huitaine raises on purpose, with what a user can fix set apart.

The command line prints a `UserError` as one line ("key, problem, fix") and exits 2; anything
else that escapes is a bug and is reported as one, with its traceback, never dressed up as a
configuration mistake.
"""

from __future__ import annotations


class HuitaineError(Exception):
    """Raised on purpose by Huitaine (as opposed to a bug)."""


class UserError(HuitaineError):
    """Something the user can fix: a setting, an input file, a token; the message says how."""
