package snapshot

import (
	"fmt"
	"slices"

	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/plainenvoy/controlplane/pkg/translate"
)

// validator is what every generated Envoy message implements (protoc-gen-validate).
type validator interface{ ValidateAll() error }

// configError is a resource the control plane built but must not serve: always a bug in
// translation, never bad user input (that is reported as a model.Problem).
type configError struct {
	kind string // metric label: "invalid" or "dangling_reference"
	err  error
}

func (e *configError) Error() string { return e.err.Error() }

// check runs ValidateAll on every resource, then checks that every route, endpoint and secret
// a listener or cluster references is in the same snapshot, except the secrets the control
// plane deliberately leaves unanswered: the credentials translation lists in
// r.UnansweredSecrets, and the workload identity (see unansweredByDesign). Resources shared
// with other groups (shared, from build) are validated and walked for secret references once.
func check(r translate.Resources, snap *cache.Snapshot, shared map[types.Resource]*sharedRes) error {
	for _, items := range byType(r) {
		for _, res := range items {
			sr := shared[res]
			if sr != nil && sr.validated.Load() {
				continue
			}
			if v, ok := res.(validator); ok {
				if err := v.ValidateAll(); err != nil {
					return &configError{kind: "invalid", err: fmt.Errorf("%T %s: %w", res, cache.GetResourceName(res), err)}
				}
			}
			if sr != nil {
				sr.validated.Store(true)
			}
		}
	}
	if err := consistent(r, snap); err != nil {
		return &configError{kind: "dangling_reference", err: err}
	}
	have := map[string]bool{}
	for _, s := range r.Secrets {
		have[s.GetName()] = true
	}
	for _, list := range [][]types.Resource{asResources(r.Listeners), asResources(r.Clusters)} {
		for _, res := range list {
			var refs []string
			if sr := shared[res]; sr != nil {
				refs = sr.secretRefs(res.ProtoReflect())
			} else {
				refs = adsSecretRefs(res.ProtoReflect())
			}
			for _, name := range refs {
				if !have[name] && !slices.Contains(r.UnansweredSecrets, name) && !unansweredByDesign(name) {
					return &configError{kind: "dangling_reference", err: fmt.Errorf(
						"%T %s references secret %q, which is not in the snapshot", res, cache.GetResourceName(res), name)}
				}
			}
		}
	}
	return nil
}

// unansweredByDesign reports whether a secret may be referenced without being in the group's
// snapshot because the serving layer itself decides: the workload identity secrets "default"
// and "ROOTCA" are not part of a group's translation; they are delivered per proxy, only to
// proxies that proved their identity (identity.go). Any other missing name that translation
// did not list as unanswered is a bug.
func unansweredByDesign(name string) bool {
	return name == workloadCertSecret || name == workloadRootSecret
}

// The SDS names of the workload certificate and trust bundle, as Istio names them.
const (
	workloadCertSecret = "default"
	workloadRootSecret = "ROOTCA"
)

var sdsConfigName = (&tlsv3.SdsSecretConfig{}).ProtoReflect().Descriptor().FullName()

// adsSecretRefs returns the names of the SDS secrets m asks for over ADS (an SdsSecretConfig
// with no sds_config, or with ads), looking inside typed_config Anys. Secrets from another
// SDS server (a SPIRE agent's socket) are not ours to serve.
func adsSecretRefs(m protoreflect.Message) []string {
	var out []string
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		if m.Descriptor().FullName() == sdsConfigName {
			sds := m.Interface().(*tlsv3.SdsSecretConfig)
			if src := sds.GetSdsConfig(); src == nil || src.GetAds() != nil {
				out = append(out, sds.GetName())
			}
			return
		}
		if a, ok := m.Interface().(*anypb.Any); ok {
			if inner, err := a.UnmarshalNew(); err == nil {
				walk(inner.ProtoReflect())
			}
			return
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			if fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind {
				return true
			}
			switch {
			case fd.IsList():
				for i := 0; i < v.List().Len(); i++ {
					walk(v.List().Get(i).Message())
				}
			case fd.IsMap():
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					if fd.MapValue().Message() != nil {
						walk(mv.Message())
					}
					return true
				})
			default:
				walk(v.Message())
			}
			return true
		})
	}
	walk(m)
	slices.Sort(out)
	return slices.Compact(out)
}

// consistent requires the routes and endpoints in the snapshot to be exactly those the
// listeners and clusters reference: a missing one leaves Envoy waiting, and an unreferenced one
// makes go-control-plane's ADS cache hold back every RDS or EDS response (Envoy never names
// it). It is go-control-plane's Consistent plus the RDS names of API listeners (proxyless
// gRPC), which the library does not look at.
func consistent(r translate.Resources, snap *cache.Snapshot) error {
	refs := cache.GetAllResourceReferences(snap.Resources)
	routes := refs[resourcev3.RouteType]
	if routes == nil {
		routes = map[string]bool{}
	}
	for _, l := range r.Listeners {
		var hcm hcmv3.HttpConnectionManager
		if a := l.GetApiListener().GetApiListener(); a != nil && a.UnmarshalTo(&hcm) == nil {
			if name := hcm.GetRds().GetRouteConfigName(); name != "" {
				routes[name] = true
			}
		}
	}
	if err := sameNames(resourcev3.RouteType, routes, asResources(r.Routes)); err != nil {
		return err
	}
	return sameNames(resourcev3.EndpointType, refs[resourcev3.EndpointType], asResources(r.Endpoints))
}

func sameNames(typeURL string, referenced map[string]bool, have []types.Resource) error {
	present := map[string]bool{}
	for _, res := range have {
		name := cache.GetResourceName(res)
		present[name] = true
		if !referenced[name] {
			return fmt.Errorf("%s %q is not referenced by any listener or cluster", typeURL, name)
		}
	}
	for name := range referenced {
		if !present[name] {
			return fmt.Errorf("%s %q is referenced but not in the snapshot", typeURL, name)
		}
	}
	return nil
}

// Check runs, on a translation, every check a group's configuration must pass before it is
// served (ValidateAll, routes and endpoints exactly those referenced, every ADS secret present
// or deliberately unanswered). The translation's golden tests run it on every case.
func Check(r translate.Resources) error {
	b, err := build(r, nil)
	if err != nil {
		return err
	}
	return check(r, b.snap, nil)
}
