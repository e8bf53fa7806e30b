"""Piccolo's configuration module (found through PICCOLO_CONF, set in `funding/__init__.py`)."""

from piccolo.conf.apps import AppRegistry

from funding.db import engine_from_env

DB = engine_from_env()

APP_REGISTRY = AppRegistry(apps=["funding.piccolo_app"])
