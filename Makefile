# cyrusgo build. `make run` starts the demo, `make test` runs every test.
GO      ?= go
BIN     := $(CURDIR)/bin
# Every main package except test-only ones and generators.
CMDS     = $(shell $(GO) list -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' ./... | grep -v -e /test/ -e /internal/)

.PHONY: all build test vet fmt fmtcheck run bench bench-smoke bench-go fuzz clean

all: build

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ $(CMDS)

vet:
	$(GO) vet ./...

fmtcheck:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

fmt:
	gofmt -w $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')

test: fmtcheck vet
	$(GO) test -race -timeout 30m ./...

# Each fuzz target for FUZZTIME (a count of inputs, or a duration), as CI does.
FUZZTIME ?= 300x
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

# The benchmark program (bench/, built as bin/bench) against a cyrusgo it
# starts itself; BENCHFLAGS adds flags (see bench/README.md).
BENCHFLAGS ?=
bench: build
	$(BIN)/bench --bin $(BIN) $(BENCHFLAGS)

# Every workload of the program once, with tiny sizes: a few seconds.
bench-smoke: build
	$(BIN)/bench --bin $(BIN) --smoke --no-progress $(BENCHFLAGS)

# The go test -bench benchmarks of every package, once each.
bench-go:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...

run: build
	./scripts/demo.sh

clean:
	rm -rf $(BIN)
