# ozgflow — the two commands a newcomer needs are `go run ./cmd/ozgflow dev`
# and `make test`.

GO ?= go
WORKFLOWCHECK = go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0

# A count of executions, not a duration: with a duration, Go 1.26's fuzzing can end in
# "context deadline exceeded" without any failing input (golang/go#75804).
FUZZTIME ?= 15000x

.PHONY: test prepare-test fuzz lint build dev

## test: prepare what the tests need (Redis), then run every test and the fuzz targets for FUZZTIME each.
test: prepare-test
	$(GO) test ./...
	@$(MAKE) --no-print-directory fuzz

## fuzz: the fuzz targets for FUZZTIME each, beyond their committed corpus (testdata/fuzz).
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzSubmit$$' -fuzztime $(FUZZTIME) ./gateway
	$(GO) test -run '^$$' -fuzz '^FuzzDefinitionDocument$$' -fuzztime $(FUZZTIME) ./definitions
	$(GO) test -run '^$$' -fuzz '^FuzzCondition$$' -fuzztime $(FUZZTIME) ./definitions

## prepare-test: start Redis and PostgreSQL when none answers, install Chromium and the npm packages of test/browser and test/openapi.
prepare-test:
	@./scripts/prepare-test.sh

## lint: go vet and Temporal's workflowcheck over the deterministic workflow code.
lint:
	$(GO) vet ./...
	$(GO) run $(WORKFLOWCHECK) -config workflowcheck.config.yaml ./workflows/...

## build: the ozgflow binary.
build:
	$(GO) build -o ozgflow ./cmd/ozgflow

## dev: run everything in one process.
dev:
	$(GO) run ./cmd/ozgflow dev
