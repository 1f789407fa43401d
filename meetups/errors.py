"""Errors the domain raises; routes turn them into messages next to the fields."""


class DomainError(Exception):
    """A user-caused failure with a message fit to show (already translated)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(DomainError):
    """Several fields are wrong at once; `errors` maps a field name to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class NotFound(DomainError):
    pass


class PermissionDenied(DomainError):
    pass
