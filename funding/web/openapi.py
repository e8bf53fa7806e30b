"""The OpenAPI viewer at /schema: Swagger UI, served by the app itself.

Its scripts and styles come from the `swagger-ui-py` package (Swagger UI 5, which reads the
OpenAPI 3.1 that Litestar writes), not from a CDN, and it starts from a script file
(static/openapi.js) rather than inline code, so /schema runs under the same strict Content
Security Policy as every other page (see `funding.web.security`).
"""

from __future__ import annotations

import importlib.resources
from html import escape
from pathlib import Path
from typing import Annotated, Any

from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.params import PathParameter
from litestar.response import File
from litestar.router import Router

# A path on disk, as File wants (the package is installed as files, not zipped).
SWAGGER_UI = Path(str(importlib.resources.files("swagger_ui") / "static"))

ASSETS = {
    "swagger-ui.css": SWAGGER_UI / "swagger-ui.css",
    "swagger-ui-bundle.js": SWAGGER_UI / "swagger-ui-bundle.js",
}
"""The only files /schema/assets/ serves: the package's folder also holds an editor and demo pages."""


@get("/assets/{asset:str}", name="openapi-asset", include_in_schema=False, cache=False, sync_to_thread=False)
def openapi_asset(asset: Annotated[str, PathParameter()]) -> File:
    if asset not in ASSETS:
        raise NotFoundException()
    return File(ASSETS[asset], filename=asset, content_disposition_type="inline")


class SwaggerUI(OpenAPIRenderPlugin):
    """Swagger UI at /schema and /schema/swagger, its two files at /schema/assets/."""

    def __init__(self) -> None:
        super().__init__(path="/swagger")

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        def asset(name: str) -> str:
            return escape(request.app.route_reverse("openapi-asset", asset=name))

        title = escape(openapi_schema["info"]["title"])
        return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{asset("swagger-ui.css")}">
</head>
<body>
<div id="swagger-ui" data-url="{escape(self.get_openapi_json_route(request))}"></div>
<script src="{asset("swagger-ui-bundle.js")}"></script>
<script src="{escape(request.app.route_reverse("static", file_path="openapi.js"))}"></script>
</body>
</html>
""".encode()

    def receive_router(self, router: Router) -> None:
        router.register(openapi_asset)
