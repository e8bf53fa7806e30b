"""The site's files under /static: a path that names no file is a 404, however odd it is."""

from __future__ import annotations

from typing import Any

from litestar.file_system import BaseLocalFileSystem
from litestar.router import Router
from litestar.static_files import create_static_files_router
from litestar.types.file_types import FileInfo

from funding.settings import ROOT


class FilesOnly(BaseLocalFileSystem):
    """The local file system, where a path that cannot name a file is simply not found.

    Litestar's adapter turns any `OSError` but "not found" into a 500, and lets `ValueError`
    through: `/static/site.css/x` (a file used as a folder) and `/static/%00` (a NUL, which no
    path may hold) were both 500s.
    """

    async def info(self, path: Any, **kwargs: Any) -> FileInfo:
        try:
            return await super().info(path, **kwargs)
        except (FileNotFoundError, PermissionError):
            raise  # a missing file; an unreadable one is a deploy mistake and stays a 500
        except (OSError, ValueError) as exc:  # not a directory, name too long, NUL, loops
            raise FileNotFoundError(str(path)) from exc


def static_files_router() -> Router:
    return create_static_files_router(
        path="/static", directories=[ROOT / "static"], name="static", file_system=FilesOnly()
    )
