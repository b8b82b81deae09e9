"""The console's static files, looked up by the path a request names.

Nothing outside ``static/`` can be named: a path is a list of plain segments (no ``..``,
no hidden names, no backslashes or drive letters), its resolved file must still lie under
``static/`` (so no symlink leads out), and only the kinds of file the console is made of
are served, each with its content type.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
INDEX = "index.html"
VENDOR = "vendor"
CHART_JS = f"{VENDOR}/chart.umd.min.js"
"""Chart.js's UMD build, copied from node_modules by the Makefile (git-ignored)."""

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
"""Every kind of file the console has: all text, so no answer needs base64 (API Gateway
passes text bodies through without a binary media type configured)."""

# Our own modules change with each deploy under the same names: the browser revalidates
# them (an ETag makes that a 304). The vendored library only changes with its pinned
# version, so it may be kept for a day.
REVALIDATE = "no-cache"
VENDOR_CACHE = "public, max-age=86400"

_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class StaticFile:
    """One file as the console serves it."""

    path: str
    body: str
    content_type: str
    cache_control: str

    @property
    def etag(self) -> str:
        """A strong validator of the body (quoted, as HTTP wants it)."""
        return '"' + hashlib.sha256(self.body.encode()).hexdigest()[:32] + '"'


def resolve(relative: str, root: Path = STATIC_DIR) -> Path | None:
    """The file under ``root`` that ``relative`` (``app.js``, ``pages/dataset.js``) names,
    or None when it names nothing servable: a missing file, a folder, a kind of file not
    in ``CONTENT_TYPES``, or any way out of ``root``."""
    segments = relative.split("/")
    if not relative or not all(_SEGMENT.match(segment) for segment in segments):
        return None  # "", "a//b", "..", ".hidden", "a\\b", "C:x", "%2e%2e" all stop here
    base = root.resolve()
    candidate = base.joinpath(*segments).resolve()
    if not candidate.is_relative_to(base) or not candidate.is_file():
        return None
    if candidate.suffix not in CONTENT_TYPES:
        return None
    return candidate


@lru_cache(maxsize=64)
def _load(relative: str, root: Path) -> StaticFile | None:
    found = resolve(relative, root)
    if found is None:
        return None
    cache = VENDOR_CACHE if relative.startswith(f"{VENDOR}/") else REVALIDATE
    return StaticFile(relative, found.read_text("utf-8"), CONTENT_TYPES[found.suffix], cache)


def static_file(relative: str, root: Path = STATIC_DIR) -> StaticFile | None:
    """``relative``'s file read for serving (kept in memory: a warm Lambda reads each
    once), or None when it names nothing servable (see :func:`resolve`)."""
    return _load(relative, root)


def index_page(base_href: str, root: Path = STATIC_DIR) -> StaticFile:
    """``index.html`` with its ``<base href>`` set to where the API is mounted (``/`` on
    ``sluice local``, ``/v1/`` behind API Gateway's stage), so that the page's relative
    links and API calls go to the right place whichever URL opened it."""
    page = static_file(INDEX, root)
    if page is None:
        raise FileNotFoundError(f"the console's {INDEX} is missing from {root}")
    body = page.body.replace("__BASE_HREF__", _attribute(base_href), 1)
    return StaticFile(INDEX, body, page.content_type, REVALIDATE)


def _attribute(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def missing_vendor_files(root: Path = STATIC_DIR) -> list[str]:
    """The vendored files the console needs that are not there (``make install`` copies
    them from node_modules); the CDK stack refuses to synthesise without them."""
    return [name for name in (CHART_JS,) if not (root / name).is_file()]
