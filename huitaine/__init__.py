"""The `huitaine` command: the command line and the wiring of platforms, outside the core.

The core (`bot`) imports no adapter and no platform SDK; this package is where the command line
chooses adapters, importers and the console, and hands them the core.
"""
