package model

import "testing"

func TestValidateServiceEntry(t *testing.T) {
	runValidateCases(t, map[string]validateCase{
		"valid static": {kind: KindServiceEntry, spec: `
hosts: [db.example.com]
addresses: [10.0.0.0/24]
ports: [{number: 5432, name: tcp, protocol: TCP}]
resolution: STATIC
endpoints: [{address: 10.0.0.1, ports: {tcp: 5432}}]`},
		"no hosts, duplicate ports": {kind: KindServiceEntry, spec: `
ports: [{number: 80, name: http, protocol: HTTP}, {number: 80, name: http, protocol: bogus}]
resolution: DNS`,
			want: []string{
				"spec.hosts: service entry must have at least one host",
				`spec.ports[1].name: service entry port name "http" already defined`,
				"spec.ports[1].number: service entry port 80 already defined",
				"spec.ports[1].protocol: unsupported protocol: bogus",
			}},
		"static needs ip endpoints": {kind: KindServiceEntry, spec: `
hosts: [a.example.com]
ports: [{number: 80, name: http, protocol: HTTP}]
resolution: STATIC
endpoints: [{address: a.example.com}, {address: 10.0.0.1, ports: {grpc: 90}}, {}]`,
			want: []string{
				`spec.endpoints[0].address: endpoint address "a.example.com" is not a valid IP address`,
				"spec.endpoints[1].ports.grpc: endpoint port 90 is not defined by the service entry",
				"spec.endpoints[2].address: address is required",
			}},
		"static without endpoints": {kind: KindServiceEntry, spec: `{hosts: [a.example.com], resolution: STATIC}`,
			want: []string{"spec.endpoints: warning: STATIC resolution needs endpoints (addresses) or a workloadSelector; the service has no endpoints"}},
		"static with workload selector": {kind: KindServiceEntry, spec: `{hosts: [a.example.com], resolution: STATIC, workloadSelector: {labels: {app: vm}}}`},
		"none with endpoints": {kind: KindServiceEntry, spec: `
hosts: [a.example.com]
resolution: NONE
endpoints: [{address: 10.0.0.1}]`,
			want: []string{"spec.endpoints: no endpoints should be provided for resolution type none"}},
		"dns": {kind: KindServiceEntry, spec: `
hosts: ["*.example.com", b.example.com]
addresses: [10.0.0.0/8]
ports: [{number: 5432, name: tcp, protocol: TCP}]
resolution: DNS_ROUND_ROBIN
endpoints: [{address: bad_name}, {address: 10.0.0.1}]`,
			want: []string{
				"spec.addresses: CIDR addresses are allowed only for NONE/STATIC resolution types",
				`spec.endpoints: there must only be 0 or 1 endpoint for resolution mode DNS_ROUND_ROBIN`,
				`spec.endpoints[0].address: endpoint address "bad_name" is not a valid FQDN or an IP address`,
				"spec.hosts: multiple hosts provided with non-HTTP, non-TLS ports",
			}},
		"dns wildcard host without endpoints": {kind: KindServiceEntry, spec: `{hosts: ["*.example.com"], resolution: DNS}`,
			want: []string{`spec.hosts[0]: hosts must be FQDN or contain only prefix wildcards if no endpoints are provided for resolution mode DNS, domain name "*.example.com" invalid (label "*" invalid)`}},
	})
}

func TestValidateWorkloadEntry(t *testing.T) {
	runValidateCases(t, map[string]validateCase{
		"valid":            {kind: KindWorkloadEntry, spec: `{address: 10.0.0.1, ports: {http: 8080}}`},
		"hostname address": {kind: KindWorkloadEntry, spec: `{address: vm.example.com}`},
		"no address":       {kind: KindWorkloadEntry, spec: `{}`, want: []string{"spec.address: address is required"}},
		"network only":     {kind: KindWorkloadEntry, spec: `{network: n1}`, want: []string{`spec.address: warning: address is unset with network "n1"`}},
		"bad ports": {kind: KindWorkloadEntry, spec: `{address: "not an address", ports: {Bad: 0}}`,
			want: []string{
				`spec.address: endpoint address "not an address" is not a valid FQDN or an IP address`,
				"spec.ports.Bad: invalid port name: Bad",
				"spec.ports.Bad: port number 0 must be in the range 1..65535",
			}},
	})
}
