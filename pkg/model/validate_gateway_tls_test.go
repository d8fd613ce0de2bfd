package model

import "testing"

func TestValidateGatewayCACertCredential(t *testing.T) {
	runValidateCases(t, map[string]validateCase{
		"mutual with credential": {kind: KindGateway, spec: `
servers:
- port: {number: 443, name: https, protocol: HTTPS}
  hosts: ["*"]
  tls: {mode: MUTUAL, credentialName: c, caCertCredentialName: client-ca}
- port: {number: 443, name: tls, protocol: TLS}
  hosts: ["a.example.com"]
  tls: {mode: OPTIONAL_MUTUAL, credentialNames: [rsa, ecdsa], caCertCredentialName: client-ca-cacert}`},
		"simple ignores it": {kind: KindGateway, spec: `servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: ["*"], tls: {mode: SIMPLE, credentialName: c, caCertCredentialName: ca}}]`,
			want: []string{"spec.servers[0].tls.caCertCredentialName: warning: caCertCredentialName is only used by MUTUAL and OPTIONAL_MUTUAL TLS; ignored in SIMPLE mode"}},
		"istio mutual ignores it": {kind: KindGateway, spec: `servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: ["*"], tls: {mode: ISTIO_MUTUAL, caCertCredentialName: ca}}]`,
			want: []string{"spec.servers[0].tls.caCertCredentialName: warning: caCertCredentialName is only used by MUTUAL and OPTIONAL_MUTUAL TLS; ignored in ISTIO_MUTUAL mode"}},
		"passthrough ignores it": {kind: KindGateway, spec: `servers: [{port: {number: 443, name: tls, protocol: TLS}, hosts: ["*"], tls: {mode: PASSTHROUGH, caCertCredentialName: ca}}]`,
			want: []string{"spec.servers[0].tls.caCertCredentialName: warning: caCertCredentialName is only used by MUTUAL and OPTIONAL_MUTUAL TLS; ignored in PASSTHROUGH mode"}},
		"file certificates ignore it": {kind: KindGateway, spec: `servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: ["*"], tls: {mode: MUTUAL, serverCertificate: /c, privateKey: /k, caCertificates: /ca, caCertCredentialName: ca}}]`,
			want: []string{"spec.servers[0].tls.caCertCredentialName: warning: caCertCredentialName is only used with credentialName or credentialNames; ignored, clients are verified with caCertificates"}},
	})
}
