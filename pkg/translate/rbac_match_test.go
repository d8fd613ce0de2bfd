package translate

import (
	"net/netip"
	"testing"

	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
)

func mustPrefix(t *testing.T, s string) netip.Prefix {
	t.Helper()
	p, err := netip.ParsePrefix(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAuthzString pins the wildcard rule of SEMANTICS.md §4.3.
func TestAuthzString(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		v, prefix string
		want      *matcherv3.StringMatcher
	}{
		"exact":                 {v: "abc", want: authzExact("abc")},
		"prefix":                {v: "abc*", want: authzPrefix("abc")},
		"suffix":                {v: "*abc", want: authzSuffix("abc")},
		"star is non-empty":     {v: "*", want: authzRegex(".+")},
		"middle star literal":   {v: "a*b", want: authzExact("a*b")},
		"with fixed prefix":     {v: "td/ns/a", prefix: "spiffe://", want: authzExact("spiffe://td/ns/a")},
		"prefix with fixed":     {v: "td/*", prefix: "spiffe://", want: authzPrefix("spiffe://td/")},
		"suffix keeps fixed":    {v: "*/sa/x", prefix: "spiffe://", want: authzRegex("spiffe://.*/sa/x")},
		"star ignores fixed":    {v: "*", prefix: "spiffe://", want: authzRegex(".+")},
		"suffix quotes regexes": {v: "*a.b+", prefix: "spiffe://", want: authzRegex(`spiffe://.*a\.b\+`)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, authzString(tc.v, tc.prefix), protocmp.Transform()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
