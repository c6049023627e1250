"""Render an HTML report in headless Chromium and check that its charts are visible.

  python scripts/screenshot_report.py report.html report.png

Needs Debian's `chromium` (apt-get install chromium). Exits non-zero when the screenshot
shows no chart colours, i.e. the images did not render.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from matplotlib import image

# The report's chart colours (questions, complaints, fast answers, moderators' load).
CHART_COLOURS = {
    "#4c78a8": "questions",
    "#e45756": "complaints",
    "#54a24b": "fast answers",
    "#72b7b2": "load",
}
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def colour_pixels(png: Path) -> dict[str, int]:
    """How many pixels of each chart colour the screenshot holds."""
    pixels = (image.imread(png)[:, :, :3] * 255).round().astype(int)
    counts = {}
    for hex_colour, name in CHART_COLOURS.items():
        rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
        counts[name] = int((np.abs(pixels - rgb).sum(axis=2) <= 6).sum())
    return counts


def main() -> int:
    """Take the screenshot and check it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("html", type=Path)
    parser.add_argument("png", type=Path)
    args = parser.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                browser,
                *FLAGS,
                f"--user-data-dir={profile}",
                "--window-size=1100,2600",
                f"--screenshot={args.png.resolve()}",
                args.html.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    counts = colour_pixels(args.png)
    print(", ".join(f"{name}: {n} px" for name, n in counts.items()))
    missing = [name for name, n in counts.items() if n < 500]
    if missing:
        print(f"charts missing from the screenshot: {', '.join(missing)}", file=sys.stderr)
        return 1
    print(f"all charts visible in {args.png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
