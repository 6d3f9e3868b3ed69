"""The HTML building blocks escape text, inline images and keep exact numbers."""

import base64

from aekit.reports import html as html_page


def test_text_is_escaped_everywhere():
    doc = html_page.page("<run>", html_page.section("a & b", html_page.paragraph("<script>")))
    assert "<script>" not in doc
    assert "&lt;run&gt;" in doc and "a &amp; b" in doc


def test_image_is_inlined_as_a_data_uri():
    png = b"\x89PNG\r\n\x1a\nfake"
    tag = html_page.image(png, "loss curves")
    assert base64.b64encode(png).decode() in tag
    assert 'alt="loss curves"' in tag and "http" not in tag


def test_table_keeps_the_exact_float_behind_the_rounded_cell():
    cell = html_page.table(["metric", "value"], [["mse", 0.123456789123]], css_id="evaluation")
    assert 'data-value="0.123456789123"' in cell
    assert ">0.123457<" in cell and 'id="evaluation"' in cell
