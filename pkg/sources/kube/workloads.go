package kube

import (
	"cmp"
	"maps"
	"slices"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// Labels and annotations that say whether a Pod runs a proxy.
const (
	// TLSModeLabel is Istio's label on endpoints: "istio" when the workload accepts mTLS from
	// its proxy. A Pod that has it keeps its value (Istio: the label wins).
	TLSModeLabel = "security.istio.io/tlsMode"
	// sidecarStatusAnnotation is set by Istio's injector on every injected Pod.
	sidecarStatusAnnotation = "sidecar.istio.io/status"
	// ProxyAnnotation marks a Pod that runs one of our Envoys without Istio's injector:
	// "controlplane.plainenvoy.io/proxy: \"true\"".
	ProxyAnnotation = "controlplane.plainenvoy.io/proxy"
	proxyContainer  = "istio-proxy"
)

// workloadEntries makes one WorkloadEntry per Pod that has an IP and that some EndpointSlice
// lists as ready (a ready condition that is true or unset, as the EndpointSlice API defines
// it). Pods in no slice, not ready in any, or finished are left out. The entry has the Pod's
// name and namespace, its IP, labels (plus security.istio.io/tlsMode), service account, and
// the container ports that the Services selecting it name as target ports.
func workloadEntries(pods []*corev1.Pod, endpointSlices []*discoveryv1.EndpointSlice, svcs []*corev1.Service) []*model.WorkloadEntry {
	ready := readyPods(endpointSlices)
	byNamespace := servicesByNamespace(svcs)
	var out []*model.WorkloadEntry
	for _, pod := range pods {
		if pod.Status.PodIP == "" || !ready[[2]string{pod.Namespace, pod.Name}] ||
			pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			continue
		}
		lbls := maps.Clone(pod.Labels)
		if lbls == nil {
			lbls = map[string]string{}
		}
		if _, ok := lbls[TLSModeLabel]; !ok {
			lbls[TLSModeLabel] = "disabled"
			if runsProxy(pod) {
				lbls[TLSModeLabel] = "istio"
			}
		}
		spec := &networkingv1alpha3.WorkloadEntry{
			Address: pod.Status.PodIP, Labels: lbls, ServiceAccount: pod.Spec.ServiceAccountName,
			Ports: namedTargetPorts(pod, byNamespace[pod.Namespace]),
		}
		out = append(out, &model.WorkloadEntry{Meta: metaOf(model.KindWorkloadEntry, "v1", pod), Spec: spec})
	}
	return out
}

// readyPods returns the (namespace, name) of every Pod some slice lists as ready.
func readyPods(endpointSlices []*discoveryv1.EndpointSlice) map[[2]string]bool {
	out := map[[2]string]bool{}
	for _, es := range endpointSlices {
		for _, ep := range es.Endpoints {
			ref := ep.TargetRef
			if ref == nil || ref.Kind != "Pod" || (ep.Conditions.Ready != nil && !*ep.Conditions.Ready) {
				continue
			}
			ns := ref.Namespace
			if ns == "" {
				ns = es.Namespace
			}
			out[[2]string{ns, ref.Name}] = true
		}
	}
	return out
}

// runsProxy: Istio's injector annotation, an istio-proxy container (also as a native sidecar
// in initContainers), or our own annotation.
func runsProxy(pod *corev1.Pod) bool {
	if _, ok := pod.Annotations[sidecarStatusAnnotation]; ok || pod.Annotations[ProxyAnnotation] == "true" {
		return true
	}
	isProxy := func(c corev1.Container) bool { return c.Name == proxyContainer }
	return slices.ContainsFunc(pod.Spec.Containers, isProxy) || slices.ContainsFunc(pod.Spec.InitContainers, isProxy)
}

// namedTargetPorts resolves the named target ports of the Services that select the Pod, svcs
// being those of its namespace: service port name -> the Pod's container port of that name.
// svcs are sorted by name, so when two give one port name different targets the first wins.
func namedTargetPorts(pod *corev1.Pod, svcs []*corev1.Service) map[string]uint32 {
	var out map[string]uint32
	for _, svc := range svcs {
		if len(svc.Spec.Selector) == 0 || !model.SelectorMatches(svc.Spec.Selector, pod.Labels) {
			continue
		}
		for _, sp := range svc.Spec.Ports {
			if sp.TargetPort.StrVal == "" {
				continue
			}
			if n, ok := containerPort(pod, sp.TargetPort.StrVal); ok {
				if out == nil {
					out = map[string]uint32{}
				}
				if _, dup := out[sp.Name]; !dup {
					out[sp.Name] = n
				}
			}
		}
	}
	return out
}

func containerPort(pod *corev1.Pod, name string) (uint32, bool) {
	for _, c := range slices.Concat(pod.Spec.Containers, pod.Spec.InitContainers) {
		for _, p := range c.Ports {
			if p.Name == name {
				return uint32(p.ContainerPort), true
			}
		}
	}
	return 0, false
}

// servicesByNamespace groups the Services by namespace, each group sorted by name, once per
// build: a Pod is only matched against the Services of its own namespace.
func servicesByNamespace(svcs []*corev1.Service) map[string][]*corev1.Service {
	out := map[string][]*corev1.Service{}
	for _, svc := range svcs {
		out[svc.Namespace] = append(out[svc.Namespace], svc)
	}
	for _, group := range out {
		slices.SortFunc(group, func(a, b *corev1.Service) int { return cmp.Compare(a.Name, b.Name) })
	}
	return out
}
