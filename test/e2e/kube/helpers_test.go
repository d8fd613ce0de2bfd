package kube_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	istioclient "istio.io/client-go/pkg/clientset/versioned"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/sources/kube"
)

var nsCounter atomic.Int64

// newNamespace creates a fresh namespace: namespaces never finish deleting on this API server
// (no controller manager), so tests never reuse one.
func newNamespace(t *testing.T, kc kubernetes.Interface, prefix string) string {
	t.Helper()
	name := fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%100000, nsCounter.Add(1))
	if _, err := kc.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return name
}

func clients(t *testing.T) (kubernetes.Interface, istioclient.Interface) {
	t.Helper()
	requireAPIServer(t)
	return kubernetes.NewForConfigOrDie(restConfig), istioclient.NewForConfigOrDie(restConfig)
}

// collector keeps every store a source publishes.
type collector struct {
	mu       sync.Mutex
	stores   []*model.Store
	problems [][]model.Problem
	changed  chan struct{}
}

func newCollector() *collector { return &collector{changed: make(chan struct{}, 1)} }

func (c *collector) publish(s *model.Store, ps []model.Problem) {
	c.mu.Lock()
	c.stores, c.problems = append(c.stores, s), append(c.problems, ps)
	c.mu.Unlock()
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

func (c *collector) latest() (*model.Store, []model.Problem, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.stores) == 0 {
		return nil, nil, 0
	}
	return c.stores[len(c.stores)-1], c.problems[len(c.problems)-1], len(c.stores)
}

// waitFor waits until the latest store satisfies ok and returns it.
func (c *collector) waitFor(t *testing.T, what string, ok func(*model.Store, []model.Problem) bool) *model.Store {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if s, ps, _ := c.latest(); s != nil && ok(s, ps) {
			return s
		}
		select {
		case <-c.changed:
		case <-deadline:
			t.Fatalf("timed out waiting for a store with %s", what)
		}
	}
}

// running is a Source started by startSource.
type running struct {
	src  *kube.Source
	col  *collector
	reg  *prometheus.Registry
	stop func()
}

// startSource runs a Source until the test ends and waits until it is ready.
func startSource(t *testing.T, cfg *rest.Config, opts kube.Options) *running {
	t.Helper()
	opts.Config = cfg
	if opts.Debounce == 0 {
		opts.Debounce = 20 * time.Millisecond
	}
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	if testing.Verbose() {
		opts.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	src, err := kube.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	col := newCollector()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, col.publish) }()
	var once sync.Once
	r := &running{src: src, col: col, reg: reg, stop: func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}}
	t.Cleanup(r.stop)
	deadline := time.Now().Add(20 * time.Second)
	for !src.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("source not ready after 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return r
}

func has(s *model.Store, kind model.Kind, ns, name string) bool {
	for _, o := range s.Objects() {
		if m := o.ObjectMeta(); m.Kind == kind && m.Namespace == ns && m.Name == name {
			return true
		}
	}
	return false
}

func problemsOf(ps []model.Problem, ns, name string) []string {
	var out []string
	for _, p := range ps {
		if p.Namespace == ns && p.Name == name {
			out = append(out, p.String())
		}
	}
	return out
}

func contains(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
