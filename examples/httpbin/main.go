// Command httpbin is a tiny stand-in for the httpbin service Istio's tasks call: /headers
// echoes the request headers, /ip the client address, /status/<code> answers that code, and
// everything else 200. It listens on 127.0.0.1:8000 (flag -addr).
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"strconv"
	"strings"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "listen address")
	flag.Parse()
	mux := http.NewServeMux()
	mux.HandleFunc("/headers", func(w http.ResponseWriter, r *http.Request) {
		h := map[string]string{"Host": r.Host}
		for k, v := range r.Header {
			h[k] = strings.Join(v, ",")
		}
		writeJSON(w, map[string]any{"headers": h})
	})
	mux.HandleFunc("/ip", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"origin": r.RemoteAddr})
	})
	mux.HandleFunc("/status/", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/status/"))
		if err != nil || code < 100 || code > 599 {
			http.Error(w, "bad status code", http.StatusBadRequest)
			return
		}
		w.WriteHeader(code)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, map[string]any{"path": r.URL.Path}) })
	log.Printf("httpbin listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, mux))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
