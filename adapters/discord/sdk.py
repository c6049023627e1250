"""discord.py, imported in one place, without the `audioop` deprecation it triggers.

discord.py imports `audioop` for voice, which Python 3.11 and 3.12 deprecate with a warning at
import time; Huitaine uses no voice, and a test run with warnings as errors would fail on it.
Every module of this adapter imports discord.py from here.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord
    from discord import app_commands

# Huitaine never joins voice: "PyNaCl / davey is not installed" warnings would only alarm users.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False

__all__ = ["app_commands", "discord"]
