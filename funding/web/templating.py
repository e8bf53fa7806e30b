"""Jinja set-up: gettext from the request's locale, and the only filters that format money and dates."""

from __future__ import annotations

from datetime import date, datetime

from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from funding import i18n
from funding.money import Money
from funding.settings import ROOT


def money(value: Money) -> str:
    if not isinstance(value, Money):
        raise TypeError(f"the money filter takes Money, not {type(value).__name__}")
    return value.format(i18n.current_locale())


def day(value: date, style: str = "long") -> str:
    return i18n.format_day(value, style)


def moment(value: datetime, style: str = "medium") -> str:
    return i18n.format_moment(value, style)


def configure(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
    env.filters.update(money=money, day=day, moment=moment)
    env.globals.update(
        current_locale=i18n.current_locale,
        locales=i18n.LOCALES,
        locale_names=i18n.LOCALE_NAMES,
    )
    env.trim_blocks = True
    env.lstrip_blocks = True


def template_config() -> TemplateConfig:
    return TemplateConfig(
        directory=ROOT / "templates", engine=JinjaTemplateEngine, engine_callback=configure
    )
