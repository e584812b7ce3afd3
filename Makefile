# Agora — local development, tests and CI.
# `make run` and `make test` use PostgreSQL and Redis on their standard local
# ports, starting or installing them first when needed (.ci/services.sh).

export AGORA_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/agora?sslmode=disable
export AGORA_REDIS_URL ?= redis://127.0.0.1:6379/0

# Database that `run` and `bench` create when missing (the one in AGORA_DATABASE_URL).
DB_NAME ?= agora

GO ?= go
SERVICES := bash .ci/services.sh
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.DEFAULT_GOAL := help
.PHONY: help run test build lint fuzz bench clean

help: ## list the targets
	@echo "Usage: make TARGET"
	@echo
	@awk 'BEGIN { FS = ":.*## " } /^[a-z][a-z_-]*:.*## / { printf "  %-8s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo
	@echo "AGORA_DATABASE_URL=$(AGORA_DATABASE_URL)"
	@echo "AGORA_REDIS_URL=$(AGORA_REDIS_URL)"

run: ## start PostgreSQL/Redis if needed, then run `agora dev` (web + worker + demo cities)
	$(SERVICES) --db $(DB_NAME)
	$(GO) run ./cmd/agora dev

test: ## start services (and Chromium) if needed, then go vet and all tests
	$(SERVICES) --chromium
	$(GO) vet ./...
	$(GO) test -count=1 -p 2 -timeout 20m ./...

build: ## build bin/agora
	$(GO) build -o bin/agora ./cmd/agora

lint: ## go vet and staticcheck
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

fuzz: ## fuzz host normalisation, then the city portal's routes, 30s each
	$(SERVICES)
	$(GO) test ./tenant -run '^$$' -fuzz FuzzNormalizeHost -fuzztime 30s
	$(GO) test ./web -run '^$$' -fuzz FuzzPortal -fuzztime 30s

bench: ## start services if needed, then benchmark 1,000 cities
	$(SERVICES) --db $(DB_NAME)
	$(GO) run ./cmd/agora bench tenants --cities 1000

clean: ## remove build output
	rm -rf bin
