"""Reports from jinja2 templates (``siting/outputs/templates/*.j2``), HTML autoescaped.

The HTML templates escape every value (autoescape); filters format numbers the way the
reports always have, and :func:`clip` shortens text *before* it is escaped, so a cut never
falls inside an HTML entity.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import PurePath
from typing import Any

import jinja2

from siting.outputs import labels, style


def clip(value: object, n: int) -> str:
    """The first ``n`` characters of the text (escaped afterwards, by autoescape)."""
    return ("" if value is None else str(value))[:n]


def num(value: float | None, digits: int = 0) -> str:
    """``12,345`` (``digits`` decimals), a dash for a missing value."""
    return "—" if value is None else f"{value:,.{digits}f}"


def pct(value: float | None, spec: str = ".3g") -> str:
    """A fraction as a percentage (``0.0123`` → ``1.23%``), a dash when missing."""
    return "—" if value is None else f"{100 * value:{spec}}%"


def fmt(value: object, spec: str) -> str:
    """``format(value, spec)``: ``{{ x|fmt(',.0f') }}``."""
    return format(value, spec)


def basename(path: object) -> str:
    """The file name of a path."""
    return PurePath(str(path)).name


_PIECES = re.compile(r"^(?P<name>.*) \((?P<n>\d+) pieces apart\)$")


def solver_words(name: str, w: labels.Words) -> str:
    """A stage's solver in words: 'HiGHS 1.15.1 (15 pieces apart)' in the report's language.

    The core names a stage's solver in English; the two forms it adds to the solver's own
    name (the pieces solved apart, no solve needed) are worded here.
    """
    m = _PIECES.match(name)
    if m:
        return w.fill("solver_pieces", name=m["name"], n=int(m["n"]))
    if name == "(no solve: every reachable row is reached)":
        return w("solver_no_solve")
    return name


def met_key(met: bool | None) -> str:
    """The label key of a target's result: met, not met, or informational."""
    return "info" if met is None else ("met" if met else "not met")


def met_class(met: bool | None) -> str:
    """The CSS class of a target's result cell."""
    return "" if met is None else ("met" if met else "notmet")


@cache
def environment() -> jinja2.Environment:
    """The template environment: package templates, autoescape for ``*.html.j2``."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("siting.outputs", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",),
                                            default_for_string=True),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True)
    env.filters.update(clip=clip, num=num, pct=pct, fmt=fmt, basename=basename)
    env.globals.update(style=style, met_key=met_key, met_class=met_class,
                       solver_words=solver_words, role=labels.role,
                       notes_in_language=labels.notes_in_language)
    return env


def render(name: str, *, lang: str, **context: Any) -> str:
    """Render template ``name`` with the words of ``lang`` as ``w``."""
    return environment().get_template(name).render(w=labels.Words(lang), **context)
