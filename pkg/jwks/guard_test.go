package jwks

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// TestGuardFollowsResolutionAndRedirects: the SSRF guards look at what is really contacted: a
// host name that resolves to loopback, and a redirect hop to a host off the allow-list.
func TestGuardFollowsResolutionAndRedirects(t *testing.T) {
	doc := jwksDoc(t, testKey(t, "k1"))
	p := newIDP(t, serve(doc))
	byName := strings.Replace(p.URL, "127.0.0.1", "localhost", 1)

	opts := testOptions(p)
	opts.DenyPrivateAddresses = true
	if _, err := fetchOnce(t, opts, Source{Key: "k", URI: byName + "/keys"}); reasonOf(err) != reasonBlocked {
		t.Errorf("name resolving to loopback: err = %v, want reason %s", err, reasonBlocked)
	}
	if p.hits.Load() != 0 {
		t.Errorf("server was contacted despite DenyPrivateAddresses")
	}

	p.set(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/elsewhere":
			http.Redirect(w, r, byName+"/keys", http.StatusFound)
		case "/here":
			http.Redirect(w, r, "/keys", http.StatusFound)
		default:
			serve(doc)(w, r)
		}
	})
	opts = testOptions(p)
	opts.AllowedHosts = []string{"127.0.0.1"}
	if _, err := fetchOnce(t, opts, Source{Key: "k", URI: p.URL + "/elsewhere"}); reasonOf(err) != reasonBlocked {
		t.Errorf("redirect off the allow-list: err = %v, want reason %s", err, reasonBlocked)
	}
	if _, err := fetchOnce(t, opts, Source{Key: "k", URI: p.URL + "/here"}); err != nil {
		t.Errorf("redirect within the allow-list: %v", err)
	}
}

func TestNewManagerRefusesUnguardableClient(t *testing.T) {
	if _, err := NewManager(Options{Client: http.DefaultClient, DenyPrivateAddresses: true}); err == nil {
		t.Error("DenyPrivateAddresses with a caller's Client: want an error")
	}
	if _, err := NewManager(Options{CABundle: []byte("not pem")}); err == nil {
		t.Error("CA bundle without certificates: want an error")
	}
}

func TestPrivateAddress(t *testing.T) {
	tests := map[string]string{
		"127.0.0.1":        "loopback",
		"::1":              "loopback",
		"::ffff:127.0.0.1": "loopback",
		"10.1.2.3":         "private",
		"172.16.0.1":       "private",
		"192.168.1.1":      "private",
		"100.64.0.1":       "private",
		"fd00::1":          "private",
		"169.254.169.254":  "link-local",
		"fe80::1":          "link-local",
		"0.0.0.0":          "unspecified",
		"::":               "unspecified",
		"224.0.0.1":        "link-local",
		"239.1.1.1":        "multicast",
		"8.8.8.8":          "",
		"2606:4700::1111":  "",
	}
	for in, want := range tests {
		if got := privateAddress(netip.MustParseAddr(in).Unmap()); got != want {
			t.Errorf("privateAddress(%s) = %q, want %q", in, got, want)
		}
	}
	if err := denyPrivateControl("tcp4", "10.0.0.1:443", nil); err == nil {
		t.Error("denyPrivateControl allowed 10.0.0.1")
	}
	if err := denyPrivateControl("tcp4", "1.1.1.1:443", nil); err != nil {
		t.Errorf("denyPrivateControl refused 1.1.1.1: %v", err)
	}
}

func TestHostAllowed(t *testing.T) {
	allowed := []string{"login.example.com", "*.idp.example.org"}
	tests := map[string]bool{
		"https://login.example.com/keys":      true,
		"https://LOGIN.example.com:8443/keys": true,
		"https://evil.example.com/keys":       false,
		"https://a.idp.example.org/keys":      true,
		"https://idp.example.org/keys":        false,
		"https://evilidp.example.org/keys":    false,
		"https://login.example.com.evil/keys": false,
	}
	for in, want := range tests {
		u, _ := url.Parse(in)
		if got := hostAllowed(allowed, u); got != want {
			t.Errorf("hostAllowed(%s) = %v, want %v", in, got, want)
		}
	}
	if u, _ := url.Parse("https://any.where/"); !hostAllowed(nil, u) {
		t.Error("an empty allow-list must allow every host")
	}
}
