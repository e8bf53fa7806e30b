"""Jinja set-up: gettext from the request's locale, and the only filters that format money and dates."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, pass_context
from litestar import Request
from litestar.handlers import HTTPRouteHandler
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from markupsafe import Markup

from funding import i18n
from funding.ledger.chain import EntryRecord
from funding.money import Money
from funding.settings import ROOT
from funding.web.cache import query_names


def money(value: Money) -> str:
    if not isinstance(value, Money):
        raise TypeError(f"the money filter takes Money, not {type(value).__name__}")
    return value.format(i18n.current_locale())


def day(value: date, style: str = "long") -> str:
    return i18n.format_day(value, style)


def moment(value: datetime, style: str = "medium") -> str:
    return i18n.format_moment(value, style)


class Fragments:
    """Each item's HTML, rendered once per language and kept while the item is the same, so a
    page of many rows costs its queries plus a join. Journal entries are keyed by their hash (they
    never change); a frozen row by itself, so a changed row is simply another key."""

    LIMIT = 50_000

    def __init__(self, env: Environment, template: str, name: str, key: Callable[[Any], Hashable]) -> None:
        self.env, self.template, self.name, self.key = env, template, name, key
        self.rendered: dict[tuple[str, Hashable], Markup] = {}

    def __call__(self, items: Iterable[Any]) -> Markup:
        """The items' HTML, one after the other (a filter: one call per page, not per item)."""
        locale = i18n.current_locale()
        return Markup("\n").join([self.one(locale, item) for item in items])

    def one(self, locale: str, item: Any) -> Markup:
        key = (locale, self.key(item))
        html = self.rendered.get(key)
        if html is None:
            if len(self.rendered) >= self.LIMIT:
                self.rendered.clear()
            html = self.rendered[key] = Markup(self.env.get_template(self.template).render({self.name: item}))
        return html


@pass_context
def url_for(context: Any, route_name: str, **path_parameters: object) -> str:
    """Litestar's `url_for`, remembered in the app's state (a path depends on nothing but its
    routes and the arguments): a page asks for the same dozen paths each time, and each reverse
    walked the app's routes (a sixteenth of a round page)."""
    app = context["request"].app
    paths: dict[tuple, str] = app.state.setdefault("reversed_paths", {})
    key = (route_name, *sorted(path_parameters.items()))
    path = paths.get(key)
    if path is None:
        if len(paths) >= Fragments.LIMIT:
            paths.clear()
        path = paths[key] = app.route_reverse(route_name, **path_parameters)
    return path


def entry_key(entry: EntryRecord) -> str:
    return entry.hash


def gettext(message: str, **variables: object) -> Markup:
    """Jinja's newstyle `_()`, without its three `Context.call`s per string (a third of a page's
    rendering): templates always autoescape, so the translation is markup, the variables are
    escaped, and `%` formatting always applies, as with newstyle."""
    return Markup(i18n.gettext(message)) % variables


def local_path(request: Request) -> str:
    """The request's path, safe to link to: always on this site.

    `//evil.example/x` (or `/\\evil.example/x`) would be another host's address in a link, so
    leading slashes and backslashes fold into one; the rest is percent-encoded again.
    """
    return "/" + quote(request.url.path.lstrip("/\\"), safe="/!$&'()*+,;=:@-._~")


def language_url(request: Request, code: str) -> str:
    """This page in another language, at its normalised path, keeping the query parameters the
    page reads (the page one is on) and no others: a made-up one would otherwise be written into
    a cached page."""
    handler = request.scope.get("route_handler")
    names = query_names(handler) - {"lang"} if isinstance(handler, HTTPRouteHandler) else frozenset()
    params = [(k, v) for k, v in request.query_params.multi_items() if k in names] + [("lang", code)]
    return f"{local_path(request)}?{urlencode(params)}"


def configure(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.auto_reload = False  # templates change with a deploy, not while serving
    # Compiled templates in a plain dict (what Jinja does for cache_size=-1): the templates are
    # the files of one directory, and its LRU cache took a lock for each of a page's half dozen
    # extends, imports and includes.
    env.cache = {}
    env.add_extension("jinja2.ext.i18n")
    # The i18n extension adds this method to the Environment; jinja2's types do not know it.
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(_=gettext, gettext=gettext)
    env.filters.update(
        money=money,
        day=day,
        moment=moment,
        entries_html=Fragments(env, "partials/ledger_entry.html", "entry", entry_key),
        fair_share_rows_html=Fragments(env, "partials/fair_share_row.html", "row", lambda row: row),
        in_kind_rows_html=Fragments(env, "partials/in_kind_row.html", "item", lambda item: item),
    )
    env.globals.update(
        url_for=url_for,
        current_locale=i18n.current_locale,
        locales=i18n.LOCALES,
        locale_names=i18n.LOCALE_NAMES,
        language_url=language_url,
    )
    env.trim_blocks = True
    env.lstrip_blocks = True


def template_config() -> TemplateConfig:
    return TemplateConfig(directory=ROOT / "templates", engine=JinjaTemplateEngine, engine_callback=configure)
