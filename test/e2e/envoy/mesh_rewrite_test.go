package envoy

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// rewrite moves one example file to this world's ports and addresses, object by object (the
// comments are dropped). Base files also tell the world its workloads. A field the harness
// does not know how to move is an error, so a change to the example cannot silently run
// against the wrong port.
func (w *meshWorld) rewrite(data []byte, base bool) ([]byte, error) {
	var out bytes.Buffer
	for i, doc := range splitYAML(data) {
		var obj map[string]any
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if obj == nil {
			continue
		}
		md, _ := obj["metadata"].(map[string]any)
		ns, _ := md["namespace"].(string)
		spec, _ := obj["spec"].(map[string]any)
		var err error
		switch kind, _ := obj["kind"].(string); kind {
		case "ServiceEntry":
			err = w.rewriteServiceEntry(ns, spec, base)
		case "WorkloadEntry":
			err = w.rewriteWorkloadEntry(ns, spec, base)
		case "PeerAuthentication":
			err = w.rewritePeerAuthentication(ns, spec)
		case "DestinationRule":
			if tp, _ := spec["trafficPolicy"].(map[string]any); tp["portLevelSettings"] != nil {
				err = fmt.Errorf("DestinationRule portLevelSettings: not moved by the harness")
			}
		default:
			err = fmt.Errorf("kind %q: not moved by the harness", kind)
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		b, err := yaml.Marshal(obj)
		if err != nil {
			return nil, err
		}
		out.WriteString("---\n")
		out.Write(b)
	}
	return out.Bytes(), nil
}

func (w *meshWorld) rewriteServiceEntry(ns string, spec map[string]any, base bool) error {
	sel, _ := spec["workloadSelector"].(map[string]any)
	labels, _ := sel["labels"].(map[string]any)
	app, _ := labels["app"].(string)
	hosts, _ := spec["hosts"].([]any)
	ports, _ := spec["ports"].([]any)
	if app == "" || len(hosts) != 1 || len(ports) == 0 {
		return fmt.Errorf("ServiceEntry: want one host, ports and a workloadSelector on app")
	}
	wl := w.workload(app, ns)
	if base {
		wl.host, _ = hosts[0].(string)
	}
	for _, p := range ports {
		pm, _ := p.(map[string]any)
		number, ok := pm["number"].(float64)
		if !ok {
			return fmt.Errorf("ServiceEntry port %v: no number", p)
		}
		readmeTarget := uint32(number)
		pm["number"] = w.servicePort(uint32(number))
		ourTarget := w.servicePort(uint32(number))
		if tp, ok := pm["targetPort"].(float64); ok {
			readmeTarget, ourTarget = uint32(tp), w.targetPort(ns, uint32(tp))
			pm["targetPort"] = ourTarget
		}
		if base {
			wl.services[uint32(number)] = servicePort{target: readmeTarget, ourTarget: ourTarget}
			if _, ok := wl.inbound[ourTarget]; !ok {
				wl.inbound[ourTarget] = 0 // the listen port is chosen once the base is read
			}
		}
	}
	return nil
}

func (w *meshWorld) rewriteWorkloadEntry(ns string, spec map[string]any, base bool) error {
	labels, _ := spec["labels"].(map[string]any)
	app, _ := labels["app"].(string)
	addr, _ := spec["address"].(string)
	if app == "" || spec["ports"] != nil {
		return fmt.Errorf("WorkloadEntry: want an app label and no ports map")
	}
	loop, err := loopbackAddress(addr)
	if err != nil {
		return err
	}
	spec["address"] = loop
	if base {
		wl := w.workload(app, ns)
		wl.address = loop
		wl.serviceAccount, _ = spec["serviceAccount"].(string)
		wl.sidecar = labels["security.istio.io/tlsMode"] == "istio"
	}
	return nil
}

// rewritePeerAuthentication: portLevelMtls keys are workload ports of the policy's namespace.
func (w *meshWorld) rewritePeerAuthentication(ns string, spec map[string]any) error {
	plm, _ := spec["portLevelMtls"].(map[string]any)
	if len(plm) == 0 {
		return nil
	}
	moved := map[string]any{}
	for k, v := range plm {
		p, err := strconv.ParseUint(k, 10, 16)
		if err != nil {
			return fmt.Errorf("portLevelMtls key %q: %w", k, err)
		}
		if _, known := w.targetPorts[ns][uint32(p)]; !known {
			return fmt.Errorf("portLevelMtls %d: no service in %s targets that workload port", p, ns)
		}
		moved[strconv.Itoa(int(w.targetPorts[ns][uint32(p)]))] = v
	}
	spec["portLevelMtls"] = moved
	return nil
}

func (w *meshWorld) workload(app, ns string) *workload {
	key := app + "." + ns
	if w.workloads[key] == nil {
		w.workloads[key] = &workload{app: app, namespace: ns, services: map[uint32]servicePort{}, inbound: map[uint32]uint32{}}
	}
	return w.workloads[key]
}

// splitYAML splits a multi-document file on its "---" lines.
func splitYAML(data []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if strings.TrimSpace(line) == "---" {
			docs = append(docs, bytes.Clone(cur.Bytes()))
			cur.Reset()
			continue
		}
		cur.WriteString(line)
	}
	return append(docs, cur.Bytes())
}
