// Package model is the in-memory view every other package shares: Istio objects decoded into
// istio.io/api types with their origin, the proxy identity parsed from an Envoy node, the
// problems found in bad input, and the helpers that decide which policies select a proxy.
//
// Pipeline place: sources/{file,kube} and jwks produce model values; translate and snapshot
// consume them. It imports istio.io/api, protobuf and the standard library only.
package model
