package snapshot

import (
	"context"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// streamKey identifies an ADS stream: go-control-plane numbers SotW and delta streams
// separately.
type streamKey struct {
	delta bool
	id    int64
}

// stream is what the control plane knows of one connected proxy; guarded by Server.mu.
type stream struct {
	nodeID      string
	cluster     string
	role        string // metric label: gateway, sidecar or unknown
	group       *group // nil until the first request with a node
	connectedAt time.Time
	types       map[string]*typeState // by type URL
	// proven is "namespace/serviceAccount" the peer proved on its connection, or "".
	proven string
}

// typeState is the xDS exchange of one type on one stream.
type typeState struct {
	sentNonce   string
	sentVersion string
	acked       string // last version the proxy ACKed
	nack        *NACK  // last rejection, kept after later ACKs (as istioctl shows it)
}

// NACK is a proxy's rejection of a version.
type NACK struct {
	Version string    `json:"version"`
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

func (st *stream) typeState(typeURL string) *typeState {
	ts, ok := st.types[typeURL]
	if !ok {
		ts = &typeState{}
		st.types[typeURL] = ts
	}
	return ts
}

// openStream registers a stream and, with an IdentitySource, the identity its connection
// proves (streamCtx is the gRPC stream's context, which carries the TLS peer).
func (s *Server) openStream(streamCtx context.Context, k streamKey, now time.Time) {
	proven := ""
	if s.opts.Identity != nil {
		if ns, sa, err := s.opts.Identity.Prove(streamCtx); err == nil {
			proven = ns + "/" + sa
		} else {
			s.metrics.unproven.Inc()
			s.log.Debug("proxy did not prove an identity; no workload key will be sent", "err", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streams[k] = &stream{connectedAt: now, role: "unknown", types: map[string]*typeState{}, proven: proven}
}

// provenIdentity is what the stream proved, for markProven. Without an IdentitySource nothing
// is ever proved, and the server lock (taken on every request) is not needed.
func (s *Server) provenIdentity(k streamKey) string {
	if s.opts.Identity == nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.streams[k]; ok {
		return st.proven
	}
	return ""
}

// identify attaches a stream to its proxy's group on the first request that carries a node.
func (s *Server) identify(ctx context.Context, k streamKey, node *corev3.Node) {
	s.mu.Lock()
	st, ok := s.streams[k]
	known := ok && st.group != nil
	s.mu.Unlock()
	if !ok || known || node == nil {
		return
	}
	p, err := proxyFromNode(node)
	if err != nil {
		s.metrics.configErrors.WithLabelValues("node").Inc()
		s.log.WarnContext(ctx, "proxy node metadata incomplete, serving what it selects", "node_id", node.GetId(), "err", err)
	}
	g := s.attach(ctx, p)
	role := string(p.Role)
	if role == "" {
		role = "unknown"
	}
	s.mu.Lock()
	st.nodeID, st.cluster, st.group, st.role = node.GetId(), node.GetCluster(), g, role
	s.mu.Unlock()
	s.metrics.connected.WithLabelValues(role).Inc()
	s.log.InfoContext(ctx, "proxy connected", "node_id", node.GetId(), "group", g.key)
}

func (s *Server) closeStream(k streamKey, now time.Time) {
	s.mu.Lock()
	st, ok := s.streams[k]
	delete(s.streams, k)
	s.mu.Unlock()
	if !ok || st.group == nil {
		return
	}
	s.detach(st.group, now)
	s.metrics.connected.WithLabelValues(st.role).Dec()
	s.log.Info("proxy disconnected", "node_id", st.nodeID, "group", st.group.key)
}

// sent records a response about to go out on a stream.
func (s *Server) sent(k streamKey, typeURL, nonce, version string) {
	s.metrics.pushes.WithLabelValues(typeURL).Inc()
	s.gc.sending(time.Now())
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.streams[k]; ok {
		ts := st.typeState(typeURL)
		ts.sentNonce, ts.sentVersion = nonce, version
	}
}

// ack records an ACK or NACK of the response with nonce on a stream and returns the version
// that response carried ("" when the nonce is not the last one sent: a stale reply).
func (s *Server) ack(ctx context.Context, k streamKey, typeURL, nonce, nackMsg string, now time.Time) (string, bool) {
	s.mu.Lock()
	st, ok := s.streams[k]
	if !ok || nonce == "" {
		s.mu.Unlock()
		return "", false
	}
	ts := st.typeState(typeURL)
	if ts.sentNonce != nonce {
		s.mu.Unlock()
		return "", false
	}
	version, nodeID := ts.sentVersion, st.nodeID
	var latency time.Duration
	if nackMsg == "" {
		ts.acked = version
		if g := st.group; g != nil && g.served.prepared.get(typeURL).version == version {
			// A proxy that connected after the snapshot was set waited only since it connected.
			latency = now.Sub(later(g.setAt, st.connectedAt))
		}
	} else {
		ts.nack = &NACK{Version: version, Message: nackMsg, At: now}
	}
	s.mu.Unlock()
	if nackMsg != "" {
		s.metrics.nacks.WithLabelValues(typeURL).Inc()
		s.log.WarnContext(ctx, "proxy rejected configuration", "node_id", nodeID, "type_url", typeURL,
			"version", version, "err", nackMsg)
		return version, true
	}
	if latency > 0 {
		s.metrics.pushLatency.WithLabelValues(typeURL).Observe(latency.Seconds())
	}
	return version, false
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
