package model

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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
		"inbound ports and workload SDS cluster": {
			id: "s", md: map[string]any{"role": "sidecar", "namespace": "foo", "service_account": "a", "interception": "explicit",
				"inbound_ports": map[string]any{"8080": float64(18080), "9090": "19090"}, "workload_sds_cluster": "spire", "ip": "10.0.0.2"},
			want: Proxy{ID: "s", Role: RoleSidecar, Namespace: "foo", ServiceAccount: "a", Labels: map[string]string{},
				Interception: InterceptionExplicit, InboundPorts: map[uint32]uint32{8080: 18080, 9090: 19090},
				WorkloadSDSCluster: "spire", IP: "10.0.0.2"},
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
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("proxy (-want +got):\n%s", diff)
			}
			if got.GroupKey() != tc.want.GroupKey() {
				t.Errorf("group key %s, want %s", got.GroupKey(), tc.want.GroupKey())
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

// TestGroupKeyMapBoundaries: labels and inbound ports are hashed one after the other, so
// entries moved from one map to the other must change the key.
func TestGroupKeyMapBoundaries(t *testing.T) {
	labels := Proxy{Role: RoleSidecar, Namespace: "foo", Labels: map[string]string{"1=2": "3=4"}}
	ports := Proxy{Role: RoleSidecar, Namespace: "foo", InboundPorts: map[uint32]uint32{1: 2, 3: 4}}
	if labels.GroupKey() == ports.GroupKey() {
		t.Error("a label \"1=2\": \"3=4\" hashes like the inbound ports 1=2 and 3=4")
	}
	empty := Proxy{Role: RoleSidecar, Namespace: "foo", Labels: map[string]string{}, InboundPorts: map[uint32]uint32{}}
	if none := (Proxy{Role: RoleSidecar, Namespace: "foo"}); none.GroupKey() != empty.GroupKey() {
		t.Error("nil and empty maps give different group keys")
	}
}
