# The commands of the README. Each installs what it needs into .venv first.
.PHONY: demo test lint

demo:
	@bash scripts/install.sh
	@.venv/bin/ledger demo

test:
	@bash scripts/test.sh

lint:
	@bash scripts/install.sh --lint
	@.venv/bin/ruff check . && .venv/bin/mypy domain projections consumers replay ledger
