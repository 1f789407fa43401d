"""The SVG charts: well-formed, described in words, escaped, drawn to scale, without inline
styles (the Content-Security-Policy forbids them)."""

import xml.etree.ElementTree as ET  # our own output, not untrusted data

from meetups.feedback.charts import LABEL_WIDTH, VALUE_WIDTH, WIDTH, ChartBar, bar_chart, svg_file

SVG = "{http://www.w3.org/2000/svg}"


def _chart(**options: object) -> ET.Element:
    svg = bar_chart(
        chart_id="chart-7",
        title="What did you like <most> & why?",
        bars=[
            ChartBar("Talks & <demos>", 0.75, "3 (75%)"),
            ChartBar("The tour", 0.25, "1 (25%)", tone="good"),
            ChartBar("Nothing", 0.0, "0 (0%)"),
        ],
        **options,  # type: ignore[arg-type]
    )
    return ET.fromstring(svg)  # noqa: S314


def test_a_chart_is_an_accessible_image_with_title_and_description() -> None:
    root = _chart(description="Three answers.")
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-7-title chart-7-desc"
    assert root.find(f"{SVG}title").text == "What did you like <most> & why?"
    assert root.find(f"{SVG}desc").text == "Three answers."


def test_without_a_description_the_values_are_listed_in_words() -> None:
    desc = _chart().find(f"{SVG}desc").text
    assert desc == "Talks & <demos>: 3 (75%); The tour: 1 (25%); Nothing: 0 (0%)"


def test_bars_are_drawn_to_scale_and_empty_ones_only_as_a_track() -> None:
    root = _chart()
    bar_area = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    groups = root.findall(f"{SVG}g")
    assert len(groups) == 3
    widths = [[float(r.get("width")) for r in g.findall(f"{SVG}rect")] for g in groups]
    assert widths[0] == [bar_area, 0.75 * bar_area]
    assert widths[1] == [bar_area, 0.25 * bar_area]
    assert widths[2] == [bar_area]  # no zero-width bar
    assert groups[1].findall(f"{SVG}rect")[1].get("fill") == "#1f7a3f"


def test_no_inline_styles_and_labels_are_text() -> None:
    svg = bar_chart(chart_id="c", title="<script>alert(1)</script>", bars=[ChartBar("x", 2.0, "2")])
    assert "style=" not in svg
    assert "<script>" not in svg
    root = ET.fromstring(svg)  # noqa: S314
    # A share above 1 draws a full bar, never past the track.
    rects = root.find(f"{SVG}g").findall(f"{SVG}rect")
    assert float(rects[0].get("width")) == float(rects[1].get("width"))


def test_long_labels_are_shortened_in_the_drawing_but_kept_whole_in_the_tooltip() -> None:
    label = "A very long answer that goes on and on about the afternoon"
    root = ET.fromstring(bar_chart(chart_id="c", title="t", bars=[ChartBar(label, 0.5, "1")]))  # noqa: S314
    group = root.find(f"{SVG}g")
    assert group.find(f"{SVG}title").text == f"{label}: 1"
    drawn = group.findall(f"{SVG}text")[0].text
    assert drawn.endswith("…")
    assert len(drawn) <= 32


def test_the_downloaded_file_is_a_standalone_svg_with_a_heading() -> None:
    data = svg_file(bar_chart(chart_id="c", title="Overall", bars=[], with_heading=True))
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(data)  # noqa: S314
    assert root.get("viewBox").startswith("0 0 640 ")
    assert [t.text for t in root.findall(f"{SVG}text")] == ["Overall"]
