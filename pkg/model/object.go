package model

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	securityv1beta1 "istio.io/api/security/v1beta1"
)

// Kind is the Kubernetes kind of a configuration object.
type Kind string

// The kinds the control plane reads. Istio's v1 types alias the v1beta1 (security) and
// v1alpha3 (networking) messages, so every served version decodes into the same Go type.
const (
	KindRequestAuthentication Kind = "RequestAuthentication"
	KindAuthorizationPolicy   Kind = "AuthorizationPolicy"
	KindPeerAuthentication    Kind = "PeerAuthentication"
	KindGateway               Kind = "Gateway"
	KindVirtualService        Kind = "VirtualService"
	KindDestinationRule       Kind = "DestinationRule"
	KindServiceEntry          Kind = "ServiceEntry"
	KindWorkloadEntry         Kind = "WorkloadEntry"
	KindSecret                Kind = "Secret"
)

// Origin says where an object came from, so every problem and every generated Envoy resource
// can be traced back to the YAML a person wrote.
type Origin struct {
	File     string // file source: path relative to the config directory
	Line     int    // file source: 1-based line of the document's first line, 0 if unknown
	Resource string // Kubernetes source: "ns/name@resourceVersion"
}

// String renders the origin as "file:line" or "ns/name@rv".
func (o Origin) String() string {
	switch {
	case o.File != "" && o.Line > 0:
		return fmt.Sprintf("%s:%d", o.File, o.Line)
	case o.File != "":
		return o.File
	default:
		return o.Resource
	}
}

// Meta is the Kubernetes object metadata the control plane uses.
type Meta struct {
	Kind        Kind
	APIVersion  string
	Namespace   string
	Name        string
	Labels      map[string]string
	Annotations map[string]string
	// CreationTimestamp orders policies where Istio picks the oldest; zero for files.
	CreationTimestamp time.Time
	// Order is the position in the source (file order, then document order). It breaks ties
	// where Istio uses creationTimestamp and the file source has none (SEMANTICS.md D9).
	Order  int
	Origin Origin
}

// Key returns "namespace/name".
func (m Meta) Key() string { return m.Namespace + "/" + m.Name }

// Config is one object of a kind whose spec is an istio.io/api message.
type Config[T proto.Message] struct {
	Meta
	Spec T
}

// Secret is the part of a Kubernetes Secret the control plane uses (TLS credentials).
type Secret struct {
	Meta
	Type string
	Data map[string][]byte
}

// Aliases for the concrete configs; the specs are Istio's own types.
type (
	RequestAuthentication = Config[*securityv1beta1.RequestAuthentication]
	AuthorizationPolicy   = Config[*securityv1beta1.AuthorizationPolicy]
	PeerAuthentication    = Config[*securityv1beta1.PeerAuthentication]
	Gateway               = Config[*networkingv1alpha3.Gateway]
	VirtualService        = Config[*networkingv1alpha3.VirtualService]
	DestinationRule       = Config[*networkingv1alpha3.DestinationRule]
	ServiceEntry          = Config[*networkingv1alpha3.ServiceEntry]
	WorkloadEntry         = Config[*networkingv1alpha3.WorkloadEntry]
)

// Object is any decoded object, as sources hand them over before they are grouped by kind.
type Object interface {
	ObjectMeta() *Meta
}

// ObjectMeta returns the metadata.
func (c *Config[T]) ObjectMeta() *Meta { return &c.Meta }

// ObjectMeta returns the metadata.
func (s *Secret) ObjectMeta() *Meta { return &s.Meta }
