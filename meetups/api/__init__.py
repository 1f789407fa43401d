"""The JSON API (/api/v1): events, guests, invitations, travel claims and feedback for scripts,
authenticated by personal API tokens and documented by its OpenAPI schema."""
