"""The HTML part of a mail shows line breaks as breaks, and escapes what people typed."""

from __future__ import annotations

from integrations.mail import html_paragraphs


def test_line_breaks_become_br_and_blank_lines_paragraphs() -> None:
    text = "Hello Priya,\n\nMonday 09:00\nTuesday 10:00\n\nSee you"
    assert html_paragraphs(text) == (
        "<p>Hello Priya,</p><p>Monday 09:00<br>Tuesday 10:00</p><p>See you</p>"
    )


def test_typed_markup_is_escaped_and_no_br_is_shown_as_text() -> None:
    out = html_paragraphs('<script>x</script> & "q"\nnext')
    assert "<script>" not in out and "&lt;script&gt;" in out and "&amp;" in out
    assert "&lt;br&gt;" not in out and "<br>" in out
