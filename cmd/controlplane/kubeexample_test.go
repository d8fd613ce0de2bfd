package main

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// TestKubernetesExampleServeArgs parses the example Deployment's container arguments with
// serve's own flags and checks what the API server's dry run cannot: both servers listen on
// the pod's addresses on the ports the probes and the Service use, and ADS off loopback has
// TLS, so serve would start rather than refuse plaintext.
func TestKubernetesExampleServeArgs(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "kubernetes", "deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	if err := yaml.UnmarshalStrict(data, &d); err != nil {
		t.Fatal(err)
	}
	c := d.Spec.Template.Spec.Containers[0]
	if len(c.Args) == 0 || c.Args[0] != "serve" {
		t.Fatalf("args %v: want serve first", c.Args)
	}
	cmd := newServeCommand()
	if err := cmd.ParseFlags(c.Args[1:]); err != nil {
		t.Fatalf("serve rejects the example's flags: %v", err)
	}
	flag := func(name string) string { return cmd.Flags().Lookup(name).Value.String() }

	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	for name, port := range map[string]string{"ads-addr": "grpc-xds", "monitoring-addr": "http-monitoring"} {
		addr := flag(name)
		if loopback(addr) {
			t.Errorf("--%s=%s: loopback, so the Service and the kubelet cannot reach it", name, addr)
		}
		_, p, err := net.SplitHostPort(addr)
		if err != nil || p != strconv.Itoa(int(ports[port])) {
			t.Errorf("--%s=%s: want the %s container port %d", name, addr, port, ports[port])
		}
	}
	for _, probe := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe} {
		if probe.HTTPGet.Port.String() != "http-monitoring" {
			t.Errorf("probe on port %s, want http-monitoring", probe.HTTPGet.Port.String())
		}
	}

	if flag("insecure-plaintext") == "true" {
		t.Error("the example serves plaintext ADS off loopback")
	}
	certs := flag("tls-cert") != "" && flag("tls-key") != ""
	builtinCA := flag("ca-secret") != "" && flag("ads-server-name") != "[]"
	if !certs && !builtinCA {
		t.Fatal("no ADS TLS configured: serve refuses plaintext off loopback")
	}
	if certs {
		secretVolumes := map[string]bool{}
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.Secret != nil {
				secretVolumes[v.Name] = true
			}
		}
		for _, f := range []string{"tls-cert", "tls-key"} {
			mounted := false
			for _, m := range c.VolumeMounts {
				if secretVolumes[m.Name] && strings.HasPrefix(flag(f), m.MountPath+"/") {
					mounted = true
				}
			}
			if !mounted {
				t.Errorf("--%s=%s is not in a mounted Secret volume", f, flag(f))
			}
		}
	}
}
