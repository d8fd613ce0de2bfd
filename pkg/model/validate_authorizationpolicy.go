package model

// validateAuthorizationPolicy: TODO(#7) Istio's AuthorizationPolicy checks (SEMANTICS.md §4.2).
func validateAuthorizationPolicy(ap *AuthorizationPolicy, mesh Mesh) []Problem { return nil }
