# Convene. `make run` starts the app with demo data; `make test` runs every test.
GO ?= go
BIN := bin/convene
export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/convene?sslmode=disable

.PHONY: run build test bench lint fuzz clean

build:
	$(GO) build -o $(BIN) ./cmd/convene

run: build
	@scripts/ensure-postgres.sh
	$(BIN) seed-demo
	@echo "Convene is starting on http://localhost:8080 (demo accounts: see README)"
	$(BIN) serve

test:
	bash scripts/test.sh

fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=200000x ./models/rostercsv/

bench:
	bash scripts/bench.sh

lint:
	gofmt -l . | (! grep .)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

clean:
	rm -rf bin
