"""The SVG charts: well-formed, described in words, escaped, drawn to scale, without inline
styles (the Content-Security-Policy forbids them)."""

import xml.etree.ElementTree as ET  # our own output, not untrusted data

from meetups.feedback.charts import PADDING, VALUE_WIDTH, WIDTH, ChartBar, bar_chart, svg_file

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
    # The labels are long: they stand above their bars, which take the whole width.
    bar_area = WIDTH - PADDING - VALUE_WIDTH
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


def test_short_labels_stand_beside_their_bars_and_long_ones_above() -> None:
    scale = ET.fromstring(  # noqa: S314
        bar_chart(chart_id="c", title="t", bars=[ChartBar(str(n), 0.2, "1") for n in range(11)])
    )
    first = scale.find(f"{SVG}g")
    label, track = first.find(f"{SVG}text"), first.find(f"{SVG}rect")
    assert label.get("text-anchor") == "end"
    assert float(label.get("x")) < float(track.get("x"))
    label_text = "A very long answer that goes on and on about the afternoon " * 2
    choices = ET.fromstring(  # noqa: S314
        bar_chart(chart_id="c", title="t", bars=[ChartBar(label_text, 0.5, "1")])
    )
    group = choices.find(f"{SVG}g")
    assert group.find(f"{SVG}title").text == f"{label_text}: 1"  # whole in the tooltip
    drawn = group.findall(f"{SVG}text")[0]
    assert float(drawn.get("y")) < float(group.find(f"{SVG}rect").get("y"))
    assert drawn.text.endswith("…")
    assert len(drawn.text) <= 80


def test_the_downloaded_file_is_a_standalone_svg_with_a_heading() -> None:
    data = svg_file(bar_chart(chart_id="c", title="Overall", bars=[], with_heading=True))
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(data)  # noqa: S314
    assert root.get("viewBox").startswith("0 0 640 ")
    assert [t.text for t in root.findall(f"{SVG}text")] == ["Overall"]
