package model

// validateRequestAuthentication: TODO(#6) Istio's RequestAuthentication checks (SEMANTICS.md §2.1).
func validateRequestAuthentication(ra *RequestAuthentication) []Problem { return nil }
