package kube_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	securityv1beta1 "istio.io/api/security/v1beta1"
	securityv1 "istio.io/client-go/pkg/apis/security/v1"
	istioclient "istio.io/client-go/pkg/clientset/versioned"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/sources/kube"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

// TestStatusByLeaderOnly runs two replicas. An AuthorizationPolicy that passes the CRD schema
// but fails validation (ipBlocks with a bad CIDR) is in both stores with its problem, gets a
// status written by the leader only, and does not disturb a valid policy; both replicas
// translate to the same bytes; fixing the policy clears its status; when the leader stops, the
// other replica takes over writing.
func TestStatusByLeaderOnly(t *testing.T) {
	kc, ic := clients(t)
	ctx := context.Background()
	ns := newNamespace(t, kc, "status")
	opts := func(id string) kube.Options {
		return kube.Options{StatusWriter: true, LeaseNamespace: ns, LeaseName: "status", Identity: id,
			LeaseDuration: 3 * time.Second}
	}
	a, b := startSource(t, restConfig, opts("replica-a")), startSource(t, restConfig, opts("replica-b"))

	createPolicy(t, ic, ns, "good", "10.0.0.0/8")
	createPolicy(t, ic, ns, "bad", "10.0.0.0/33")
	for _, r := range []*running{a, b} {
		r.col.waitFor(t, "both policies and the bad one's problem", func(s *model.Store, ps []model.Problem) bool {
			return has(s, model.KindAuthorizationPolicy, ns, "good") && has(s, model.KindAuthorizationPolicy, ns, "bad") &&
				contains(problemsOf(ps, ns, "bad"), "ipBlocks") && len(problemsOf(ps, ns, "good")) == 0
		})
	}
	waitStatus(t, ic, ns, "bad", func(st *securityv1.AuthorizationPolicy) bool {
		c := validCondition(st)
		msgs := st.Status.GetValidationMessages()
		return c != nil && c.GetStatus() == "False" && bytes.Contains([]byte(c.GetMessage()), []byte("ipBlocks")) &&
			len(msgs) == 1 && msgs[0].GetType().GetCode() == "IST0106"
	})
	good, err := ic.SecurityV1().AuthorizationPolicies(ns).Get(ctx, "good", metav1.GetOptions{})
	if err != nil || len(good.Status.GetConditions()) != 0 || len(good.Status.GetValidationMessages()) != 0 {
		t.Errorf("valid policy status = %v (err %v), want none", &good.Status, err)
	}

	leader, follower := a, b
	if b.src.Leader() {
		leader, follower = b, a
	}
	if !leader.src.Leader() || follower.src.Leader() {
		t.Fatalf("leaders: a=%v b=%v, want exactly one", a.src.Leader(), b.src.Leader())
	}
	if w := writes(follower); w != 0 {
		t.Errorf("follower wrote %v statuses, want 0", w)
	}
	if w := writes(leader); w < 1 {
		t.Errorf("leader wrote %v statuses, want at least 1", w)
	}
	sameTranslation(t, ns, a, b)

	// Fixing the policy clears the status.
	bad, err := ic.SecurityV1().AuthorizationPolicies(ns).Get(ctx, "bad", metav1.GetOptions{}) // status moved its resourceVersion
	if err != nil {
		t.Fatal(err)
	}
	bad.Spec.Rules[0].From[0].Source.IpBlocks = []string{"10.0.0.0/16"}
	if _, err := ic.SecurityV1().AuthorizationPolicies(ns).Update(ctx, bad, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, ic, ns, "bad", func(st *securityv1.AuthorizationPolicy) bool {
		return validCondition(st) == nil && len(st.Status.GetValidationMessages()) == 0
	})

	// Failover: the leader stops (releasing the lease); the other replica writes from then on.
	leader.stop()
	before := writes(follower)
	createPolicy(t, ic, ns, "bad-2", "300.0.0.0/8")
	waitStatus(t, ic, ns, "bad-2", func(st *securityv1.AuthorizationPolicy) bool { return validCondition(st) != nil })
	if !follower.src.Leader() || writes(follower) <= before {
		t.Errorf("after failover: leader=%v writes %v -> %v, want the remaining replica to write", follower.src.Leader(), before, writes(follower))
	}
}

// createPolicy creates an ALLOW policy whose one rule allows sources in cidr.
func createPolicy(t *testing.T, ic istioclient.Interface, ns, name, cidr string) *securityv1.AuthorizationPolicy {
	t.Helper()
	ap := &securityv1.AuthorizationPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: securityv1beta1.AuthorizationPolicy{Rules: []*securityv1beta1.Rule{{
			From: []*securityv1beta1.Rule_From{{Source: &securityv1beta1.Source{IpBlocks: []string{cidr}}}},
		}}},
	}
	out, err := ic.SecurityV1().AuthorizationPolicies(ns).Create(context.Background(), ap, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func waitStatus(t *testing.T, ic istioclient.Interface, ns, name string, ok func(*securityv1.AuthorizationPolicy) bool) {
	t.Helper()
	var last *securityv1.AuthorizationPolicy
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		ap, err := ic.SecurityV1().AuthorizationPolicies(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err == nil && ok(ap) {
			return
		}
		last = ap
	}
	if last != nil {
		t.Fatalf("status of %s/%s never as expected; last: %v", ns, name, &last.Status)
	}
	t.Fatalf("status of %s/%s never as expected", ns, name)
}

func validCondition(ap *securityv1.AuthorizationPolicy) interface {
	GetStatus() string
	GetMessage() string
} {
	for _, c := range ap.Status.GetConditions() {
		if c.GetType() == "Valid" {
			return c
		}
	}
	return nil
}

// writes reads controlplane_kube_status_writes_total{result="success"} of one replica.
func writes(r *running) float64 {
	families, err := r.reg.Gather()
	if err != nil {
		return -1
	}
	for _, f := range families {
		if f.GetName() != "controlplane_kube_status_writes_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == "success" {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// sameTranslation waits until both replicas' latest stores translate, for a sidecar in ns, to
// the same bytes (deterministic marshal); replicas may be a publish apart for a moment.
func sameTranslation(t *testing.T, ns string, a, b *running) {
	t.Helper()
	proxy := model.Proxy{ID: "sidecar~" + ns, Role: model.RoleSidecar, Namespace: ns,
		Labels: map[string]string{"app": "x"}, ServiceAccount: "x", Interception: model.InterceptionExplicit}
	var ba, bb []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		sa, _, _ := a.col.latest()
		sb, _, _ := b.col.latest()
		ba, bb = marshal(t, sa, proxy), marshal(t, sb, proxy)
		if len(ba) > 0 && bytes.Equal(ba, bb) {
			return
		}
	}
	t.Fatalf("replicas translate differently:\n%d bytes vs %d bytes", len(ba), len(bb))
}

func marshal(t *testing.T, s *model.Store, p model.Proxy) []byte {
	t.Helper()
	res, _ := translate.Proxy(translate.Inputs{Store: s, Proxy: p})
	var out []byte
	var msgs []proto.Message
	for _, l := range res.Listeners {
		msgs = append(msgs, l)
	}
	for _, r := range res.Routes {
		msgs = append(msgs, r)
	}
	for _, c := range res.Clusters {
		msgs = append(msgs, c)
	}
	for _, e := range res.Endpoints {
		msgs = append(msgs, e)
	}
	for _, m := range msgs {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}
