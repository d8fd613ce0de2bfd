package translate

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// meshGateway is Istio's reserved gateway name for sidecars.
const meshGateway = "mesh"

// destinations resolves a route's destinations to clusters. A destination that names an
// unknown host, port or subset is reported and left out; its weight is not given to the
// others (Envoy would answer 503 for that share, and so does a route left with none).
func (rc routeContext) destinations(vs *model.VirtualService, hr *networkingv1alpha3.HTTPRoute, field string) ([]*routev3.WeightedCluster_ClusterWeight, []model.Problem) {
	var out []*routev3.WeightedCluster_ClusterWeight
	var problems []model.Problem
	for i, d := range hr.GetRoute() {
		f := fmt.Sprintf("%s.route[%d].destination", field, i)
		name, err := rc.resolve(vs.Namespace, d.GetDestination())
		if err != "" {
			problems = append(problems, model.ProblemFor(&vs.Meta, model.SeverityError, f, "%s", err))
			continue
		}
		w := d.GetWeight()
		if len(hr.GetRoute()) == 1 {
			w = 100 // a single destination takes all traffic whatever its weight says
		}
		cw := &routev3.WeightedCluster_ClusterWeight{Name: name, Weight: wrapperspb.UInt32(uint32(w))}
		addDestinationHeaders(cw, d.GetHeaders())
		if w > 0 {
			out = append(out, cw)
		}
	}
	return out, problems
}

// resolve finds the cluster for a destination; it returns a reason when there is none.
func (rc routeContext) resolve(ns string, d *networkingv1alpha3.Destination) (string, string) {
	svc := rc.reg.lookup(d.GetHost(), ns)
	if svc == nil {
		return "", fmt.Sprintf("host %q is not declared by any ServiceEntry visible from namespace %s; requests get 503", d.GetHost(), ns)
	}
	port := svc.port(d.GetPort().GetNumber())
	if port == nil {
		if d.GetPort().GetNumber() == 0 {
			return "", fmt.Sprintf("host %q has several ports: port.number must be set", d.GetHost())
		}
		return "", fmt.Sprintf("host %q has no port %d", d.GetHost(), d.GetPort().GetNumber())
	}
	k := clusterKey{svc: svc, port: port, subset: d.GetSubset()}
	if k.subset != "" {
		labels, ok := subsetLabels(rc.in, svc, k.subset)
		if !ok {
			return "", fmt.Sprintf("subset %q of host %q is not defined by a DestinationRule; requests get 503", k.subset, d.GetHost())
		}
		k.labels = labels
	}
	return rc.clusters.add(k), ""
}

// addHeaderOperations applies a route's header manipulation (Istio Headers) to the route.
func addHeaderOperations(r *routev3.Route, h *networkingv1alpha3.Headers) {
	if h == nil {
		return
	}
	r.RequestHeadersToAdd = append(r.RequestHeadersToAdd, headerOptions(h.GetRequest())...)
	r.RequestHeadersToRemove = append(r.RequestHeadersToRemove, h.GetRequest().GetRemove()...)
	r.ResponseHeadersToAdd = append(r.ResponseHeadersToAdd, headerOptions(h.GetResponse())...)
	r.ResponseHeadersToRemove = append(r.ResponseHeadersToRemove, h.GetResponse().GetRemove()...)
}

func addDestinationHeaders(cw *routev3.WeightedCluster_ClusterWeight, h *networkingv1alpha3.Headers) {
	if h == nil {
		return
	}
	cw.RequestHeadersToAdd = headerOptions(h.GetRequest())
	cw.RequestHeadersToRemove = h.GetRequest().GetRemove()
	cw.ResponseHeadersToAdd = headerOptions(h.GetResponse())
	cw.ResponseHeadersToRemove = h.GetResponse().GetRemove()
}

// headerOptions: "set" overwrites, "add" appends, in sorted header order.
func headerOptions(op *networkingv1alpha3.Headers_HeaderOperations) []*corev3.HeaderValueOption {
	var out []*corev3.HeaderValueOption
	for _, k := range slicesSortedKeys(op.GetSet()) {
		out = append(out, &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: k, Value: op.GetSet()[k]},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		})
	}
	for _, k := range slicesSortedKeys(op.GetAdd()) {
		out = append(out, &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: k, Value: op.GetAdd()[k]},
			AppendAction: corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD,
		})
	}
	return out
}
