# meetups: `make run` sets everything up and starts the app; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := static/vendor
# One compiled catalog per translated language (the .mo files are built, not committed).
CATALOGS := $(patsubst %.po,%.mo,$(wildcard meetups/locale/*/LC_MESSAGES/messages.po))

.PHONY: run install test lint demo migrate messages clean

# `make run DEMO=1` seeds the demo events first.
run: install
	$(if $(DEMO),$(BIN)/meetups demo,)
	MEETUPS_MAIL_CATCHER=$${MEETUPS_MAIL_CATCHER:-true} $(BIN)/meetups serve

install: $(STAMP) $(VENDOR)/.installed $(CATALOGS)
	$(BIN)/meetups migrate

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp node_modules/@picocss/pico/css/pico.min.css $(VENDOR)/pico.min.css
	touch $@

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

demo: install
	$(BIN)/meetups demo

# Extract every translatable string and merge it into the German catalog.
messages: $(STAMP)
	$(BIN)/pybabel extract --no-location --sort-output -F babel.cfg -o meetups/locale/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i meetups/locale/messages.pot -d meetups/locale -D messages

clean:
	rm -rf $(VENV) node_modules $(VENDOR)
