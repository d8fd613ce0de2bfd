package translate

import (
	"fmt"
	"math/rand/v2"
	"testing"

	securityv1beta1 "istio.io/api/security/v1beta1"
	typev1beta1 "istio.io/api/type/v1beta1"

	"github.com/plainenvoy/controlplane/pkg/explain"
	"github.com/plainenvoy/controlplane/pkg/model"
)

// authzGen generates AuthorizationPolicies from small pools of values that the requests of
// authzGenRequest can match, so rules actually decide something.
type authzGen struct{ r *rand.Rand }

func (g authzGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g authzGen) some(xs ...string) []string {
	var out []string
	for range 1 + g.r.IntN(2) {
		out = append(out, g.pick(xs...))
	}
	return out
}

func (g authzGen) source() *securityv1beta1.Source {
	s := &securityv1beta1.Source{}
	switch g.r.IntN(7) {
	case 0:
		s.Principals = g.some("cluster.local/ns/dev/sa/client", "*", "cluster.local/ns/foo/*", "*/sa/httpbin")
	case 1:
		s.NotNamespaces = g.some("dev", "foo", "*")
	case 2:
		s.RequestPrincipals = g.some("*", "https://x//a/b", "a/b", "https://x/*")
	case 3:
		s.IpBlocks = g.some("10.0.0.0/8", "192.168.1.1")
	case 4:
		s.NotRemoteIpBlocks = g.some("10.0.0.1", "172.16.0.0/12")
	case 5:
		s.ServiceAccounts = g.some("client", "dev/client", "httpbin")
	default:
		s.Namespaces = g.some("dev", "f*")
	}
	return s
}

func (g authzGen) operation() *securityv1beta1.Operation {
	o := &securityv1beta1.Operation{}
	switch g.r.IntN(5) {
	case 0:
		o.Methods = g.some("GET", "POST")
	case 1:
		o.NotPaths = g.some("/admin*", "/api/{*}/users/{**}", "/")
	case 2:
		o.Ports = g.some("8000", "9000")
	case 3:
		o.Hosts = g.some("httpbin", "httpbin:*", "*")
	default:
		o.Paths = g.some("/admin", "*", "/api/*")
	}
	return o
}

func (g authzGen) condition() *securityv1beta1.Condition {
	keys := []string{"request.headers[x-token]", "request.auth.claims[groups]", "source.ip", "destination.port",
		"connection.sni", "source.namespace", "request.auth.principal"}
	vals := map[string][]string{
		"request.headers[x-token]": {"a", "*"}, "request.auth.claims[groups]": {"dev", "ops"}, "source.ip": {"10.0.0.1"},
		"destination.port": {"8000"}, "connection.sni": {"httpbin", "*"}, "source.namespace": {"dev"},
		"request.auth.principal": {"https://x//a/b", "*"},
	}
	k := keys[g.r.IntN(len(keys))]
	c := &securityv1beta1.Condition{Key: k}
	if g.r.IntN(2) == 0 {
		c.Values = g.some(vals[k]...)
	} else {
		c.NotValues = g.some(vals[k]...)
	}
	return c
}

func (g authzGen) rule() *securityv1beta1.Rule {
	r := &securityv1beta1.Rule{}
	for range g.r.IntN(3) {
		r.From = append(r.From, &securityv1beta1.Rule_From{Source: g.source()})
	}
	for range g.r.IntN(3) {
		r.To = append(r.To, &securityv1beta1.Rule_To{Operation: g.operation()})
	}
	for range g.r.IntN(3) {
		r.When = append(r.When, g.condition())
	}
	return r
}

// breakRule injects one defect that validation rejects (and translation must fail closed on).
func (g authzGen) breakRule(r *securityv1beta1.Rule) *securityv1beta1.Rule {
	bad := func(c *securityv1beta1.Condition) { r.When = append(r.When, c) }
	switch g.r.IntN(12) {
	case 0:
		bad(&securityv1beta1.Condition{Key: "request.bogus", Values: []string{"x"}})
	case 1:
		r.From = append(r.From, &securityv1beta1.Rule_From{Source: &securityv1beta1.Source{IpBlocks: []string{"10.0.0.1", "10.0.0.0/33"}}})
	case 2:
		r.To = append(r.To, &securityv1beta1.Rule_To{Operation: &securityv1beta1.Operation{Ports: []string{"http"}}})
	case 3:
		r.To = append(r.To, &securityv1beta1.Rule_To{Operation: &securityv1beta1.Operation{Paths: []string{"/a/{**}/{*}"}}})
	case 4:
		r.From = append(r.From, &securityv1beta1.Rule_From{})
	case 5:
		r.To = append(r.To, &securityv1beta1.Rule_To{Operation: &securityv1beta1.Operation{}})
	case 6:
		r.From = append(r.From, &securityv1beta1.Rule_From{Source: &securityv1beta1.Source{NotServiceAccounts: []string{"a*"}}})
	case 7:
		bad(&securityv1beta1.Condition{Key: "source.ip"})
	case 8:
		bad(&securityv1beta1.Condition{Key: "request.auth.claims[]", Values: []string{"x"}})
	case 9:
		bad(&securityv1beta1.Condition{Key: "destination.labels[app]", NotValues: []string{"x"}})
	case 10:
		r.From = append(r.From, &securityv1beta1.Rule_From{Source: &securityv1beta1.Source{Principals: []string{"a/b", ""}}})
	default:
		return nil
	}
	return r
}

var authzGenActions = []securityv1beta1.AuthorizationPolicy_Action{
	securityv1beta1.AuthorizationPolicy_ALLOW, securityv1beta1.AuthorizationPolicy_DENY,
	securityv1beta1.AuthorizationPolicy_AUDIT, securityv1beta1.AuthorizationPolicy_CUSTOM,
}

// policy returns a random policy; with malformed, every rule has a defect.
func (g authzGen) policy(name string, malformed bool) *model.AuthorizationPolicy {
	spec := &securityv1beta1.AuthorizationPolicy{Action: authzGenActions[g.r.IntN(len(authzGenActions))]}
	if spec.Action == securityv1beta1.AuthorizationPolicy_CUSTOM {
		spec.ActionDetail = &securityv1beta1.AuthorizationPolicy_Provider{Provider: &securityv1beta1.AuthorizationPolicy_ExtensionProvider{Name: g.pick("grpc", "http", "missing")}}
	}
	n := g.r.IntN(3)
	if spec.Action != securityv1beta1.AuthorizationPolicy_ALLOW || malformed {
		n++
	}
	for range n {
		r := g.rule()
		if malformed {
			r = g.breakRule(r)
		}
		spec.Rules = append(spec.Rules, r)
	}
	if malformed && g.r.IntN(8) == 0 {
		spec.Action = securityv1beta1.AuthorizationPolicy_Action(5) // unknown
	}
	if g.r.IntN(6) == 0 {
		spec.Selector = &typev1beta1.WorkloadSelector{MatchLabels: map[string]string{"app": g.pick("httpbin", "other")}}
	}
	meta := model.Meta{Kind: model.KindAuthorizationPolicy, Namespace: g.pick("foo", "istio-system"), Name: name}
	if g.r.IntN(5) == 0 {
		meta.Annotations = map[string]string{model.DryRunAnnotation: g.pick("true", "false", "maybe")}
	}
	return &model.AuthorizationPolicy{Meta: meta, Spec: spec}
}

func authzGenRequest(r *rand.Rand) *explain.RBACRequest {
	g := authzGen{r}
	req := &explain.RBACRequest{
		Method: g.pick("GET", "POST"), Host: g.pick("httpbin", "httpbin:8000"), Path: g.pick("/", "/admin", "/api/v1/users/x"),
		DestinationPort: uint32(r.IntN(2)*1000 + 8000), DestinationIP: "10.1.0.5",
		SourceIP: g.pick("10.0.0.1", "192.168.1.1"), RemoteIP: g.pick("", "172.16.3.4"),
		PeerPrincipal: g.pick("", "spiffe://cluster.local/ns/dev/sa/client", "spiffe://cluster.local/ns/foo/sa/httpbin"),
		SNI:           g.pick("", "httpbin"),
	}
	if r.IntN(2) == 0 {
		req.Headers = map[string]string{"x-token": g.pick("a", "")}
	}
	switch r.IntN(3) {
	case 0:
		req.Metadata = map[string]map[string]any{jwtAuthnFilterName: {jwtPayloadKey: map[string]any{"iss": "https://x/", "sub": "a/b", "groups": []any{"dev"}}}}
	case 1:
		req.Metadata = map[string]map[string]any{jwtAuthnFilterName: {jwtPayloadKey: map[string]any{"iss": "a", "sub": "b"}}}
	}
	return req
}

var authzGenProviders = []ExtAuthzProvider{
	{Name: "grpc", EnvoyExtAuthzGRPC: &ExtAuthzGRPCProvider{Service: "authz.foo.svc.cluster.local", Port: 9000}},
	{Name: "http", EnvoyExtAuthzHTTP: &ExtAuthzHTTPProvider{Service: "authz.foo.svc.cluster.local", Port: 8000}},
}

// TestAuthzFailClosed is the fail-closed property (SEMANTICS.md §4.9, STYLE.md §8): adding a
// malformed AuthorizationPolicy (every rule has a defect validation rejects) never turns a
// denied request or connection into an allowed one. ext_authz is taken to allow, the case in
// which a widening would show.
func TestAuthzFailClosed(t *testing.T) {
	t.Parallel()
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 7))
		g := authzGen{r}
		var base []model.Object
		for i := range r.IntN(4) {
			base = append(base, g.policy(fmt.Sprintf("p%d", i), r.IntN(3) == 0))
		}
		bad := g.policy("malformed", true)
		if !model.HasErrors(model.Validate(bad, model.Mesh{})) {
			t.Fatalf("seed %d: generated policy passes validation: %v", seed, bad.Spec)
		}
		before := Inputs{Store: model.NewStore(model.Mesh{}, base), Proxy: authzTestProxy, ExtAuthz: authzGenProviders}
		after := before
		after.Store = model.NewStore(model.Mesh{}, append(base[:len(base):len(base)], bad))
		for _, chainOf := range []func(testing.TB, Inputs) ([]explain.RBACChainFilter, []model.Problem){authzHTTPChain, authzTCPChain} {
			b, _ := chainOf(t, before)
			a, problems := chainOf(t, after)
			applies := len(model.PoliciesFor([]*model.AuthorizationPolicy{bad}, authzTestProxy, before.Store.Mesh)) > 0
			if applies && len(problems) == 0 {
				t.Errorf("seed %d: malformed policy translated without a problem: %v", seed, bad.Spec)
			}
			for range 20 {
				req := authzGenRequest(r)
				was, err1 := explain.RBACChain(b, req)
				now, err2 := explain.RBACChain(a, req)
				if err1 != nil || err2 != nil {
					t.Fatalf("seed %d: evaluate: %v %v", seed, err1, err2)
				}
				if !was.Allowed && now.Allowed {
					t.Fatalf("seed %d: adding %v (action %v) allowed %+v, denied before by %q", seed, bad.Spec, bad.Spec.GetAction(), req, was.Policy)
				}
			}
		}
	}
}
