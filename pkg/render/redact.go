package render

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"

	"github.com/plainenvoy/controlplane/pkg/translate"
)

// redactSecrets copies the secrets with every private key replaced by a marker, so rendered
// output can be shared, logged and committed as golden files.
func redactSecrets(r translate.Resources) []*tlsv3.Secret {
	out := make([]*tlsv3.Secret, 0, len(r.Secrets))
	for _, s := range r.Secrets {
		c := proto.Clone(s).(*tlsv3.Secret)
		if tc := c.GetTlsCertificate(); tc != nil && tc.GetPrivateKey() != nil {
			tc.PrivateKey = &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "[redacted]"}}
		}
		out = append(out, c)
	}
	return out
}
