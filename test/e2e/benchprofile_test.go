//go:build bench

package e2e

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

var benchProfileKind = flag.String("serverprofile-kind", "profile",
	"what -serverprofile records: profile (CPU) or allocs (allocations during the rounds)")

var benchProfileSeconds = flag.Int("serverprofile-seconds", 15,
	"length of the server CPU profile; pick -rounds so that the rounds fill it")

// startProfile starts a CPU profile of the server through its /debug/pprof/profile endpoint
// when path is set. The endpoint profiles for a duration fixed up front, so the returned
// function waits for the rest of it, then writes the profile to path.
func startProfile(t *testing.T, monitoringAddr, path string) func() {
	t.Helper()
	if path == "" {
		return func() {}
	}
	done := make(chan error, 1)
	go func() {
		url := fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", monitoringAddr, *benchProfileKind, *benchProfileSeconds)
		resp, err := http.Get(url)
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			done <- fmt.Errorf("GET %s: %s", url, resp.Status)
			return
		}
		f, err := os.Create(path)
		if err != nil {
			done <- err
			return
		}
		_, err = io.Copy(f, resp.Body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	return func() {
		if err := <-done; err != nil {
			t.Errorf("server CPU profile: %v", err)
			return
		}
		t.Logf("server CPU profile written to %s", path)
	}
}

// phases reads the server's JSON log for the steps of one round after edit: when the file
// source published the new store ("config loaded"), when the "snapshot set" lines were logged
// (after every group of the rebuild was set, and so after most of the fan-out), and how long the
// rebuild took, of which translating and checking the groups. The rest of the latency is
// fan-out, sending and the clients' ACKs.
func phases(log string, edit time.Time) string {
	var loaded, first, last time.Time
	var built, prepared float64 // seconds, from the line "groups rebuilt"
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec struct {
			Time    time.Time `json:"time"`
			Msg     string    `json:"msg"`
			Seconds float64   `json:"seconds"`
			Prepare float64   `json:"prepare_seconds"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) != nil || rec.Time.Before(edit) {
			continue
		}
		switch {
		case rec.Msg == "config loaded" && loaded.IsZero():
			loaded = rec.Time
		case rec.Msg == "snapshot set":
			if first.IsZero() {
				first = rec.Time
			}
			last = rec.Time
		case rec.Msg == "groups rebuilt":
			built += rec.Seconds
			prepared += rec.Prepare
		}
	}
	since := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Sub(edit).Round(100 * time.Microsecond).String()
	}
	sec := func(s float64) time.Duration {
		return time.Duration(s * float64(time.Second)).Round(100 * time.Microsecond)
	}
	return fmt.Sprintf("loaded +%s, snapshots logged +%s to +%s, rebuild %v (translation %v)", since(loaded), since(first), since(last),
		sec(built), sec(prepared))
}
