package kube

import (
	"maps"
	"strings"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	corev1 "k8s.io/api/core/v1"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// clusterDomain is the DNS suffix of Service hosts. Translation resolves short names with the
// same suffix (pkg/translate services.go).
const clusterDomain = "svc.cluster.local"

// serviceEntries turns each Service into the ServiceEntry istiod would see for it: host
// <name>.<ns>.svc.cluster.local, the cluster IPs as addresses, the TCP ports with their
// protocol and numeric target port, STATIC resolution, and the Service selector as the
// workload selector (the endpoints are the WorkloadEntries built from ready Pods).
//
// Left out: ExternalName Services (no workloads; use a DNS ServiceEntry) and UDP/SCTP ports
// (nothing we generate carries them). A Service without a selector gets no endpoints.
func serviceEntries(svcs []*corev1.Service) []*model.ServiceEntry {
	var out []*model.ServiceEntry
	for _, svc := range svcs {
		if svc.Spec.Type == corev1.ServiceTypeExternalName {
			continue
		}
		spec := &networkingv1alpha3.ServiceEntry{
			Hosts:      []string{svc.Name + "." + svc.Namespace + "." + clusterDomain},
			Addresses:  clusterIPs(svc),
			Resolution: networkingv1alpha3.ServiceEntry_STATIC,
			Location:   networkingv1alpha3.ServiceEntry_MESH_INTERNAL,
		}
		if len(svc.Spec.Selector) > 0 {
			spec.WorkloadSelector = &networkingv1alpha3.WorkloadSelector{Labels: maps.Clone(svc.Spec.Selector)}
		}
		for _, p := range svc.Spec.Ports {
			if p.Protocol != "" && p.Protocol != corev1.ProtocolTCP {
				continue
			}
			sp := &networkingv1alpha3.ServicePort{
				Number: uint32(p.Port), Name: p.Name, Protocol: protocolOf(p),
			}
			// A named target port differs per Pod: it is resolved into each WorkloadEntry's
			// ports (workloads.go); an unset one is the port itself.
			if p.TargetPort.IntVal > 0 {
				sp.TargetPort = uint32(p.TargetPort.IntVal)
			}
			spec.Ports = append(spec.Ports, sp)
		}
		out = append(out, &model.ServiceEntry{Meta: metaOf(model.KindServiceEntry, "v1", svc), Spec: spec})
	}
	return out
}

func clusterIPs(svc *corev1.Service) []string {
	var out []string
	for _, ip := range svc.Spec.ClusterIPs {
		if ip != "" && ip != corev1.ClusterIPNone {
			out = append(out, ip)
		}
	}
	if len(out) == 0 && svc.Spec.ClusterIP != "" && svc.Spec.ClusterIP != corev1.ClusterIPNone {
		out = append(out, svc.Spec.ClusterIP)
	}
	return out
}

// protocolOf infers a port's protocol as Istio does for Services (kube.ConvertProtocol):
// appProtocol first (including the kubernetes.io/h2c, ws and wss values), then the port
// name's prefix before "-" ("http-web", "grpc"). An unknown protocol stays empty, which
// translation treats as TCP.
func protocolOf(p corev1.ServicePort) string {
	if p.AppProtocol != nil {
		switch ap := *p.AppProtocol; ap {
		case "kubernetes.io/h2c":
			return "HTTP2"
		case "kubernetes.io/ws", "kubernetes.io/wss":
			return "HTTP"
		default:
			if proto := knownProtocol(ap); proto != "" {
				return proto
			}
		}
	}
	if strings.EqualFold(p.Name, "grpc-web") {
		return "GRPC-Web"
	}
	prefix, _, _ := strings.Cut(p.Name, "-")
	return knownProtocol(prefix)
}

// knownProtocol maps a protocol name (any case) to Istio's spelling, or "" when unknown.
func knownProtocol(name string) string {
	switch strings.ToLower(name) {
	case "http":
		return "HTTP"
	case "http2":
		return "HTTP2"
	case "grpc":
		return "GRPC"
	case "grpc-web":
		return "GRPC-Web"
	case "https":
		return "HTTPS"
	case "tls":
		return "TLS"
	case "tcp":
		return "TCP"
	case "mongo":
		return "Mongo"
	case "redis":
		return "Redis"
	case "mysql":
		return "MySQL"
	}
	return ""
}
