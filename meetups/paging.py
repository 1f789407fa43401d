"""Lists shown page by page (the address book, a guest list, its e-mails, the privacy log, the
mail catcher): how many pages there are, and which page a request may ask for."""


def page_count(total: int, page_size: int) -> int:
    """At least one page, so that an empty list still has a page to show."""
    return max(1, -(-total // page_size))


def clamp_page(page: int, total: int, page_size: int) -> int:
    """The page asked for, kept within the pages there are."""
    return min(max(page, 1), page_count(total, page_size))


class PageNumbers:
    """For a dataclass holding one page of a list: the numbers its pager shows. The dataclass
    declares `total`, `page` and `page_size`."""

    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return page_count(self.total, self.page_size)

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages
