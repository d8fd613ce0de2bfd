package snapshot

import (
	"encoding/json"
	"net/http"
	"net/http/pprof"

	"github.com/plainenvoy/controlplane/pkg/render"
)

// DebugHandler serves the health and debug endpoints:
//
//	/healthz                 the process is up
//	/readyz                  a store has been loaded (503 before)
//	/debug/proxies           every connected proxy: group, versions sent and ACKed, last NACK
//	/debug/config?node=ID    the configuration that proxy's group is served (secrets redacted)
//	/debug/pprof/            Go profiles (the monitoring address is loopback by default)
func (s *Server) DebugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.Ready() {
			http.Error(w, "configuration not loaded yet", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /debug/proxies", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, s.Status())
	})
	mux.HandleFunc("GET /debug/config", s.serveConfig)
	// Push latency is measured on the running binary (make bench-push), so its profiles
	// must be reachable there; pprof.Index serves every named profile under the prefix.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

func (s *Server) serveConfig(w http.ResponseWriter, r *http.Request) {
	node := r.URL.Query().Get("node")
	if node == "" {
		http.Error(w, "query parameter node is required", http.StatusBadRequest)
		return
	}
	pc, ok := s.Config(node)
	if !ok {
		http.Error(w, "no connected proxy with node id "+node, http.StatusNotFound)
		return
	}
	doc, err := render.NewDocument(pc.Resources, pc.Problems)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, struct {
		Status ProxyStatus `json:"status"`
		Config any         `json:"config"`
	}{pc.Status, doc})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}
