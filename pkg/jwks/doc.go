// Package jwks fetches, validates, caches and refreshes the JSON Web Key Sets that
// RequestAuthentication rules name (jwksUri, or the issuer's OpenID discovery document when
// jwksUri is empty), so that translation can inline them as jwt_authn local_jwks.
//
// Pipeline place: side input. A Manager is told which key sources the current policies use
// (SetSources), keeps one fetcher per distinct source however many policies and proxies share
// it, and produces model.KeySet values (Keys) plus change notifications (Changes) that tell
// the snapshot builder which issuers' proxy groups to rebuild. It imports model, go-jose,
// backoff, prometheus and the standard library; never translate or snapshot.
//
// Behaviour (SEMANTICS.md §2.4, §2.5, §8.2):
//   - The last good key set of a source is kept across any number of failed refreshes while a
//     policy uses it (no eviction, unlike Istio's seven days). A source that never succeeded
//     has no entry in Keys, and translation then inlines a key set that verifies nothing.
//   - A set is canonical: only public members, keys Envoy can use, sorted, so fetching the same
//     keys twice is not a change.
//   - Because any policy author can make the control plane fetch a URL, Options.AllowedHosts
//     and Options.DenyPrivateAddresses guard against server-side request forgery. Both are off
//     by default because Istio's istiod has no such restriction and existing policies (for
//     example an in-cluster Keycloak on a private address) must keep working; turn them on
//     where policy authors are not trusted with the control plane's network position.
package jwks
