package file

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	securityv1beta1 "istio.io/api/security/v1beta1"

	"github.com/plainenvoy/controlplane/pkg/model"
)

type kindSupport int

const (
	kindRead       kindSupport = iota
	kindUnknown                // a kind we do not read: reported and skipped
	kindBadVersion             // a kind we read, in a version Istio does not serve
	kindRejected               // security.istio.io/v1alpha1, authentication.istio.io: removed APIs (SEMANTICS.md §1)
)

// Istio's v1 types alias v1beta1 (security) and v1alpha3 (networking), so every served
// version decodes into the same message.
var (
	securityVersions   = []string{"security.istio.io/v1", "security.istio.io/v1beta1"}
	networkingVersions = []string{"networking.istio.io/v1", "networking.istio.io/v1beta1", "networking.istio.io/v1alpha3"}
)

func newSpec(kind model.Kind) proto.Message {
	switch kind {
	case model.KindRequestAuthentication:
		return &securityv1beta1.RequestAuthentication{}
	case model.KindAuthorizationPolicy:
		return &securityv1beta1.AuthorizationPolicy{}
	case model.KindPeerAuthentication:
		return &securityv1beta1.PeerAuthentication{}
	case model.KindGateway:
		return &networkingv1alpha3.Gateway{}
	case model.KindVirtualService:
		return &networkingv1alpha3.VirtualService{}
	case model.KindDestinationRule:
		return &networkingv1alpha3.DestinationRule{}
	case model.KindServiceEntry:
		return &networkingv1alpha3.ServiceEntry{}
	case model.KindWorkloadEntry:
		return &networkingv1alpha3.WorkloadEntry{}
	}
	return nil
}

func versionsOf(kind model.Kind) []string {
	switch kind {
	case model.KindRequestAuthentication, model.KindAuthorizationPolicy, model.KindPeerAuthentication:
		return securityVersions
	case model.KindGateway, model.KindVirtualService, model.KindDestinationRule, model.KindServiceEntry, model.KindWorkloadEntry:
		return networkingVersions
	case model.KindSecret:
		return []string{"v1"}
	}
	return nil
}

func supportedVersions(kind model.Kind) string {
	return "use " + strings.Join(versionsOf(kind), " or ")
}

// specFor returns a new spec message for kind in apiVersion (nil for Secrets) and whether
// the pair is read.
func specFor(apiVersion string, kind model.Kind) (proto.Message, kindSupport) {
	group, _, _ := strings.Cut(apiVersion, "/")
	versions := versionsOf(kind)
	switch {
	case apiVersion == "security.istio.io/v1alpha1" || group == "authentication.istio.io":
		return nil, kindRejected
	case versions == nil:
		return nil, kindUnknown
	case slices.Contains(versions, apiVersion):
		return newSpec(kind), kindRead
	case kind == model.KindSecret && strings.Contains(apiVersion, "/"):
		return nil, kindUnknown // a CRD of another group that happens to be called Secret
	}
	if g, _, _ := strings.Cut(versions[0], "/"); g != group && kind != model.KindSecret {
		// Same kind name in another API group (e.g. Gateway API's gateway.networking.k8s.io Gateway).
		return nil, kindUnknown
	}
	return nil, kindBadVersion
}

func wrap(meta model.Meta, spec proto.Message) model.Object {
	switch s := spec.(type) {
	case *securityv1beta1.RequestAuthentication:
		return &model.RequestAuthentication{Meta: meta, Spec: s}
	case *securityv1beta1.AuthorizationPolicy:
		return &model.AuthorizationPolicy{Meta: meta, Spec: s}
	case *securityv1beta1.PeerAuthentication:
		return &model.PeerAuthentication{Meta: meta, Spec: s}
	case *networkingv1alpha3.Gateway:
		return &model.Gateway{Meta: meta, Spec: s}
	case *networkingv1alpha3.VirtualService:
		return &model.VirtualService{Meta: meta, Spec: s}
	case *networkingv1alpha3.DestinationRule:
		return &model.DestinationRule{Meta: meta, Spec: s}
	case *networkingv1alpha3.ServiceEntry:
		return &model.ServiceEntry{Meta: meta, Spec: s}
	case *networkingv1alpha3.WorkloadEntry:
		return &model.WorkloadEntry{Meta: meta, Spec: s}
	}
	panic(fmt.Sprintf("file: no model type for %T", spec))
}
