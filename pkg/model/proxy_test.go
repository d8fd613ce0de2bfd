package model

import (
	"strings"
	"testing"
)

func TestProxyFromNode(t *testing.T) {
	tests := map[string]struct {
		id      string
		md      map[string]any
		want    Proxy
		wantErr string
	}{
		"our keys": {
			id: "gw-1",
			md: map[string]any{"role": "gateway", "namespace": "istio-system", "labels": map[string]any{"istio": "ingressgateway"}},
			want: Proxy{ID: "gw-1", Role: RoleGateway, Namespace: "istio-system",
				Labels: map[string]string{"istio": "ingressgateway"}, Interception: InterceptionTransparent},
		},
		"istio keys and node id": {
			id: "sidecar~10.0.0.1~httpbin-1.foo~foo.svc.cluster.local",
			md: map[string]any{"NAMESPACE": "foo", "SERVICE_ACCOUNT": "httpbin", "LABELS": map[string]any{"app": "httpbin"},
				"INTERCEPTION_MODE": "NONE", "INSTANCE_IPS": "10.0.0.1,fd00::1"},
			want: Proxy{ID: "sidecar~10.0.0.1~httpbin-1.foo~foo.svc.cluster.local", Role: RoleSidecar, Namespace: "foo",
				ServiceAccount: "httpbin", Labels: map[string]string{"app": "httpbin"}, Interception: InterceptionExplicit, IP: "10.0.0.1"},
		},
		"a node cannot claim a proven identity": {
			id: "s", md: map[string]any{"role": "sidecar", "namespace": "foo", "service_account": "a", "IdentityProven": true, "identity_proven": true},
			want: Proxy{ID: "s", Role: RoleSidecar, Namespace: "foo", ServiceAccount: "a", Labels: map[string]string{}, Interception: InterceptionTransparent},
		},
		"explicit outbound address": {
			id: "s", md: map[string]any{"role": "sidecar", "namespace": "foo", "service_account": "a", "interception": "explicit", "outbound_address": "127.0.1.2"},
			want: Proxy{ID: "s", Role: RoleSidecar, Namespace: "foo", ServiceAccount: "a", Labels: map[string]string{},
				Interception: InterceptionExplicit, OutboundAddress: "127.0.1.2"},
		},
		"outbound address not an IP": {
			id: "s", md: map[string]any{"role": "sidecar", "namespace": "foo", "service_account": "a", "outbound_address": "localhost"},
			want:    Proxy{ID: "s", Role: RoleSidecar, Namespace: "foo", ServiceAccount: "a", Labels: map[string]string{}, Interception: InterceptionTransparent},
			wantErr: `metadata.outbound_address: not an IP address: "localhost"`,
		},
		"malformed": {
			id: "x", md: map[string]any{"role": "router", "labels": "app=x"},
			want:    Proxy{ID: "x", Labels: map[string]string{}, Interception: InterceptionTransparent},
			wantErr: `metadata.labels: must be a map of strings, got string; metadata.role: must be "gateway" or "sidecar", got "router"; metadata.namespace: missing`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ProxyFromNode(tc.id, "", tc.md)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			if got.GroupKey() != tc.want.GroupKey() || got.IP != tc.want.IP || got.ID != tc.want.ID {
				t.Errorf("proxy %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestGroupKeySeparatesProvenIdentity(t *testing.T) {
	p := Proxy{Role: RoleSidecar, Namespace: "foo", ServiceAccount: "a"}
	proven := p
	proven.IdentityProven = true
	if p.GroupKey() == proven.GroupKey() {
		t.Fatal("a proxy that proved its identity shares a group key with one that did not")
	}
	other := p
	other.ID, other.IP = "another-pod", "10.0.0.9"
	if p.GroupKey() != other.GroupKey() {
		t.Fatal("node id or IP changed the group key")
	}
}
