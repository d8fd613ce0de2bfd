package snapshot

import (
	"context"
	"slices"
	"testing"
	"time"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

type recordingIdentity struct{ forgotten []string }

func (*recordingIdentity) Prove(context.Context) (string, string, error) { return "", "", nil }
func (*recordingIdentity) WorkloadSecrets(string, string) ([]*tlsv3.Secret, error) {
	return nil, nil
}
func (*recordingIdentity) RootSecret() *tlsv3.Secret { return &tlsv3.Secret{Name: "ROOTCA"} }
func (r *recordingIdentity) Forget(ns, sa string)    { r.forgotten = append(r.forgotten, ns+"/"+sa) }

// TestSweepForgetsUnusedIdentities: dropping the last idle group of a proven identity tells the
// CA to forget it; an identity still used by another group, or never proven, is kept.
func TestSweepForgetsUnusedIdentities(t *testing.T) {
	id := &recordingIdentity{}
	s, err := New(Options{Identity: id, IdleTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	add := func(sa string, labels map[string]string, proven bool, streams int) {
		p := model.Proxy{Role: model.RoleSidecar, Namespace: "foo", ServiceAccount: sa, Labels: labels, IdentityProven: proven}
		s.groups[p.GroupKey()] = &group{key: p.GroupKey(), proxy: p, streams: streams, idleSince: now.Add(-time.Hour)}
	}
	add("gone", nil, true, 0)                           // idle, last of its identity: forgotten
	add("shared", map[string]string{"v": "1"}, true, 0) // idle, but...
	add("shared", map[string]string{"v": "2"}, true, 1) // ...this group of the same identity is connected
	add("unproven", nil, false, 0)                      // never had a key
	s.sweep(t.Context(), now)
	if !slices.Equal(id.forgotten, []string{"foo/gone"}) {
		t.Fatalf("forgotten %v, want [foo/gone]", id.forgotten)
	}
}
