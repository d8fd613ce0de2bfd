package model

import "testing"

func TestValidateGateway(t *testing.T) {
	runValidateCases(t, map[string]validateCase{
		"valid https with credential": {kind: KindGateway, spec: `
servers:
- port: {number: 443, name: https, protocol: HTTPS}
  hosts: ["ns/*.example.com", "example.com"]
  tls: {mode: SIMPLE, credentialName: cert}
- port: {number: 80, name: http, protocol: HTTP}
  hosts: ["*"]
  tls: {httpsRedirect: true}`},
		"no servers": {kind: KindGateway, spec: `{}`,
			want: []string{"spec.servers: gateway must have at least one server"}},
		"bad port and hosts": {kind: KindGateway, spec: `
servers:
- port: {number: 0, protocol: FTP}
  hosts: ["short", "/x.com", "a.*.com"]`,
			want: []string{
				"spec.servers[0].hosts[0]: short names (non FQDN) are not allowed",
				"spec.servers[0].hosts[1]: config namespace and dnsName in host entry cannot be empty",
				`spec.servers[0].hosts[1]: invalid namespace value "" in gateway`,
				`spec.servers[0].hosts[2]: domain name "a.*.com" invalid (label "*" invalid)`,
				`spec.servers[0].hosts[2]: partial wildcard "a.*.com" not allowed`,
				"spec.servers[0].port.name: port name must be set",
				"spec.servers[0].port.number: port number 0 must be in the range 1..65535",
				`spec.servers[0].port.protocol: invalid protocol "FTP", supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP`,
			}},
		"no hosts, duplicate port names": {kind: KindGateway, spec: `
servers:
- port: {number: 80, name: p, protocol: HTTP}
- port: {number: 81, name: p, protocol: HTTP}
  hosts: ["*"]`,
			want: []string{
				"spec.servers[0].hosts: server config must contain at least one host",
				"spec.servers[1].port.name: port names in servers must be unique: duplicate name p",
			}},
		"https without tls": {kind: KindGateway, spec: `servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: ["*"]}]`,
			want: []string{"spec.servers[0].tls: server must have TLS settings for HTTPS/TLS protocols"}},
		"tls on plain http": {kind: KindGateway, spec: `servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"], tls: {mode: SIMPLE, credentialName: c}}]`,
			want: []string{"spec.servers[0].tls: server cannot have TLS settings for plain text HTTP ports"}},
		"tls on tcp, redirect on tcp": {kind: KindGateway, spec: `servers: [{port: {number: 90, name: tcp, protocol: TCP}, hosts: ["*"], tls: {httpsRedirect: true}}]`,
			want: []string{
				"spec.servers[0].tls: server cannot have TLS settings for non HTTPS/TLS ports",
				"spec.servers[0].tls.httpsRedirect: warning: tls.httpsRedirect should only be used with http servers",
			}},
		"simple without certs": {kind: KindGateway, spec: `servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: ["*"], tls: {mode: SIMPLE, caCrl: /crl}}]`,
			want: []string{
				"spec.servers[0].tls.caCrl: CRL is not supported with SIMPLE TLS",
				"spec.servers[0].tls.privateKey: SIMPLE TLS requires a private key",
				"spec.servers[0].tls.serverCertificate: SIMPLE TLS requires a server certificate",
			}},
		"mutual without ca": {kind: KindGateway, spec: `servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: ["*"], tls: {mode: MUTUAL, serverCertificate: /c, privateKey: /k}}]`,
			want: []string{"spec.servers[0].tls.caCertificates: MUTUAL TLS requires a client CA bundle"}},
		"two certificate sources": {kind: KindGateway, spec: `servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: ["*"], tls: {mode: SIMPLE, credentialName: c, serverCertificate: /c, privateKey: /k}}]`,
			want: []string{"spec.servers[0].tls: only one of credential_name, credential_names, server_certificate/private_key, tls_certificates should be specified"}},
		"istio mutual with credential": {kind: KindGateway, spec: `servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: ["*"], tls: {mode: ISTIO_MUTUAL, credentialName: c}}]`,
			want: []string{"spec.servers[0].tls.credentialName: ISTIO_MUTUAL TLS cannot have associated credentialName"}},
		"passthrough with certs": {kind: KindGateway, spec: `servers: [{port: {number: 443, name: tls, protocol: TLS}, hosts: ["*"], tls: {mode: PASSTHROUGH, credentialName: c}}]`,
			want: []string{"spec.servers[0].tls: warning: PASSTHROUGH mode does not use certificates, they will be ignored"}},
		"bad gateway name and bind": {kind: KindGateway, spec: `servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"], bind: "nope"}]`,
			want: []string{"spec.servers[0].bind: nope is not a valid IP"}},
	})
}

func TestValidateDestinationRule(t *testing.T) {
	runValidateCases(t, map[string]validateCase{
		"valid": {kind: KindDestinationRule, spec: `
host: reviews.default.svc.cluster.local
trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
subsets: [{name: v1, trafficPolicy: {tls: {mode: MUTUAL, credentialName: c}}}]`},
		"empty host": {kind: KindDestinationRule, spec: `trafficPolicy: {tls: {mode: SIMPLE}}`,
			want: []string{"spec.host: empty domain name not allowed"}},
		"mutual without cert and key": {kind: KindDestinationRule, spec: `{host: a.b, trafficPolicy: {tls: {mode: MUTUAL}}}`,
			want: []string{
				"spec.trafficPolicy.tls.clientCertificate: client certificate required for mutual tls",
				"spec.trafficPolicy.tls.privateKey: private key required for mutual tls",
			}},
		"credential with files": {kind: KindDestinationRule, spec: `{host: a.b, trafficPolicy: {portLevelSettings: [{port: {number: 80}, tls: {mode: SIMPLE, credentialName: c, caCertificates: /ca}}]}}`,
			want: []string{"spec.trafficPolicy.portLevelSettings[0].tls: cannot specify client certificates or CA certificate or CA CRL If credentialName is set"}},
		"istio mutual with files": {kind: KindDestinationRule, spec: `{host: a.b, subsets: [{name: v1, trafficPolicy: {tls: {mode: ISTIO_MUTUAL, clientCertificate: /c}}}]}`,
			want: []string{"spec.subsets[0].trafficPolicy.tls: ISTIO_MUTUAL TLS cannot have associated client certificate, private key, CA certificate, CA CRL or credentialName"}},
		"insecure skip verify simple": {kind: KindDestinationRule, spec: `{host: a.b, trafficPolicy: {tls: {mode: SIMPLE, insecureSkipVerify: true, subjectAltNames: [x]}}}`,
			want: []string{"spec.trafficPolicy.tls.insecureSkipVerify: cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true"}},
		"insecure skip verify mutual": {kind: KindDestinationRule, spec: `{host: a.b, trafficPolicy: {tls: {mode: MUTUAL, credentialName: c, insecureSkipVerify: true, subjectAltNames: [x]}}}`,
			want: []string{"spec.trafficPolicy.tls.insecureSkipVerify: cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true"}},
		"subsets": {kind: KindDestinationRule, spec: `{host: a.b, subsets: [{name: v1}, {name: v1}, {name: ""}, {name: V_2}]}`,
			want: []string{
				"spec.subsets[1].name: duplicate subset names: v1",
				"spec.subsets[2].name: subset name cannot be empty",
				"spec.subsets[3].name: subset name is invalid: V_2",
			}},
		"configmap in other namespace": {kind: KindDestinationRule, spec: `{host: a.b, trafficPolicy: {tls: {mode: SIMPLE, credentialName: "configmap://other/ca"}}}`,
			want: []string{`spec.trafficPolicy.tls.credentialName: invalid configmap:// credentialName: namespace must match the configuration namespace "default"`}},
	})
}
