"""The main text of a web page: its article, not its menus, footers, banners and share buttons.

selectolax parses the page (fast, tolerant of broken markup). The rule is simple and
explainable: take `<main>`, `<article>` or `[role=main]` when the page marks one, else
`<body>`; drop what is never content (scripts, navigation, headers, footers, asides, forms,
and blocks whose class or id says menu, sidebar, cookie, share …); keep headings as Markdown
headings (the chunker builds section paths from them) and text blocks as lines; skip short
blocks that are mostly links (a menu the page did not mark as one).
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from wagate.knowledge.document import ReadDocument

_NEVER_CONTENT = (
    "script, style, noscript, template, iframe, svg, canvas, nav, header, footer, aside, "
    "form, button, select, [role=navigation], [role=banner], [role=contentinfo], "
    "[aria-hidden=true]"
)
_BOILERPLATE = re.compile(
    r"(^|[-_ ])(nav|navbar|menu|sidebar|footer|header|cookie|consent|breadcrumbs?|share|"
    r"social|comments?|related|banner|advert|ads|popup|modal|newsletter|subscribe)([-_ ]|$)",
    re.IGNORECASE,
)
_BLOCKS = "h1, h2, h3, h4, h5, h6, p, li, pre, blockquote, td, th, dt, dd, figcaption"
_BLOCK_TAGS = frozenset(t.strip() for t in _BLOCKS.split(","))


def _text(node: Node) -> str:
    return " ".join(node.text(separator=" ").split())


def _is_boilerplate(node: Node) -> bool:
    attributes = node.attributes
    marker = f"{attributes.get('class') or ''} {attributes.get('id') or ''}"
    return bool(_BOILERPLATE.search(marker))


def _inside_block(node: Node, root: Node) -> bool:
    parent = node.parent
    while parent is not None and parent is not root and parent.tag != "html":
        if parent.tag in _BLOCK_TAGS:
            return True
        parent = parent.parent
    return False


def _mostly_links(node: Node, text: str) -> bool:
    linked = sum(len(_text(a)) for a in node.css("a"))
    return len(text) < 120 and linked >= 0.6 * len(text)


def main_text(html: str) -> ReadDocument:
    tree = HTMLParser(html)
    title_node = tree.css_first("title")
    title = _text(title_node) if title_node is not None else None
    for node in tree.css(_NEVER_CONTENT):
        node.decompose()
    for node in tree.css("div, section, ul, ol, span, p, table"):
        if _is_boilerplate(node):
            node.decompose()
    root = (
        tree.css_first("main")
        or tree.css_first("article")
        or tree.css_first("[role=main]")
        or tree.body
    )
    if root is None:
        return ReadDocument(kind="html", text="", title=title)
    lines: list[str] = []
    for node in root.css(_BLOCKS):
        if _inside_block(node, root):
            continue  # its text is part of the enclosing block's
        tag = node.tag or ""
        text = _text(node)
        level = int(tag[1]) if len(tag) == 2 and tag[0] == "h" and tag[1].isdigit() else 0
        if not text or (not level and _mostly_links(node, text)):
            continue
        lines.extend(["", "#" * level + " " + text, ""] if level else [text])
    block_text = sum(len(line) for line in lines)
    loose = root.text(separator="\n")
    if block_text < 0.25 * len(" ".join(loose.split())):
        # A page that writes its text straight into <div>s: take what is left, line by line
        # (the chunker joins the lines of a paragraph again).
        lines = [" ".join(line.split()) for line in loose.splitlines()]
    heading = root.css_first("h1")
    return ReadDocument(
        kind="html",
        text="\n".join(lines).strip(),
        title=(_text(heading) if heading is not None else None) or title,
    )
