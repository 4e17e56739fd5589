"""Hostile markdown/HTML built from patterns: vector x encoding x context. Every payload, if a
browser ever ran it, calls `__pwn(<its id>)` (or loads a `/__pwned/<id>` URL), and starts with
a visible tag «id» so a test can tell which payloads a page actually rendered.

The vectors cover script elements, event handlers on many tags, javascript:/data: URLs in HTML
and markdown links and images, iframes (src, srcdoc), CSS (style attributes, expression(),
@import, url()), meta refresh, base href, mutation-XSS nestings and broken or nested tags; the
encodings hide them (entities, percent, unicode escapes, case, whitespace and NUL tricks); the
contexts wrap them in markdown structures and attribute or element breakouts.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

MARKER = re.compile(r"«(\d+)»")
KEEP_CASE = re.compile(r"(__pwn\(\d+\))")


@dataclass(frozen=True)
class Payload:
    id: int
    text: str  # starts with «id»


# {js}: the call that records an execution; {id}: the payload id (for URLs to watch).
VECTORS: list[str] = [
    "<script>{js}</script>",
    "<script src=/__pwned/{id}.js></script>",
    "<img src=x onerror={js}>",
    '<img src="x" onerror="{js}">',
    "<img src='x' onerror='{js}'>",
    "<img src=x onerror=`{js}`>",
    "<img/src=x/onerror={js}>",
    "<img src=/__pwned/{id}.png>",
    "<svg onload={js}>",
    "<svg><script>{js}</script></svg>",
    "<svg><animate onbegin={js} attributeName=x dur=1s>",
    "<svg><a xlink:href=javascript:{js}><text y=20>go</text></a></svg>",
    "<body onload={js}>",
    "<details open ontoggle={js}>",
    "<input autofocus onfocus={js}>",
    "<video><source onerror={js}></video>",
    "<audio src=x onerror={js}>",
    "<marquee onstart={js}>m</marquee>",
    "<iframe onload={js}></iframe>",
    "<iframe src=javascript:parent.{js}></iframe>",
    '<iframe srcdoc="<script>parent.{js}</script>"></iframe>',
    "<object data=javascript:parent.{js}></object>",
    "<embed src=javascript:parent.{js}>",
    "<form><button formaction=javascript:{js}>b</button></form>",
    '<a href="javascript:{js}">link</a>',
    '<a href="jav&#x09;ascript:{js}">tab link</a>',
    "<div style=\"background:url('/__pwned/{id}.bg')\">css</div>",
    '<div style="width:expression({js})">ie</div>',
    "<style>@import '/__pwned/{id}.css';</style>",
    "<link rel=stylesheet href=/__pwned/{id}.css>",
    '<meta http-equiv="refresh" content="0;url=javascript:{js}">',
    "<base href=javascript:{js}//>",
    "<math><mtext><table><mglyph><style><img src=x onerror={js}>",
    '<noscript><p title="</noscript><img src=x onerror={js}>">',
    "<<script>script>{js}<</script>/script>",
    "<scr<script>ipt>{js}</scr</script>ipt>",
    "<img src=x onerror={js}",
    "[click](javascript:{js})",
    "[click](JaVaScRiPt:{js})",
    "[click](  javascript:{js} )",
    "[click](&#106;avascript:{js})",
    "[click](javascript&colon;{js})",
    "[click](data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX19wd24oMCk8L3NjcmlwdD4=)",
    "[click](vbscript:{js})",
    "![pic](javascript:{js})",
    "![pic](/__pwned/{id}.png)",
    '![pic](x "onerror={js}")',
    "<javascript:{js}>",
    "[click][r{id}]\n\n[r{id}]: javascript:{js}",
    "[<img src=x onerror={js}>](https://example.com)",
]


def _entities(text: str) -> str:
    return "".join(f"&#{ord(ch)};" if ch in "<>\"'=:()" else ch for ch in text)


def _hex_entities(text: str) -> str:
    return "".join(f"&#x{ord(ch):x};" if ch in "<>\"'=:()" else ch for ch in text)


def _percent(text: str) -> str:
    return "".join(f"%{ord(ch):02X}" if ch in "<>\"' =:()" else ch for ch in text)


def _unicode_escapes(text: str) -> str:
    return "".join(f"\\u{ord(ch):04x}" if ch in "<>\"'" else ch for ch in text)


def _mixed_case(text: str) -> str:
    """Tags, attributes and schemes in alternating case; the recording call keeps its own
    (JavaScript names are case-sensitive, HTML's are not)."""
    parts = KEEP_CASE.split(text)
    return "".join(
        part if KEEP_CASE.fullmatch(part) else _alternate(part) for part in parts if part
    )


def _alternate(text: str) -> str:
    return "".join(ch.upper() if i % 2 else ch.lower() for i, ch in enumerate(text))


def _whitespace(text: str) -> str:
    return text.replace(" ", "\n").replace("<", "<\t", 1)


def _nul_entity(text: str) -> str:
    # A raw NUL cannot be stored in Postgres text; its entity is what a page could meet.
    return text.replace("script", "scr&#0;ipt").replace("on", "o&#0;n", 1)


def _zero_width(text: str) -> str:
    return text.replace("script", "scr\u200bipt").replace("<", "<\u200b", 1)


def _double_encoded(text: str) -> str:
    return text.replace("<", "&amp;lt;").replace(">", "&amp;gt;")


ENCODINGS: list[tuple[str, Callable[[str], str]]] = [
    ("plain", lambda text: text),
    ("entities", _entities),
    ("hex-entities", _hex_entities),
    ("percent", _percent),
    ("unicode", _unicode_escapes),
    ("case", _mixed_case),
    ("whitespace", _whitespace),
    ("nul-entity", _nul_entity),
    ("zero-width", _zero_width),
    ("double", _double_encoded),
]

CONTEXTS: list[str] = [
    "{p}",
    "**{p}**",
    "> {p}",
    "- {p}",
    "# {p}",
    "| a | b |\n|---|---|\n| {p} | x |",
    '"><{p}',
    "'></title></textarea></script></style>{p}",
    "--><!--{p}-->",
    "`x` {p} `y`",
    "]]>{p}",
]


def _combinations() -> Iterator[tuple[str, Callable[[str], str], str]]:
    """Every vector in every encoding, each in a context that turns with the combination, so
    all contexts are used evenly without a full three-way product."""
    contexts = itertools.cycle(CONTEXTS)
    for vector in VECTORS:
        for _name, encode in ENCODINGS:
            for _ in range(3):
                yield vector, encode, next(contexts)


def generate(limit: int | None = None) -> list[Payload]:
    """Payloads of distinct patterns (apart from their ids), ids from 1; `limit` caps them."""
    seen: set[str] = set()
    payloads: list[Payload] = []
    for vector, encode, context in _combinations():
        pattern = context.format(p=encode(vector.format(js="__pwn(0)", id=0)))
        if pattern in seen:  # an encoding that changes nothing in this vector
            continue
        seen.add(pattern)
        pid = len(payloads) + 1
        core = context.format(p=encode(vector.format(js=f"__pwn({pid})", id=pid)))
        payloads.append(Payload(id=pid, text=f"«{pid}» {core}"))
        if limit is not None and len(payloads) >= limit:
            break
    return payloads


def short(payloads: list[Payload], max_length: int) -> list[Payload]:
    """Those that fit one line of a name field."""
    return [p for p in payloads if len(p.text) <= max_length and "\n" not in p.text]
