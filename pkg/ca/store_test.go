package ca

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestRootCreatedOnFirstStartAndReused(t *testing.T) {
	clock := newClock()
	dir := filepath.Join(t.TempDir(), "ca") // New creates it
	first := newTestCA(t, clock, Options{Dir: dir})

	for name, want := range map[string]os.FileMode{keyFileName: 0o600, certFileName: 0o644} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode = %v, want %v", name, got, want)
		}
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode = %v (err %v), want 0700", fi.Mode().Perm(), err)
	}
	stored, err := os.ReadFile(filepath.Join(dir, certFileName))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Root(), stored) {
		t.Error("Root() differs from the stored ca-cert.pem")
	}

	second := newTestCA(t, clock, Options{Dir: dir})
	if !bytes.Equal(first.Root(), second.Root()) {
		t.Fatal("second New with the same Dir generated a new root")
	}
	// The reused root signs: a certificate from the second CA verifies against the first's root.
	cert, err := second.Issue(Identity{Namespace: "ns", ServiceAccount: "sa"})
	if err != nil {
		t.Fatal(err)
	}
	verifyLeaf(t, cert, first.Root(), clock.Now())
	assertDirHolds(t, dir, certFileName, keyFileName)
}

func TestConcurrentNewOnEmptyDirAgreesOnOneRoot(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	roots := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			c, err := New(context.Background(), Options{Dir: dir})
			if err != nil {
				errs[i] = err
				return
			}
			roots[i] = c.Root()
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("New %d: %v", i, errs[i])
		}
		if !bytes.Equal(roots[i], roots[0]) {
			t.Fatalf("New %d has a different root than New 0", i)
		}
	}
	assertDirHolds(t, dir, certFileName, keyFileName)
}

func TestDirStoreSaveIsCreateOnly(t *testing.T) {
	clock := newClock()
	s := &DirStore{Dir: t.TempDir()}
	ctx := context.Background()
	if _, _, err := s.Load(ctx); !errors.Is(err, ErrNoRoot) {
		t.Fatalf("Load on empty dir: err = %v, want ErrNoRoot", err)
	}
	cert1, key1, _ := generateRoot(Options{TrustDomain: "td", RootTTL: time.Hour, Now: clock.Now})
	cert2, key2, _ := generateRoot(Options{TrustDomain: "td", RootTTL: time.Hour, Now: clock.Now})
	if err := s.Save(ctx, cert1, key1); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, cert2, key2); !errors.Is(err, ErrRootExists) {
		t.Fatalf("second Save: err = %v, want ErrRootExists", err)
	}
	gotCert, gotKey, err := s.Load(ctx)
	if err != nil || !bytes.Equal(gotCert, cert1) || !bytes.Equal(gotKey, key1) {
		t.Fatalf("Load after losing Save: want the first pair (err %v)", err)
	}
	assertDirHolds(t, s.Dir, certFileName, keyFileName)
}

func TestDirStoreHalfWrittenPair(t *testing.T) {
	ctx := context.Background()
	t.Run("key without certificate times out", func(t *testing.T) {
		s := &DirStore{Dir: t.TempDir(), Wait: 20 * time.Millisecond}
		writeFile(t, s.Dir, keyFileName, []byte("x"))
		if _, _, err := s.Load(ctx); err == nil || errors.Is(err, ErrNoRoot) {
			t.Fatalf("err = %v, want a half-written-pair error", err)
		}
	})
	t.Run("key then certificate: Load waits for it", func(t *testing.T) {
		s := &DirStore{Dir: t.TempDir()}
		writeFile(t, s.Dir, keyFileName, []byte("key"))
		done := make(chan struct{})
		go func() {
			defer close(done)
			time.Sleep(5 * time.Millisecond)
			writeFile(t, s.Dir, certFileName, []byte("cert"))
		}()
		cert, key, err := s.Load(ctx)
		<-done
		if err != nil || string(cert) != "cert" || string(key) != "key" {
			t.Fatalf("Load = %q, %q, %v", cert, key, err)
		}
	})
	t.Run("certificate without key fails at once", func(t *testing.T) {
		s := &DirStore{Dir: t.TempDir(), Wait: time.Hour}
		writeFile(t, s.Dir, certFileName, []byte("x"))
		if _, _, err := s.Load(ctx); err == nil || errors.Is(err, ErrNoRoot) {
			t.Fatalf("err = %v, want a missing-key error", err)
		}
	})
}

func TestNewRejectsBadOptions(t *testing.T) {
	for name, opts := range map[string]Options{
		"no source":             {},
		"dir and store":         {Dir: "d", Store: &DirStore{Dir: "d"}},
		"dir and files":         {Dir: "d", CertFile: "c", KeyFile: "k"},
		"cert without key":      {CertFile: "c"},
		"rotate at 1":           {Dir: "d", RotateAt: 1},
		"bad trust domain":      {Dir: "d", TrustDomain: "Cluster.Local"},
		"negative workload ttl": {Dir: "d", WorkloadTTL: -time.Hour},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := New(context.Background(), opts); err == nil {
				t.Fatal("New succeeded")
			}
		})
	}
}

func assertDirHolds(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if len(got) != len(want) {
		t.Fatalf("dir holds %v, want %v (temporary files left behind?)", got, want)
	}
}
