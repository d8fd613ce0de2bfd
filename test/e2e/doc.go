// Package e2e tests the control plane with real xDS clients on loopback: a minimal ADS client
// built from go-control-plane's protos (this package), and grpc-go's own xDS client as an
// independent consumer. The server runs in-process (fast tests, hand-made translation) and as
// the real binary (file edits, restarts). The push benchmark (bench_test.go, build tag bench)
// uses the same client; run it with `make bench-push`.
package e2e
