package snapshot

import (
	"cmp"
	"slices"
	"strings"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

// ProxyStatus is one connected proxy as `controlplane status` shows it (cf. istioctl
// proxy-status).
type ProxyStatus struct {
	NodeID       string    `json:"node_id"`
	Cluster      string    `json:"cluster"`
	Role         string    `json:"role"`
	Group        string    `json:"group"`
	Delta        bool      `json:"delta"`
	ConnectedAt  time.Time `json:"connected_at"`
	GroupVersion string    `json:"group_version"` // the version the group is served now
	// Identity is the namespace/serviceAccount the proxy proved on its connection, "" if none.
	// Without one it is sent no workload key (with the built-in CA), and its mTLS chains fail.
	Identity     string                `json:"identity"`
	IdentityNote string                `json:"identity_note,omitempty"`
	Types        map[string]TypeStatus `json:"types"` // by short name: cds, eds, lds, rds, sds
}

// TypeStatus is the state of one resource type on one proxy.
type TypeStatus struct {
	State    string `json:"state"`   // SYNCED, NACKED, STALE (sent, not yet ACKed) or NOT SENT
	Current  string `json:"current"` // version the group is served now
	Sent     string `json:"sent,omitempty"`
	Acked    string `json:"acked,omitempty"`
	LastNACK *NACK  `json:"last_nack,omitempty"`
}

// ShortTypeNames maps the served type URLs to the names istioctl uses.
var shortTypeNames = map[string]string{
	resourcev3.ClusterType: "cds", resourcev3.EndpointType: "eds", resourcev3.ListenerType: "lds",
	resourcev3.RouteType: "rds", resourcev3.SecretType: "sds",
}

// Status lists every identified stream, sorted by node id.
func (s *Server) Status() []ProxyStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ProxyStatus
	for k, st := range s.streams {
		if st.group == nil {
			continue
		}
		ps := ProxyStatus{
			NodeID: st.nodeID, Cluster: st.cluster, Role: st.role, Group: st.group.key, Delta: k.delta,
			ConnectedAt: st.connectedAt, GroupVersion: st.group.served.version, Types: map[string]TypeStatus{},
			Identity: st.proven,
		}
		if s.opts.Identity != nil && !st.group.proxy.IdentityProven {
			ps.IdentityNote = "identity not proved on the ADS connection: no workload key sent"
		}
		for _, typeURL := range typeURLs {
			ps.Types[shortTypeNames[typeURL]] = typeStatus(st.types[typeURL], st.group.served.prepared.get(typeURL).version)
		}
		out = append(out, ps)
	}
	slices.SortFunc(out, func(a, b ProxyStatus) int {
		return cmp.Or(strings.Compare(a.NodeID, b.NodeID), strings.Compare(a.Group, b.Group))
	})
	return out
}

func typeStatus(ts *typeState, current string) TypeStatus {
	out := TypeStatus{State: "NOT SENT", Current: current}
	if ts == nil {
		return out
	}
	out.Sent, out.Acked, out.LastNACK = ts.sentVersion, ts.acked, ts.nack
	switch {
	case ts.acked == current && current != "":
		out.State = "SYNCED"
	case ts.nack != nil && ts.nack.Version == current:
		out.State = "NACKED"
	case ts.sentVersion != "":
		out.State = "STALE"
	}
	return out
}

// ProxyConfig is what one proxy's group is served now, for `controlplane config`.
type ProxyConfig struct {
	Status    ProxyStatus
	Resources translate.Resources
	Problems  []model.Problem
}

// Config returns the configuration served to the proxy with the given node id (its first
// stream when several share the id), or false when no such proxy is connected.
func (s *Server) Config(nodeID string) (ProxyConfig, bool) {
	for _, ps := range s.Status() {
		if ps.NodeID != nodeID {
			continue
		}
		s.mu.Lock()
		g, ok := s.groups[ps.Group]
		var served prepared
		var keySources []string
		var problems []model.Problem
		if ok {
			served, keySources, problems = g.served.prepared, g.keySources, g.problems
		}
		s.mu.Unlock()
		if !ok {
			return ProxyConfig{}, false
		}
		// Decoded outside the lock every ACK takes: the prepared bytes never change.
		res, err := served.resources()
		if err != nil {
			// The bytes were marshalled from these very types: failing to read them back is a bug.
			s.log.Error("served configuration could not be decoded for display", "group", ps.Group, "err", err)
		}
		res.KeySources = keySources
		return ProxyConfig{Status: ps, Resources: res, Problems: problems}, true
	}
	return ProxyConfig{}, false
}
