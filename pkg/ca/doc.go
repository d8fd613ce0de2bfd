// Package ca is the control plane's built-in certificate authority: it signs short-lived
// workload certificates whose URI SAN is the SPIFFE ID spiffe://<trust-domain>/ns/<ns>/sa/<sa>
// (SEMANTICS.md §1) and hands them to the serving layer as the SDS secrets Envoy asks for by
// Istio's names, "default" (certificate chain + key) and "ROOTCA" (trust bundle), §5.2 and §6.2.
//
// Pipeline place: side input of pkg/snapshot, like pkg/jwks. It imports the standard library,
// go-control-plane's Envoy protos, grpc (to read a stream's peer certificate), prometheus and
// pkg/model; never translate, snapshot or the sources.
//
// The signing certificate is either a root generated on first start and persisted through a
// RootStore (DirStore; the Kubernetes issue adds a Secret-backed one), or a root or
// intermediate given as files. Certificates are cached per identity, so all proxies of one
// service account share a key pair until it is rotated at Options.RotateAt of its lifetime;
// Run reports the rotated identities so that only their proxies are pushed.
//
// Who gets a key (DESIGN.md "Certificates"): the serving layer sends Secrets(id) only to a
// proxy whose ADS connection proved id with a client certificate (IdentityFromPeer,
// IdentityFromGRPC, ServerTLS); IssueBootstrap gives an operator that first client
// certificate. Private keys are never logged: Certificate's String and LogValue leave the key
// out, and no log line of this package carries PEM.
package ca
