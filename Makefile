# Every target works on a fresh machine with only Go installed.
GO ?= go
STATICCHECK_VERSION ?= v0.8.2

.PHONY: test build lint golden bench bench-push bench-kube run

## test: every test, with the race detector (what CI runs)
test:
	$(GO) test -race -count=1 ./...

## build: the controlplane binary in bin/
build:
	$(GO) build -o bin/controlplane ./cmd/controlplane

## lint: formatting, go vet (bench-tagged e2e files too) and staticcheck
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags bench ./test/e2e/...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

## golden: rewrite the translation golden files (review the diff before committing)
golden:
	$(GO) test ./pkg/translate -run TestGolden -update

## bench: the Go benchmarks
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/...

## bench-push: push latency (edit -> every client ACKed) and server RSS, 1,000 then 10,000 ADS clients
bench-push:
	$(GO) test -tags bench -run TestPushLoad -count=1 -timeout 20m -v ./test/e2e -clients 1000 -groups 10
	$(GO) test -tags bench -run TestPushLoad -count=1 -timeout 20m -v ./test/e2e -clients 10000 -groups 100 -rounds 3
	$(GO) test -tags bench -run TestKeyRotationPushLoad -count=1 -v ./test/e2e

## bench-kube: 200 namespaces, 2,000 policies, 5,000 pods in a real API server: policy apply -> ACK, heap
bench-kube:
	K8S_TEST_SCRIPTS=$${K8S_TEST_SCRIPTS:-$$(cd ../shared/scripts/k8s && pwd)} $(GO) test -tags bench -run TestKubeScaleApplyToACK -count=1 -v -timeout 20m ./test/e2e/kube

## run: serve the bundled gateway example
run:
	$(GO) run ./cmd/controlplane serve --config examples/gateway
