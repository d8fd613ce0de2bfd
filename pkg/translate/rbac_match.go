package translate

import (
	"errors"
	"net/netip"
	"regexp"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// errAuthzEmptyValue is returned for "" in any value list; Istio rejects it.
var errAuthzEmptyValue = errors.New("empty value not allowed")

// authzString is the wildcard rule of SEMANTICS.md §4.3 for a value matched after a fixed
// prefix (principals match "spiffe://"+v): "*" is non-empty, "x*" a prefix, "*x" a suffix
// (a regex when there is a fixed prefix, which a suffix matcher would lose), else exact.
func authzString(v, prefix string) *matcherv3.StringMatcher {
	switch {
	case v == "*":
		return authzRegex(".+")
	case strings.HasPrefix(v, "*") && prefix != "":
		return authzRegex(regexp.QuoteMeta(prefix) + ".*" + regexp.QuoteMeta(v[1:]))
	case strings.HasPrefix(v, "*"):
		return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Suffix{Suffix: v[1:]}}
	case strings.HasSuffix(v, "*"):
		return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: prefix + v[:len(v)-1]}}
	}
	return authzExact(prefix + v)
}

func authzExact(s string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: s}}
}

func authzPrefix(s string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: s}}
}

func authzSuffix(s string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Suffix{Suffix: s}}
}

// authzRegex is a full-match RE2 matcher (Envoy's default engine).
func authzRegex(re string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{
		SafeRegex: &matcherv3.RegexMatcher{Regex: re},
	}}
}

// authzHeader matches a header by the wildcard rule; "*" means present (even empty), as Istio.
func authzHeader(name, v string, ignoreCase bool) *routev3.HeaderMatcher {
	h := &routev3.HeaderMatcher{Name: name}
	if v == "*" {
		h.HeaderMatchSpecifier = &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}
		return h
	}
	sm := authzString(v, "")
	sm.IgnoreCase = ignoreCase
	h.HeaderMatchSpecifier = &routev3.HeaderMatcher_StringMatch{StringMatch: sm}
	return h
}

func authzCIDR(p netip.Prefix) *corev3.CidrRange {
	return &corev3.CidrRange{AddressPrefix: p.Addr().String(), PrefixLen: wrapperspb.UInt32(uint32(p.Bits()))}
}

// Principal combinators. Istio wraps even a single value in or_ids; we keep its shape so
// config dumps compare.

func authzAnyID() *rbacv3.Principal {
	return &rbacv3.Principal{Identifier: &rbacv3.Principal_Any{Any: true}}
}

// authzNeverID matches nothing: Envoy has no "false", so it is not(any).
func authzNeverID() *rbacv3.Principal { return authzNotID(authzAnyID()) }

func authzNotID(p *rbacv3.Principal) *rbacv3.Principal {
	return &rbacv3.Principal{Identifier: &rbacv3.Principal_NotId{NotId: p}}
}

func authzOrIDs(ps []*rbacv3.Principal) *rbacv3.Principal {
	return &rbacv3.Principal{Identifier: &rbacv3.Principal_OrIds{OrIds: &rbacv3.Principal_Set{Ids: ps}}}
}

func authzAndIDs(ps []*rbacv3.Principal) *rbacv3.Principal {
	return &rbacv3.Principal{Identifier: &rbacv3.Principal_AndIds{AndIds: &rbacv3.Principal_Set{Ids: ps}}}
}

// authzPeer matches the peer certificate's identity (URI SAN, SEMANTICS.md §5.3).
func authzPeer(sm *matcherv3.StringMatcher) *rbacv3.Principal {
	return &rbacv3.Principal{Identifier: &rbacv3.Principal_Authenticated_{
		Authenticated: &rbacv3.Principal_Authenticated{PrincipalName: sm},
	}}
}

// Permission combinators, mirroring the principal ones.

func authzAnyRule() *rbacv3.Permission {
	return &rbacv3.Permission{Rule: &rbacv3.Permission_Any{Any: true}}
}

func authzNeverRule() *rbacv3.Permission { return authzNotRule(authzAnyRule()) }

func authzNotRule(p *rbacv3.Permission) *rbacv3.Permission {
	return &rbacv3.Permission{Rule: &rbacv3.Permission_NotRule{NotRule: p}}
}

func authzOrRules(ps []*rbacv3.Permission) *rbacv3.Permission {
	return &rbacv3.Permission{Rule: &rbacv3.Permission_OrRules{OrRules: &rbacv3.Permission_Set{Rules: ps}}}
}

func authzAndRules(ps []*rbacv3.Permission) *rbacv3.Permission {
	return &rbacv3.Permission{Rule: &rbacv3.Permission_AndRules{AndRules: &rbacv3.Permission_Set{Rules: ps}}}
}

// authzEachID ORs the principals one function builds for each value; any failure fails the
// whole list, so the caller drops the field as one unit (SEMANTICS.md §4.9).
func authzEachID(values []string, one func(string) ([]*rbacv3.Principal, error)) (*rbacv3.Principal, error) {
	var ids []*rbacv3.Principal
	for _, v := range values {
		if v == "" {
			return nil, errAuthzEmptyValue
		}
		p, err := one(v)
		if err != nil {
			return nil, err
		}
		ids = append(ids, p...)
	}
	return authzOrIDs(ids), nil
}

// authzEachRule is authzEachID for permissions.
func authzEachRule(values []string, one func(string) (*rbacv3.Permission, error)) (*rbacv3.Permission, error) {
	var rules []*rbacv3.Permission
	for _, v := range values {
		if v == "" {
			return nil, errAuthzEmptyValue
		}
		p, err := one(v)
		if err != nil {
			return nil, err
		}
		rules = append(rules, p)
	}
	return authzOrRules(rules), nil
}
