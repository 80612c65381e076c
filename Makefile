.DEFAULT_GOAL := help
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
RUN := $(UV) run --no-sync
LOCAL := .local

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

.PHONY: install
install: ## Install uv and the locked Python workspace if missing
	@deploy/local/bootstrap.sh

.PHONY: infra-up
infra-up: install ## Start PostgreSQL, Kafka and Redis (installing them first if needed); REPLICA=1: and a read replica
	@MANDI_PG_REPLICA=$(or $(REPLICA),$(MANDI_PG_REPLICA),0) deploy/local/infra.sh up

.PHONY: infra-down
infra-down: ## Stop the local infrastructure
	@deploy/local/infra.sh down

.PHONY: infra-status
infra-status: ## Say what of the local infrastructure runs
	@deploy/local/infra.sh status

.PHONY: dev
dev: infra-up ## Bring the platform up and print where things are
	@deploy/local/dev.sh up

.PHONY: down
down: ## Stop everything `make dev` started
	@deploy/local/dev.sh down
	@deploy/local/infra.sh down

.PHONY: test
test: infra-up ## Install what is missing, start the infrastructure, run every test
	@$(RUN) pytest

.PHONY: test-unit
test-unit: install ## Run the tests that need nothing running
	@$(RUN) pytest -m "not integration and not e2e"

.PHONY: lint
lint: install ## ruff, mypy (strict on libs), import-linter contracts
	@$(RUN) ruff check .
	@$(RUN) ruff format --check .
	@$(RUN) mypy libs/*/src services/*/src
	@$(RUN) python tools/service_manifest.py check
	@mkdir -p $(LOCAL) && $(RUN) python tools/import_contracts.py $(LOCAL)/importlinter.ini
	@$(RUN) lint-imports --config $(LOCAL)/importlinter.ini

.PHONY: format
format: install ## Format and autofix with ruff
	@$(RUN) ruff format .
	@$(RUN) ruff check --fix .

.PHONY: bench-gateway
bench-gateway: infra-up ## Direct vs through nginx (API key, JWT): requests/s, p50/p99; rate-limit accuracy
	@bench/tools.sh
	@deploy/local/gateway.sh install
	@$(RUN) python bench/gateway.py

.PHONY: bench-api
bench-api: infra-up ## CPU ms per request of each service (authorize, read, list, write); p50/p95/p99 at 200/s
	@bench/tools.sh
	@deploy/local/gateway.sh install
	@$(RUN) python bench/api.py

.PHONY: bench-availability
bench-availability: infra-up ## Reserve commands/s and CPU per command of one consumer; radius search p95
	@$(RUN) python bench/availability.py

.PHONY: bench-risk
bench-risk: infra-up ## Exposure commands/s and CPU per command of one risk consumer
	@$(RUN) python bench/risk.py

.PHONY: bench-saga
bench-saga: infra-up ## Trade sagas through availability, risk and matching: accept→confirmed p99 at 50/s, sagas/s, requirement→proposal p99
	@$(RUN) python bench/saga.py

.PHONY: bench-outbox
bench-outbox: infra-up ## Raw Kafka produce vs outbox relay: events/s and commit→published latency
	@$(RUN) python bench/outbox.py

.PHONY: bench-audit
bench-audit: infra-up ## Audit: events/s from Kafka into the hash chains beside a raw COPY of the same rows; verify events/s
	@$(RUN) python bench/audit.py

.PHONY: bench-webhooks
bench-webhooks: infra-up ## Webhooks: signed deliveries/s, published→received p99 at 500/s, a healthy endpoint's p99 beside a dead one
	@$(RUN) python bench/webhooks.py

.PHONY: dlq-replay
dlq-replay: install ## Put dead letters back on their topic: make dlq-replay TOPIC=<topic>.dlq
	@$(RUN) python -m mandi_messaging.dlq replay --dlq-topic "$(TOPIC)"

.PHONY: dlq-discard
dlq-discard: install ## Give up on dead letters, releasing what waits behind them: make dlq-discard TOPIC=<topic>.dlq
	@$(RUN) python -m mandi_messaging.dlq discard --dlq-topic "$(TOPIC)"
