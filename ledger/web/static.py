"""The web app's assets, served by the app itself from the pinned npm packages of
`ledger/web/assets/` (installed by scripts/install.sh) and this package's own files."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

HERE = Path(__file__).resolve().parent
MODULES = HERE / "assets" / "node_modules"
# URL prefix -> folder; nothing outside these folders is served
FOLDERS = {
    "/static/app": HERE / "static",
    "/static/nlds": MODULES / "@rijkshuisstijl-community" / "components-css" / "dist",
    "/static/tokens": MODULES / "@rijkshuisstijl-community" / "design-tokens" / "dist",
    "/static/chart": MODULES / "chart.js" / "dist",
    "/static/swagger": MODULES / "swagger-ui-dist",
}


def mount(app: FastAPI) -> None:
    """Serve every asset folder under its prefix; one not installed is left out (its files answer 404)."""
    for prefix, folder in FOLDERS.items():
        if folder.is_dir():
            app.mount(prefix, StaticFiles(directory=folder), name=prefix.strip("/").replace("/", "-"))
