package servelog

import "testing"

func TestListening(t *testing.T) {
	ads, mon, ok := Listening([]byte(`{"time":"t","level":"INFO","msg":"listening","ads_addr":"127.0.0.1:1","monitoring_addr":"127.0.0.1:2"}`))
	if !ok || ads != "127.0.0.1:1" || mon != "127.0.0.1:2" {
		t.Fatalf("got %q %q %v", ads, mon, ok)
	}
	for _, line := range []string{`{"msg":"config loaded"}`, `not json`, ``} {
		if _, _, ok := Listening([]byte(line)); ok {
			t.Errorf("%q read as the listening line", line)
		}
	}
}
