package explain

import (
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
)

// virtualInbound is the transparent-interception sidecar's inbound listener: iptables sends
// every inbound connection to it, and its filter chains match the original destination port.
const virtualInbound = "virtualInbound"

// pickListener returns the listener a connection to port reaches: the sidecar's
// virtualInbound when there is one (the port is then the original destination), otherwise
// the listener bound to that port (a gateway's 0.0.0.0_<port>, an explicit sidecar's
// inbound_<port>). Listeners with bind_to_port false only receive connections handed over by
// another listener, so they are never picked by port.
func pickListener(listeners []*listenerv3.Listener, port uint32) (*listenerv3.Listener, string) {
	for _, l := range listeners {
		if l.GetName() == virtualInbound {
			return l, "transparent interception: iptables redirects inbound connections to virtualInbound, which matches the original destination port"
		}
	}
	for _, l := range listeners {
		if l.GetBindToPort() != nil && !l.GetBindToPort().GetValue() {
			continue
		}
		if l.GetAddress().GetSocketAddress().GetPortValue() == port {
			return l, "bound to the destination port"
		}
	}
	return nil, ""
}

// hasListenerFilter reports whether a listener filter of the given type runs on the listener.
func hasListenerFilter(l *listenerv3.Listener, typeURL string) bool {
	for _, f := range l.GetListenerFilters() {
		if f.GetTypedConfig().GetTypeUrl() == typeURL {
			return true
		}
	}
	return false
}
