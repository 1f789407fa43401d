"""meetups: event and invitation manager for company-hosted blogger meetups."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# The project is installed editable: templates, e-mails and static files live beside the package.
PROJECT_DIR = PACKAGE_DIR.parent
TEMPLATES_DIR = PROJECT_DIR / "templates"
EMAILS_DIR = PROJECT_DIR / "emails"
STATIC_DIR = PROJECT_DIR / "static"
