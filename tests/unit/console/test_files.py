"""The console's static files: only what lies in static/ is served, each with its type."""

from __future__ import annotations

from pathlib import Path

import pytest
from sluice.console.files import (
    CHART_JS,
    REVALIDATE,
    STATIC_DIR,
    VENDOR_CACHE,
    index_page,
    missing_vendor_files,
    resolve,
    static_file,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    static = tmp_path / "static"
    (static / "pages").mkdir(parents=True)
    (static / "vendor").mkdir()
    (static / "index.html").write_text('<base href="__BASE_HREF__"><p>console</p>')
    (static / "app.js").write_text("export {};\n")
    (static / "pages" / "datasets.js").write_text("export {};\n")
    (static / "vendor" / "chart.umd.min.js").write_text("/* chart */\n")
    (static / "notes.txt").write_text("not a console file kind")
    (static / ".hidden.js").write_text("secret")
    (tmp_path / "secret.js").write_text("outside")
    (static / "escape.js").symlink_to(tmp_path / "secret.js")
    return static


def test_files_and_files_one_folder_down_resolve(root: Path) -> None:
    assert resolve("app.js", root) == (root / "app.js").resolve()
    assert resolve("pages/datasets.js", root) == (root / "pages/datasets.js").resolve()


@pytest.mark.parametrize(
    "path",
    [
        "",
        "..",
        "../secret.js",
        "pages/../../secret.js",
        "pages/../app.js",  # even one that would land inside: no dot segments at all
        "./app.js",
        "/etc/passwd",
        "pages//datasets.js",
        "pages\\datasets.js",
        "C:app.js",
        "%2e%2e/secret.js",
        ".hidden.js",
        "escape.js",  # a symlink whose target lies outside
        "pages",  # a folder
        "missing.js",
        "notes.txt",  # a kind of file the console does not serve
        "app.js\x00.css",
    ],
)
def test_anything_else_resolves_to_nothing(root: Path, path: str) -> None:
    assert resolve(path, root) is None


def test_each_kind_of_file_has_its_content_type_and_caching(root: Path) -> None:
    script = static_file("app.js", root)
    vendored = static_file("vendor/chart.umd.min.js", root)
    assert script is not None and vendored is not None
    assert (script.content_type, script.cache_control) == (
        "text/javascript; charset=utf-8",
        REVALIDATE,
    )
    assert (vendored.content_type, vendored.cache_control) == (
        "text/javascript; charset=utf-8",
        VENDOR_CACHE,
    )
    assert script.etag.startswith('"') and script.etag.endswith('"') and len(script.etag) == 34


def test_the_index_names_where_the_api_is_mounted(root: Path) -> None:
    page = index_page("/v1/", root)
    assert page.body == '<base href="/v1/"><p>console</p>'
    assert page.content_type == "text/html; charset=utf-8"
    assert index_page('/a"b/', root).body.startswith('<base href="/a&quot;b/">')


def test_missing_vendored_files_are_named(root: Path) -> None:
    assert missing_vendor_files(root) == []
    (root / CHART_JS).unlink()
    assert missing_vendor_files(root) == [CHART_JS]


def test_the_shipped_console_has_a_page_per_concern_and_its_chart_library() -> None:
    # make install vendors Chart.js; every module the router imports is in the package.
    assert missing_vendor_files() == []
    modules = {p.relative_to(STATIC_DIR).as_posix() for p in STATIC_DIR.rglob("*.js")}
    assert {
        "app.js",
        "api.js",
        "ui.js",
        "charts.js",
        "upload.js",
        "pages/signin.js",
        "pages/datasets.js",
        "pages/dataset.js",
        "pages/upload.js",
        "pages/tasks.js",
        "pages/sessions.js",
        "pages/wizard.js",
        "pages/networks.js",
        CHART_JS,
    } <= modules
    for relative in modules:
        assert static_file(relative) is not None, relative
