package model

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Role is what a proxy does: a gateway serves Gateway listeners, a sidecar fronts one workload.
type Role string

const (
	RoleGateway Role = "gateway"
	RoleSidecar Role = "sidecar"
)

// Interception is how a sidecar receives traffic.
type Interception string

const (
	// InterceptionTransparent: istio-iptables redirects inbound traffic to 15006 and outbound
	// to 15001; listeners use the original destination.
	InterceptionTransparent Interception = "transparent"
	// InterceptionExplicit: the application calls 127.0.0.1:<service port> for each service it
	// uses, and callers reach the workload on its inbound ports; no iptables.
	InterceptionExplicit Interception = "explicit"
)

// Proxy is the identity of one connected Envoy, parsed from its bootstrap node. Proxies with
// equal GroupKey get byte-identical configuration.
type Proxy struct {
	ID             string
	Cluster        string
	Role           Role
	Namespace      string
	Labels         map[string]string
	ServiceAccount string
	Interception   Interception
	// IP is the workload address, informational: listeners match on ports, not on this address,
	// so it is not part of the group key.
	IP string
	// IdentityProven is set by the serving layer, never by the node: the proxy proved on its ADS
	// connection that it is Namespace/ServiceAccount (a client certificate with that SPIFFE ID).
	// Only such proxies are sent their workload private key; it is part of the group key, so a
	// proxy that merely claims an identity never shares a snapshot with one that proved it.
	IdentityProven bool
	// WorkloadSDSCluster names a cluster in the proxy's bootstrap that reaches a local SDS agent
	// (e.g. a SPIRE agent's socket). When set, the workload certificate and trust bundle
	// ("default", "ROOTCA") are fetched from that agent, and the control plane never handles
	// the proxy's keys ("workload_sds_cluster" metadata).
	WorkloadSDSCluster string
	// InboundPorts maps a workload (target) port to the port the sidecar listens on for it in
	// explicit mode ("inbound_ports" metadata); empty means the same port number + 10000.
	InboundPorts map[uint32]uint32
	// OutboundAddress is where an explicit-mode sidecar's outbound listeners are bound
	// ("outbound_address" metadata, an IP); empty means 127.0.0.1. Sidecars sharing a host
	// (tests, a VM with several workloads) each need their own.
	OutboundAddress string
}

// Node metadata keys. The lower-case keys are ours; the upper-case ones are what Istio's own
// bootstraps send, accepted so an existing Istio bootstrap works unchanged.
const (
	metaNamespace      = "namespace"
	metaLabels         = "labels"
	metaRole           = "role"
	metaServiceAccount = "service_account"
	metaInterception   = "interception"
	metaIP             = "ip"
	metaInboundPorts   = "inbound_ports"
	metaWorkloadSDS    = "workload_sds_cluster"
	metaOutboundAddr   = "outbound_address"

	istioNamespace      = "NAMESPACE"
	istioLabels         = "LABELS"
	istioServiceAccount = "SERVICE_ACCOUNT"
	istioInterception   = "INTERCEPTION_MODE"
	istioIPs            = "INSTANCE_IPS"
)

// ProxyFromNode parses an Envoy node (id, cluster and metadata as a plain map, e.g. from
// structpb.Struct.AsMap). It returns the best proxy it can build and an error describing
// every missing or malformed key; callers serve an empty-but-valid config for such a proxy
// rather than refuse it.
func ProxyFromNode(id, cluster string, md map[string]any) (Proxy, error) {
	p := Proxy{ID: id, Cluster: cluster, Labels: map[string]string{}}
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	str := func(keys ...string) string {
		for _, k := range keys {
			v, ok := md[k]
			if !ok {
				continue
			}
			s, ok := v.(string)
			if !ok {
				fail("metadata.%s: must be a string, got %T", k, v)
				continue
			}
			return s
		}
		return ""
	}

	p.Namespace = str(metaNamespace, istioNamespace)
	p.ServiceAccount = str(metaServiceAccount, istioServiceAccount)
	p.WorkloadSDSCluster = str(metaWorkloadSDS)
	p.IP = str(metaIP)
	if p.IP == "" {
		// Istio sends a comma-separated list; the first address is the primary one.
		p.IP, _, _ = strings.Cut(str(istioIPs), ",")
	}

	for _, k := range []string{metaLabels, istioLabels} {
		v, ok := md[k]
		if !ok {
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			fail("metadata.%s: must be a map of strings, got %T", k, v)
			break
		}
		for lk, lv := range m {
			s, ok := lv.(string)
			if !ok {
				fail("metadata.%s[%s]: must be a string, got %T", k, lk, lv)
				continue
			}
			p.Labels[lk] = s
		}
		break
	}

	// Role: explicit metadata first, then Istio's node-id convention "<type>~ip~pod.ns~domain".
	prefix, _, hasTilde := strings.Cut(id, "~")
	switch r := str(metaRole); {
	case r == string(RoleGateway) || r == string(RoleSidecar):
		p.Role = Role(r)
	case r != "":
		fail("metadata.%s: must be %q or %q, got %q", metaRole, RoleGateway, RoleSidecar, r)
	case hasTilde && prefix == "router":
		p.Role = RoleGateway
	case hasTilde && prefix == "sidecar":
		p.Role = RoleSidecar
	default:
		fail("metadata.%s: missing (or use an Istio node id starting with router~ or sidecar~)", metaRole)
	}

	switch m := strings.ToLower(str(metaInterception, istioInterception)); m {
	case "", "redirect", "tproxy", string(InterceptionTransparent):
		p.Interception = InterceptionTransparent
	case "none", string(InterceptionExplicit):
		p.Interception = InterceptionExplicit
	default:
		fail("metadata.%s: must be %q or %q, got %q", metaInterception, InterceptionTransparent, InterceptionExplicit, m)
		p.Interception = InterceptionTransparent
	}

	if v, ok := md[metaInboundPorts]; ok {
		ports, err := parsePortMap(v)
		if err != nil {
			fail("metadata.%s: %v", metaInboundPorts, err)
		}
		p.InboundPorts = ports
	}

	if a := str(metaOutboundAddr); a != "" {
		if ip, err := netip.ParseAddr(a); err != nil {
			fail("metadata.%s: not an IP address: %q", metaOutboundAddr, a)
		} else {
			p.OutboundAddress = ip.String()
		}
	}

	if p.Namespace == "" {
		fail("metadata.%s: missing", metaNamespace)
	}
	if p.Role == RoleSidecar && p.ServiceAccount == "" {
		fail("metadata.%s: missing (sidecars need one for their identity)", metaServiceAccount)
	}
	if len(errs) > 0 {
		return p, fmt.Errorf("node %q: %s", id, strings.Join(errs, "; "))
	}
	return p, nil
}

// parsePortMap reads {"8080": 18080} (JSON numbers arrive as float64, strings are accepted too).
func parsePortMap(v any) (map[uint32]uint32, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("must be a map of port to port, got %T", v)
	}
	out := make(map[uint32]uint32, len(m))
	for k, pv := range m {
		from, err := parsePort(k)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		var to uint32
		switch x := pv.(type) {
		case float64:
			if x != float64(uint32(x)) || x < 1 || x > 65535 {
				return nil, fmt.Errorf("value for %q: %v is not a port", k, x)
			}
			to = uint32(x)
		case string:
			if to, err = parsePort(x); err != nil {
				return nil, fmt.Errorf("value for %q: %w", k, err)
			}
		default:
			return nil, fmt.Errorf("value for %q: must be a number, got %T", k, pv)
		}
		out[from] = to
	}
	return out, nil
}

func parsePort(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%q is not a port (1-65535)", s)
	}
	return uint32(n), nil
}

// OutboundBindAddress is the address of an explicit-mode sidecar's outbound listeners.
func (p Proxy) OutboundBindAddress() string {
	if p.OutboundAddress != "" {
		return p.OutboundAddress
	}
	return "127.0.0.1"
}

// InboundListenPort is the port an explicit-mode sidecar listens on for a workload port.
func (p Proxy) InboundListenPort(targetPort uint32) uint32 {
	if lp, ok := p.InboundPorts[targetPort]; ok {
		return lp
	}
	return targetPort + 10000
}

// GroupKey identifies the configuration this proxy gets: every field that translation reads,
// never the node id. Two proxies with equal keys share one snapshot.
func (p Proxy) GroupKey() string {
	h := sha256.New()
	field := func(s string) { fmt.Fprintf(h, "%d:%s;", len(s), s) }
	field(string(p.Role))
	field(p.Namespace)
	field(p.ServiceAccount)
	field(string(p.Interception))
	field(strconv.FormatBool(p.IdentityProven))
	field(p.WorkloadSDSCluster)
	field(p.OutboundAddress)
	// Each map is preceded by its size, so where the labels end and the ports begin is never
	// ambiguous (a label "1=2": "3=4" must not hash like the inbound ports 1=2 and 3=4).
	field(strconv.Itoa(len(p.Labels)))
	for _, k := range slices.Sorted(maps.Keys(p.Labels)) {
		field(k)
		field(p.Labels[k])
	}
	field(strconv.Itoa(len(p.InboundPorts)))
	for _, k := range slices.Sorted(maps.Keys(p.InboundPorts)) {
		field(strconv.Itoa(int(k)) + "=" + strconv.Itoa(int(p.InboundPorts[k])))
	}
	return string(p.Role) + "~" + p.Namespace + "~" + hex.EncodeToString(h.Sum(nil))[:16]
}

// SPIFFEID is the proxy's workload identity in the given trust domain.
func (p Proxy) SPIFFEID(trustDomain string) string {
	return "spiffe://" + trustDomain + "/ns/" + p.Namespace + "/sa/" + p.ServiceAccount
}
