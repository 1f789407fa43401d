"""Page numbers of the paged lists: an empty list has one page, and a page asked for beyond the
ends is the nearest page there is."""

from dataclasses import dataclass

import pytest

from meetups.paging import PageNumbers, clamp_page, page_count


@pytest.mark.parametrize(
    ("total", "size", "pages"), [(0, 50, 1), (1, 50, 1), (50, 50, 1), (51, 50, 2), (101, 50, 3)]
)
def test_page_count(total: int, size: int, pages: int) -> None:
    assert page_count(total, size) == pages


@pytest.mark.parametrize(
    ("asked", "expected"), [(-3, 1), (0, 1), (1, 1), (2, 2), (3, 3), (4, 3), (10**6, 3)]
)
def test_a_page_beyond_the_ends_is_the_nearest_one(asked: int, expected: int) -> None:
    assert clamp_page(asked, total=101, page_size=50) == expected


@dataclass
class _Page(PageNumbers):
    items: list[int]
    total: int
    page: int
    page_size: int


def test_the_pager_knows_its_neighbours() -> None:
    first, middle, last = (_Page([], 101, page, 50) for page in (1, 2, 3))
    assert (first.pages, first.has_previous, first.has_next) == (3, False, True)
    assert (middle.has_previous, middle.has_next) == (True, True)
    assert (last.has_previous, last.has_next) == (True, False)
    assert _Page([], 0, 1, 50).pages == 1
