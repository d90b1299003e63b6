"""mkdocs hook: the site's front page is the README (one text, never two that drift apart).

`docs/index.md` is a placeholder; at build time its content is replaced by `README.md` with the
links rewritten from the repository root to the docs folder (`docs/engine.md` -> `engine.md`,
`benchmarks/RESULTS.md` -> `benchmarks.md`, which includes that file).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def readme_as_index() -> str:
    """README.md with its links made relative to docs/."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    text = re.sub(r"\]\(docs/", "](", text)
    return text.replace("](benchmarks/RESULTS.md)", "](benchmarks.md)")


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    if page.file.src_uri == "index.md":
        return readme_as_index()
    return markdown
