package jwks

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// fetchOnce runs one refresh round of src with a manager built from opts.
func fetchOnce(t *testing.T, opts Options, src Source) (fetched, error) {
	t.Helper()
	if src.Timeout == 0 {
		src.Timeout = 2 * time.Second
	}
	opts.Registerer = nil // several fetches may share opts
	return newManager(t, opts).fetcher.fetch(t.Context(), src)
}

func TestFetch(t *testing.T) {
	doc := jwksDoc(t, testKey(t, "k1"))
	big := `{"keys":[],"pad":"` + strings.Repeat("x", 2048) + `"}`
	tests := map[string]struct {
		handler    http.HandlerFunc
		opts       func(*Options)
		path       string
		timeout    time.Duration
		wantReason string
		wantHits   int64 // 0: not checked
	}{
		"ok": {handler: serve(doc), wantHits: 1},
		"500 is retried": {handler: status(http.StatusInternalServerError), wantReason: reasonStatus,
			wantHits: defaultFetchRetries + 1},
		"404 is not retried": {handler: status(http.StatusNotFound), wantReason: reasonStatus, wantHits: 1},
		"no retries":         {handler: status(http.StatusBadGateway), opts: func(o *Options) { o.FetchRetries = -1 }, wantReason: reasonStatus, wantHits: 1},
		"garbage JSON":       {handler: serve(`{"keys": [`), wantReason: reasonParse, wantHits: 1},
		"html":               {handler: serve(`<html></html>`), wantReason: reasonParse},
		"no usable key":      {handler: serve(`{"keys":[{"kty":"oct","k":"AA"}]}`), wantReason: reasonNoKeys},
		"oversized with length": {handler: serve(big), opts: func(o *Options) { o.MaxBodyBytes = 1024 },
			wantReason: reasonTooLarge, wantHits: 1},
		"oversized chunked": {handler: func(w http.ResponseWriter, _ *http.Request) {
			for range 64 {
				w.Write([]byte(strings.Repeat(" ", 64)))
				w.(http.Flusher).Flush()
			}
		}, opts: func(o *Options) { o.MaxBodyBytes = 1024 }, wantReason: reasonTooLarge},
		"slow server times out": {handler: func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
			timeout: 50 * time.Millisecond, opts: func(o *Options) { o.FetchRetries = 1 }, wantReason: reasonTimeout, wantHits: 2},
		"untrusted certificate": {handler: serve(doc), opts: func(o *Options) { o.CABundle = nil }, wantReason: reasonTLS},
		"two redirects":         {handler: redirects(2, doc), path: "/r/2"},
		"too many redirects":    {handler: redirects(5, doc), path: "/r/5", wantReason: reasonRedirect},
		"no redirects allowed": {handler: redirects(1, doc), path: "/r/1",
			opts: func(o *Options) { o.MaxRedirects = -1 }, wantReason: reasonRedirect},
		"redirect to http": {handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://"+r.Host+"/keys", http.StatusFound)
		}, wantReason: reasonRedirect},
		"allowed host": {handler: serve(doc), opts: func(o *Options) { o.AllowedHosts = []string{"127.0.0.1"} }},
		"host not allowed": {handler: serve(doc), opts: func(o *Options) { o.AllowedHosts = []string{"login.example.com", "*.example.com"} },
			wantReason: reasonBlocked, wantHits: -1},
		"loopback denied": {handler: serve(doc), opts: func(o *Options) { o.DenyPrivateAddresses = true },
			wantReason: reasonBlocked, wantHits: -1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := newIDP(t, tc.handler)
			opts := testOptions(p)
			if tc.opts != nil {
				tc.opts(&opts)
			}
			got, err := fetchOnce(t, opts, Source{Key: "k", URI: p.URL + tc.path, Timeout: tc.timeout})
			if tc.wantReason == "" && err != nil {
				t.Fatalf("fetch: %v", err)
			}
			if tc.wantReason != "" && (err == nil || reasonOf(err) != tc.wantReason) {
				t.Fatalf("err = %v, want reason %s", err, tc.wantReason)
			}
			if err == nil && !strings.Contains(got.Keys.JSON, `"kid":"k1"`) {
				t.Errorf("keys = %s", got.Keys.JSON)
			}
			switch hits := p.hits.Load(); {
			case tc.wantHits > 0 && hits != tc.wantHits:
				t.Errorf("server hit %d times, want %d", hits, tc.wantHits)
			case tc.wantHits < 0 && hits != 0:
				t.Errorf("server hit %d times, want none: the guard must stop the request", hits)
			}
		})
	}
}

// redirects serves /r/<n> as a chain of n redirects ending at the key set.
func redirects(n int, doc string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		left := strings.TrimPrefix(r.URL.Path, "/r/")
		if left == "" || left == "0" || left == r.URL.Path {
			serve(doc)(w, r)
			return
		}
		next := int(left[0]-'0') - 1
		http.Redirect(w, r, "/r/"+string(rune('0'+next)), http.StatusFound)
	}
}

// TestFetchServerNeverAnswers: a peer that accepts the connection and then says nothing
// (not even a TLS handshake) costs one timeout per attempt, not a stuck fetcher.
func TestFetchServerNeverAnswers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	p := newIDP(t, serve("")) // only for its CA bundle
	opts := testOptions(p)
	opts.FetchRetries = 1
	_, err = fetchOnce(t, opts, Source{Key: "k", URI: "https://" + ln.Addr().String() + "/keys", Timeout: 50 * time.Millisecond})
	if reasonOf(err) != reasonTimeout {
		t.Fatalf("err = %v, want reason %s", err, reasonTimeout)
	}
}

func TestFetchDiscovery(t *testing.T) {
	doc := jwksDoc(t, testKey(t, "k1"))
	var p *idp
	p = newIDP(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/tenant/.well-known/openid-configuration":
			serve(`{"issuer":"x","jwks_uri":"`+p.URL+`/tenant/keys"}`)(w, r)
		case "/broken/.well-known/openid-configuration":
			serve(`{"issuer":"x"}`)(w, r)
		case "/tenant/keys":
			w.Header().Set("Cache-Control", "public, max-age=600")
			serve(doc)(w, r)
		default:
			http.NotFound(w, r)
		}
	})
	// Istio strips one trailing slash from the issuer before appending the well-known path.
	got, err := fetchOnce(t, testOptions(p), Source{Key: p.URL + "/tenant/", Issuer: p.URL + "/tenant/"})
	if err != nil {
		t.Fatal(err)
	}
	if got.URI != p.URL+"/tenant/keys" || got.MaxAge != 10*time.Minute || got.Keys.Count != 1 {
		t.Errorf("got uri %s max-age %v count %d", got.URI, got.MaxAge, got.Keys.Count)
	}
	if _, err := fetchOnce(t, testOptions(p), Source{Key: "b", Issuer: p.URL + "/broken"}); reasonOf(err) != reasonDiscovery {
		t.Errorf("no jwks_uri: err = %v, want reason %s", err, reasonDiscovery)
	}
	if _, err := fetchOnce(t, testOptions(p), Source{Key: "m", Issuer: p.URL + "/missing"}); reasonOf(err) != reasonStatus {
		t.Errorf("no discovery document: err = %v, want reason %s", err, reasonStatus)
	}
}

func TestFetchInvalidURI(t *testing.T) {
	p := newIDP(t, serve(""))
	for _, uri := range []string{"ftp://example.com/keys", "/relative", "https://"} {
		if _, err := fetchOnce(t, testOptions(p), Source{Key: "k", URI: uri}); reasonOf(err) != reasonInvalidURI {
			t.Errorf("%s: err = %v, want reason %s", uri, err, reasonInvalidURI)
		}
	}
}

func TestMaxAge(t *testing.T) {
	tests := map[string]time.Duration{
		"":                             0,
		"max-age=300":                  5 * time.Minute,
		"public, Max-Age=60, x=1":      time.Minute,
		"no-cache":                     0,
		"max-age=-5":                   0,
		"max-age=abc":                  0,
		`max-age="120"`:                2 * time.Minute,
		"max-age=99999999999999999999": 0,
		"max-age=99999999999999999":    24 * time.Hour,
		"max-age=999999999":            24 * time.Hour,
	}
	for in, want := range tests {
		h := http.Header{}
		h.Set("Cache-Control", in)
		if got := maxAge(h); got != want {
			t.Errorf("maxAge(%q) = %v, want %v", in, got, want)
		}
	}
}
