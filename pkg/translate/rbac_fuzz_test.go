package translate

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/plainenvoy/controlplane/pkg/explain"
	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/sources/file"
)

// validateDeep runs ValidateAll on m and on every message packed in an Any inside it, which
// ValidateAll itself does not open (typed_config, uri_template).
func validateDeep(m proto.Message) error {
	if v, ok := m.(interface{ ValidateAll() error }); ok {
		if err := v.ValidateAll(); err != nil {
			return fmt.Errorf("%s: %w", proto.MessageName(m), err)
		}
	}
	var err error
	var walk func(protoreflect.Message)
	walk = func(msg protoreflect.Message) {
		if a, ok := msg.Interface().(*anypb.Any); ok {
			inner, uerr := a.UnmarshalNew()
			if uerr != nil {
				err = uerr
				return
			}
			if verr := validateDeep(inner); verr != nil {
				err = verr
			}
			return
		}
		msg.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsList() && fd.Message() != nil:
				for i := range v.List().Len() {
					walk(v.List().Get(i).Message())
				}
			case fd.IsMap() && fd.MapValue().Message() != nil:
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool { walk(mv.Message()); return true })
			case fd.Message() != nil && !fd.IsMap():
				walk(v.Message())
			}
			return err == nil
		})
	}
	walk(m.ProtoReflect())
	return err
}

// FuzzTranslateAuthorizationPolicy decodes YAML like the file source, translates every
// AuthorizationPolicy for the test sidecar and requires valid filters that the evaluator can
// run, without panics.
func FuzzTranslateAuthorizationPolicy(f *testing.F) {
	for _, seed := range []string{
		authzHeader0 + "  {name: a, namespace: foo}\nspec: {rules: [{from: [{source: {principals: ['*'], requestPrincipals: ['a/b*']}}], to: [{operation: {paths: ['/a/{*}'], ports: ['80']}}], when: [{key: 'request.auth.claims[a][b]', values: [x]}]}]}\n",
		authzHeader0 + "  {name: d, namespace: foo, annotations: {istio.io/dry-run: 'true'}}\nspec: {action: DENY, rules: [{from: [{source: {ipBlocks: ['1.2.3.4/33']}}], when: [{key: 'experimental.envoy.filters.a[b]', values: ['[c]']}]}]}\n",
		authzHeader0 + "  {name: c, namespace: foo}\nspec: {action: CUSTOM, provider: {name: grpc}, rules: [{to: [{operation: {hosts: ['*.x'], methods: [GET]}}]}]}\n",
		authzHeader0 + "  {name: x, namespace: istio-system}\nspec: {action: AUDIT, rules: [{from: [{source: {trustDomains: ['a*'], serviceAccounts: ['ns/sa']}}], when: [{key: remote.ip, notValues: ['::1']}]}]}\n",
	} {
		f.Add([]byte(seed))
	}
	req := &explain.RBACRequest{Method: "GET", Host: "h", Path: "/a/b", DestinationPort: 80, SourceIP: "1.2.3.4",
		PeerPrincipal: "spiffe://cluster.local/ns/foo/sa/x",
		Metadata:      map[string]map[string]any{jwtAuthnFilterName: {jwtPayloadKey: map[string]any{"iss": "a", "sub": "b"}}}}
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, _ := file.Decode("fuzz.yaml", data)
		in := Inputs{Store: model.NewStore(model.Mesh{}, objs), Proxy: authzTestProxy, ExtAuthz: authzGenProviders}
		for _, chainOf := range []func(testing.TB, Inputs) ([]explain.RBACChainFilter, []model.Problem){authzHTTPChain, authzTCPChain} {
			chain, _ := chainOf(t, in)
			if _, err := explain.RBACChain(chain, req); err != nil {
				t.Fatalf("evaluate: %v", err)
			}
		}
		httpFs, _ := customAuthzFilters(in)
		for _, a := range []policyAction{actionAudit, actionDeny, actionAllow} {
			fs, _ := rbacHTTPFilters(in, a)
			httpFs = append(httpFs, fs...)
		}
		for _, fl := range httpFs {
			if err := validateDeep(fl); err != nil {
				t.Fatalf("http filter %s: %v", fl.GetName(), err)
			}
		}
		netFs, _ := rbacNetworkFilters(in)
		for _, fl := range netFs {
			if err := validateDeep(fl); err != nil {
				t.Fatalf("network filter %s: %v", fl.GetName(), err)
			}
		}
	})
}
