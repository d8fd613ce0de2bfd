package translate

import (
	"fmt"
	"strings"

	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// authzClaim matches the claim at path in the verified JWT payload, where jwt_authn leaves it
// (jwtAuthnFilterName, jwtPayloadKey: SEMANTICS.md §3.1). With no token there is no metadata:
// the matcher is false and its negation true.
func authzClaim(path []string, v *matcherv3.ValueMatcher) *rbacv3.Principal {
	segs := make([]*matcherv3.MetadataMatcher_PathSegment, 0, len(path)+1)
	key := func(k string) *matcherv3.MetadataMatcher_PathSegment {
		return &matcherv3.MetadataMatcher_PathSegment{Segment: &matcherv3.MetadataMatcher_PathSegment_Key{Key: k}}
	}
	segs = append(segs, key(jwtPayloadKey))
	for _, k := range path {
		segs = append(segs, key(k))
	}
	return &rbacv3.Principal{Identifier: &rbacv3.Principal_Metadata{Metadata: &matcherv3.MetadataMatcher{
		Filter: jwtAuthnFilterName, Path: segs, Value: v,
	}}}
}

func authzValueString(sm *matcherv3.StringMatcher) *matcherv3.ValueMatcher {
	return &matcherv3.ValueMatcher{MatchPattern: &matcherv3.ValueMatcher_StringMatch{StringMatch: sm}}
}

// authzClaimValues is CLAIM(path, values) of §3.1: the claim is a string matching one of the
// values, or a list (aud, groups, a normalised scope) with an element that does.
func authzClaimValues(path, values []string) *rbacv3.Principal {
	var v *matcherv3.ValueMatcher
	if len(values) == 1 {
		v = authzValueString(authzString(values[0], ""))
	} else {
		var or []*matcherv3.ValueMatcher
		for _, s := range values {
			or = append(or, authzValueString(authzString(s, "")))
		}
		v = &matcherv3.ValueMatcher{MatchPattern: &matcherv3.ValueMatcher_OrMatch{
			OrMatch: &matcherv3.OrMatcher{ValueMatchers: or},
		}}
	}
	list := &matcherv3.ValueMatcher{MatchPattern: &matcherv3.ValueMatcher_ListMatch{
		ListMatch: &matcherv3.ListMatcher{MatchPattern: &matcherv3.ListMatcher_OneOf{OneOf: v}},
	}}
	return authzClaim(path, &matcherv3.ValueMatcher{MatchPattern: &matcherv3.ValueMatcher_OrMatch{
		OrMatch: &matcherv3.OrMatcher{ValueMatchers: []*matcherv3.ValueMatcher{list, v}},
	}})
}

// claimAttr: request.auth.claims[a][b], request.auth.audiences ([aud]) and
// request.auth.presenter ([azp]).
func claimAttr(path []string) authzAttr {
	return authzAttr{httpOnly: true, noCustom: true, wildcard: true, principal: func(values []string) (*rbacv3.Principal, error) {
		for _, v := range values {
			if v == "" {
				return nil, errAuthzEmptyValue
			}
		}
		return authzClaimValues(path, values), nil
	}}
}

// requestPrincipalsAttr: requestPrincipals / request.auth.principal, "iss/sub" (SEMANTICS.md
// §3.2). The joined string is matched by enumerating every '/' split, so issuers and subjects
// containing '/' match exactly (DIFF D3); every branch requires both claims to be non-empty.
func requestPrincipalsAttr() authzAttr {
	return authzAttr{
		httpOnly: true, noCustom: true, wildcard: true,
		principal: func(values []string) (*rbacv3.Principal, error) {
			return authzEachID(values, func(v string) ([]*rbacv3.Principal, error) {
				return requestPrincipalBranches(v), nil
			})
		},
		warn: func(v string) string {
			if !strings.HasPrefix(v, "*") && !strings.HasSuffix(v, "*") && !strings.Contains(v, "/") {
				return fmt.Sprintf("%q can never match: a request principal is <iss>/<sub>", v)
			}
			return ""
		},
	}
}

// requestPrincipalBranches returns the alternatives whose OR matches iss+"/"+sub against v.
func requestPrincipalBranches(v string) []*rbacv3.Principal {
	nonEmpty := authzRegex(".+")
	pair := func(iss, sub *matcherv3.StringMatcher) *rbacv3.Principal {
		return authzAndIDs([]*rbacv3.Principal{
			authzClaim([]string{"iss"}, authzValueString(iss)), authzClaim([]string{"sub"}, authzValueString(sub)),
		})
	}
	orNonEmpty := func(s string, m func(string) *matcherv3.StringMatcher) *matcherv3.StringMatcher {
		if s == "" {
			return nonEmpty
		}
		return m(s)
	}
	var out []*rbacv3.Principal
	switch {
	case v == "*":
		return []*rbacv3.Principal{pair(nonEmpty, nonEmpty)}
	case strings.HasSuffix(v, "*"): // iss/sub starts with p
		p := v[:len(v)-1]
		out = append(out, pair(authzPrefix(p), nonEmpty))
		for k := range slashes(p) {
			if p[:k] != "" {
				out = append(out, pair(authzExact(p[:k]), orNonEmpty(p[k+1:], authzPrefix)))
			}
		}
	case strings.HasPrefix(v, "*"): // iss/sub ends with x
		x := v[1:]
		out = append(out, pair(nonEmpty, authzSuffix(x)))
		for k := range slashes(x) {
			if x[k+1:] != "" {
				out = append(out, pair(orNonEmpty(x[:k], authzSuffix), authzExact(x[k+1:])))
			}
		}
	default:
		for k := range slashes(v) {
			if v[:k] != "" && v[k+1:] != "" {
				out = append(out, pair(authzExact(v[:k]), authzExact(v[k+1:])))
			}
		}
	}
	if len(out) == 0 {
		// No split gives a non-empty issuer and subject: nothing can match.
		out = append(out, authzNeverID())
	}
	return out
}

// slashes yields the index of every '/' in s, in order.
func slashes(s string) func(yield func(int) bool) {
	return func(yield func(int) bool) {
		for i := 0; i < len(s); i++ {
			if s[i] == '/' && !yield(i) {
				return
			}
		}
	}
}
