"""やさしい日本語: readings written in brackets after kanji become <ruby> furigana.

The plain-Japanese catalogue writes a hard word as 求職番号（きゅうしょく ばんごう）, which
reads well as text anywhere (mails, titles, attributes). In page content,
`{% filter furigana %}…{% endfilter %}` turns it into ruby. Only text between tags
is touched, so attribute values and typed input stay as they are, and only in the
plain-Japanese language.
"""

import re

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()

EASY = "ja-x-easy"
_READING = re.compile(r"([一-鿿々〆ヶ]+)（([ぁ-ゖー ]+)）")
_TAG_OR_TEXT = re.compile(r"(<[^>]*>)")


def _ruby(match: re.Match) -> str:
    return f"<ruby>{match.group(1)}<rp>（</rp><rt>{match.group(2)}</rt><rp>）</rp></ruby>"


@register.filter(is_safe=True)
def furigana(html: SafeString) -> SafeString:
    """Ruby for bracketed readings in the text of already-escaped HTML."""
    if get_language() != EASY:
        return html
    parts = _TAG_OR_TEXT.split(str(html))
    return mark_safe(  # noqa: S308 - only text between tags, already escaped, is rewritten
        "".join(part if part.startswith("<") else _READING.sub(_ruby, part) for part in parts)
    )
