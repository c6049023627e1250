"""Where the bundled data lives: the source tree, or the wheel's data packages."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent


def bundled_dir(folder: str, package: str) -> Path:
    """The folder `folder` of the source tree, or where the wheel installed it as `package`.

    The wheel installs `responses/` as `huitaine_responses` (and `examples/` likewise), names
    that cannot collide with the PyPI packages called `responses`; they have no `__init__.py`,
    so their location is read from the import spec.
    """
    source = _ROOT / folder
    if source.is_dir():
        return source
    spec = importlib.util.find_spec(package)
    for location in (spec.submodule_search_locations or []) if spec else []:
        if Path(location).is_dir():
            return Path(location)
    raise FileNotFoundError(f"bundled {folder}/ not found; reinstall Huitaine")
