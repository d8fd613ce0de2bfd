// Package explain answers "what would Envoy do with this request?" from the Envoy configuration
// the control plane generates, without running Envoy. It backs the `controlplane explain`
// command and serves as the test oracle for the translator's output.
//
// Pipeline place: it reads Envoy protos only (never the Istio objects and never pkg/translate),
// so what it evaluates is exactly what a proxy receives. Allowed imports: go-control-plane's
// envoy protos, protobuf, go-jose and the standard library.
package explain
