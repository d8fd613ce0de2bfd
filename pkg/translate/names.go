package translate

import (
	"fmt"
	"strconv"
)

// Envoy resource names. They follow Istio's scheme so config dumps compare with Istio's and
// every name traces back to its source:
//
//	outbound|<port>|<subset>|<host>   cluster (and EDS resource) for a service port [and subset]
//	inbound|<port>||                  cluster to the local application on a workload port
//	http.<port>                       gateway route configuration for a plain HTTP port
//	<port>                            sidecar outbound route configuration for a service port
//	0.0.0.0_<port>                    listener on a port (gateway; sidecar outbound, not bound)
//	virtualInbound / virtualOutbound  transparent-interception sidecar listeners (15006 / 15001)
//	inbound_<port>                    explicit-mode sidecar inbound listener
//	127.0.0.1_<port>                  explicit-mode sidecar outbound listener
//	https.<port>.<server>.<gw>.<ns>   gateway HTTPS route configuration and filter chain (server
//	                                  name, or its index when unnamed)
//	inbound|<port>||[mtls|tls]        inbound filter chains: plaintext, mesh mTLS, TLS passthrough
//	<ns>/<vs>/tls[i][/match[j]]       gateway PASSTHROUGH filter chain of a VirtualService tls route
//	<ns>/<vs>/http[i][/<name>]        route of a VirtualService http route
//	ns[<ns>]-policy[<name>]-rule[<i>] RBAC policy (see rbac_policy.go)
//
// SDS secret names (delivered over ADS): "default" (the workload certificate) and "ROOTCA" (the
// mesh trust bundle) as Istio names them; "kubernetes://<name>" and "kubernetes://<name>-cacert"
// for credentialName Secrets; "invalid://<ns>/<name>" for a credential that must never resolve
// (SEMANTICS.md D7), so its connections fail closed.
const (
	passthroughCluster = "PassthroughCluster"
	blackholeCluster   = "BlackHoleCluster"
	virtualInbound     = "virtualInbound"
	virtualOutbound    = "virtualOutbound"

	// Istio's transparent-interception ports, as istio-iptables sets them up.
	virtualInboundPort  = 15006
	virtualOutboundPort = 15001
)

func outboundClusterName(port uint32, subset, host string) string {
	return fmt.Sprintf("outbound|%d|%s|%s", port, subset, host)
}

func inboundClusterName(port uint32) string { return fmt.Sprintf("inbound|%d||", port) }

func gatewayRouteName(port uint32) string { return "http." + strconv.Itoa(int(port)) }

func listenerName(address string, port uint32) string {
	return address + "_" + strconv.Itoa(int(port))
}
