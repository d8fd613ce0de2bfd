package snapshot

import (
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cache "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/plainenvoy/controlplane/pkg/translate"
)

// TestSecretReferences: a listener may reference the workload secrets, and the credentials
// translation listed as deliberately unanswered, without them being in the snapshot; any other
// missing secret is an error, however credential-like its name.
func TestSecretReferences(t *testing.T) {
	unanswered := []string{"invalid://ns/dr-cred", "kubernetes://gw-cert"}
	for name, wantErr := range map[string]bool{
		"default":                 false,
		"ROOTCA":                  false,
		"kubernetes://gw-cert":    false,
		"invalid://ns/dr-cred":    false,
		"kubernetes://not-listed": true,
		"invalid://ns/other":      true,
		"typo-in-translation":     true,
		"kubernetes-cert-no-sch":  true,
	} {
		t.Run(name, func(t *testing.T) {
			ctx := &tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
				TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{{Name: name, SdsConfig: &corev3.ConfigSource{
					ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
				}}},
			}}
			ts, err := anypb.New(ctx)
			if err != nil {
				t.Fatal(err)
			}
			l := &listenerv3.Listener{Name: "l", FilterChains: []*listenerv3.FilterChain{{
				TransportSocket: &corev3.TransportSocket{Name: "envoy.transport_sockets.tls",
					ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: ts}},
			}}}
			r := translate.Resources{Listeners: []*listenerv3.Listener{l}, UnansweredSecrets: unanswered}
			snap, err := cache.NewSnapshot("1", map[resourcev3.Type][]types.Resource{resourcev3.ListenerType: {l}})
			if err != nil {
				t.Fatal(err)
			}
			err = check(r, snap, nil)
			if gotErr := err != nil && strings.Contains(err.Error(), "references secret"); gotErr != wantErr {
				t.Fatalf("check: %v, want error %v", err, wantErr)
			}
		})
	}
}
