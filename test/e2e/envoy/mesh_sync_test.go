package envoy

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/snapshot"
	"github.com/plainenvoy/controlplane/pkg/sources/file"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

// syncTimeout bounds one wait for every sidecar to hold a step's configuration.
const syncTimeout = 30 * time.Second

// waitSynced returns once the control plane serves every sidecar the configuration of the
// files now in the watched directory, and each sidecar ACKed it. "Serves" is judged by a
// digest of what the steps change (inbound chains, upstream TLS, endpoint tlsMode) against
// an in-process translation of the same files, so a step that leaves a sidecar's config
// unchanged needs no new version; a NACK fails at once with Envoy's message.
func (w *meshWorld) waitSynced(ctx context.Context, nodes map[string]*model.Proxy) error {
	src, err := file.New(file.Options{Dir: w.configDir})
	if err != nil {
		return err
	}
	store, _, err := src.Load()
	if err != nil {
		return err
	}
	want := map[string]string{}
	for id, p := range nodes {
		res, _ := translate.Proxy(translate.Inputs{Store: store, Proxy: *p})
		want[id] = securityDigest(res.Listeners, res.Clusters, res.Endpoints)
	}
	deadline := time.Now().Add(syncTimeout)
	for {
		pending, err := w.unsynced(ctx, want)
		if err != nil || pending == "" {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not synced within %v: %s", syncTimeout, pending)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// unsynced says what the first sidecar not yet in sync lacks, "" when all are.
func (w *meshWorld) unsynced(ctx context.Context, want map[string]string) (string, error) {
	var proxies []snapshot.ProxyStatus
	if err := w.debugJSON(ctx, "/debug/proxies", nil, &proxies); err != nil {
		return err.Error(), nil
	}
	for _, id := range slices.Sorted(maps.Keys(want)) {
		i := slices.IndexFunc(proxies, func(p snapshot.ProxyStatus) bool { return p.NodeID == id })
		if i < 0 {
			return id + " is not connected", nil
		}
		for typ, st := range proxies[i].Types {
			if st.State == "NACKED" {
				return "", fmt.Errorf("%s rejected %s version %s: %+v", id, typ, st.Current, st.LastNACK)
			}
			if st.State != "SYNCED" && (st.State != "NOT SENT" || typ == "lds" || typ == "cds") {
				return fmt.Sprintf("%s: %s is %s", id, typ, st.State), nil
			}
		}
		var doc struct {
			Config struct{ Listeners, Clusters, Endpoints []json.RawMessage } `json:"config"`
		}
		if err := w.debugJSON(ctx, "/debug/config", url.Values{"node": {id}}, &doc); err != nil {
			return err.Error(), nil
		}
		got, err := servedDigest(doc.Config.Listeners, doc.Config.Clusters, doc.Config.Endpoints)
		if err != nil {
			return "", fmt.Errorf("%s: served config: %w", id, err)
		}
		if got != want[id] {
			return fmt.Sprintf("%s (status %s) is served a configuration that differs from a translation of the "+
				"files (a group the change affects was not rebuilt?):\n%s", id, statesOf(proxies[i]), lineDiff(got, want[id])), nil
		}
	}
	return "", nil
}

func (w *meshWorld) debugJSON(ctx context.Context, path string, q url.Values, v any) error {
	u := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", w.monitoringPort), Path: path, RawQuery: q.Encode()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", u.String(), resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func servedDigest(ls, cs, es []json.RawMessage) (string, error) {
	var listeners []*listenerv3.Listener
	var clusters []*clusterv3.Cluster
	var cla []*endpointv3.ClusterLoadAssignment
	for _, raw := range ls {
		m := &listenerv3.Listener{}
		if err := protojson.Unmarshal(raw, m); err != nil {
			return "", err
		}
		listeners = append(listeners, m)
	}
	for _, raw := range cs {
		m := &clusterv3.Cluster{}
		if err := protojson.Unmarshal(raw, m); err != nil {
			return "", err
		}
		clusters = append(clusters, m)
	}
	for _, raw := range es {
		m := &endpointv3.ClusterLoadAssignment{}
		if err := protojson.Unmarshal(raw, m); err != nil {
			return "", err
		}
		cla = append(cla, m)
	}
	return securityDigest(listeners, clusters, cla), nil
}

// securityDigest lists, one line each and sorted, every listener's chains with what they
// accept, every cluster's upstream TLS, every endpoint's address and tlsMode.
func securityDigest(ls []*listenerv3.Listener, cs []*clusterv3.Cluster, es []*endpointv3.ClusterLoadAssignment) string {
	var lines []string
	for _, l := range ls {
		for _, c := range l.GetFilterChains() {
			lines = append(lines, fmt.Sprintf("listener %s chain %q transport=%q alpn=%v tls=%t", l.GetName(), c.GetName(),
				c.GetFilterChainMatch().GetTransportProtocol(), c.GetFilterChainMatch().GetApplicationProtocols(), c.GetTransportSocket() != nil))
		}
	}
	for _, c := range cs {
		var matches []string
		for _, m := range c.GetTransportSocketMatches() {
			matches = append(matches, m.GetName()+"="+m.GetTransportSocket().GetName())
		}
		lines = append(lines, fmt.Sprintf("cluster %s socket=%q matches=%v", c.GetName(), c.GetTransportSocket().GetName(), matches))
	}
	for _, cla := range es {
		for _, loc := range cla.GetEndpoints() {
			for _, e := range loc.GetLbEndpoints() {
				sa := e.GetEndpoint().GetAddress().GetSocketAddress()
				mode := e.GetMetadata().GetFilterMetadata()["envoy.transport_socket_match"].GetFields()["tlsMode"].GetStringValue()
				lines = append(lines, fmt.Sprintf("endpoint %s %s:%d tlsMode=%q", cla.GetClusterName(), sa.GetAddress(), sa.GetPortValue(), mode))
			}
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func statesOf(ps snapshot.ProxyStatus) string {
	var out []string
	for _, typ := range slices.Sorted(maps.Keys(ps.Types)) {
		out = append(out, typ+"="+ps.Types[typ].State)
	}
	return strings.Join(out, " ")
}

// lineDiff lists the lines only got has ("- served") and only want has ("+ expected").
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var out []string
	for _, l := range g {
		if !slices.Contains(w, l) {
			out = append(out, "- served   "+l)
		}
	}
	for _, l := range w {
		if !slices.Contains(g, l) {
			out = append(out, "+ expected "+l)
		}
	}
	return strings.Join(out, "\n")
}
