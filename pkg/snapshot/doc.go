// Package snapshot serves translated configuration to Envoy over ADS, state-of-the-world and
// incremental (delta), with go-control-plane's ADS server and our own cache (watcher.go), which
// marshals a group's resources once per change and shares the bytes with every stream.
//
// Place in the pipeline: sources → model → translate → snapshot → ADS. It may import model,
// translate, go-control-plane's cache and server packages, grpc and prometheus; never the
// sources or jwks packages (their values arrive through SetStore and SetKeys).
//
// Proxies are grouped by model.Proxy.GroupKey (nodehash.go), so one snapshot serves every
// proxy of a group. A group's snapshot is built when its first proxy
// connects, rebuilt when an input it depends on changes (see deps.go for the rule), and dropped
// from memory once no proxy of the group has been connected for Options.IdleTimeout.
//
// Versions are SHA-256 over the deterministic marshalling of each resource (version.go):
// replicas and restarts agree, so an Envoy that reconnects with the current version gets no
// push. NACKed versions are parked (callbacks.go): the proxy keeps its last ACKed version and is not
// sent the same rejected version again until the configuration really changes.
package snapshot
