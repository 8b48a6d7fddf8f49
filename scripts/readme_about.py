"""Regenerate (or, with --check, verify) the README's settings sections.

The sections between ``<!-- BEGIN about:<plugin> -->`` and ``<!-- END about:<plugin> -->``
are the plugins' own ``--about --format=markdown`` output, with headings demoted
to fit under the README's headings, so the README never drifts from the code.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PLUGINS = ("tap-welkin", "target-welkin")


def about_markdown(plugin: str) -> str:
    """The plugin's --about markdown, headings demoted by two levels."""
    executable = Path(sys.executable).parent / plugin
    text = subprocess.run(
        [str(executable), "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return re.sub(r"^(#+) ", lambda m: "#" * (len(m.group(1)) + 2) + " ", text, flags=re.M)


def render(readme: str) -> str:
    """README text with every about section replaced by fresh output."""
    for plugin in PLUGINS:
        pattern = re.compile(
            rf"(<!-- BEGIN about:{plugin} -->\n).*?(<!-- END about:{plugin} -->)", re.S
        )
        body = about_markdown(plugin).strip() + "\n"
        readme, count = pattern.subn(lambda m, b=body: m.group(1) + b + m.group(2), readme)
        if count != 1:
            sys.exit(f"README.md has no about section for {plugin}")
    return readme


def main() -> None:
    """Rewrite README.md, or exit 1 with --check when it is out of date."""
    current = README.read_text()
    fresh = render(current)
    if "--check" in sys.argv:
        if fresh != current:
            sys.exit("README.md settings differ from --about: run `make readme`")
        return
    README.write_text(fresh)


if __name__ == "__main__":
    main()
