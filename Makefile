# The two commands of the README. Both install what they need into .venv first.
.PHONY: demo test lint

demo:
	@bash scripts/install.sh
	@.venv/bin/ledger demo

test:
	@bash scripts/test.sh

lint:
	@.venv/bin/ruff check . && .venv/bin/mypy domain projections consumers replay ledger
