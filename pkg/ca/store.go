package ca

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// RootStore persists the generated root so that restarts and replicas share it.
type RootStore interface {
	// Load returns the stored root certificate and key (PEM), or an error wrapping ErrNoRoot
	// when none has been saved yet.
	Load(ctx context.Context) (certPEM, keyPEM []byte, err error)
	// Save stores a root only if none exists: when another writer got there first it returns
	// an error wrapping ErrRootExists and the caller loads theirs. This create-only rule is
	// what makes replicas that start together agree on one root.
	Save(ctx context.Context, certPEM, keyPEM []byte) error
}

// Sentinels of RootStore; New branches on them.
var (
	ErrNoRoot     = errors.New("no root stored")
	ErrRootExists = errors.New("a root is already stored")
)

// File names in a DirStore (as Istio's plugged-in CA directory names its root).
const (
	certFileName = "ca-cert.pem"
	keyFileName  = "ca-key.pem"
)

var _ RootStore = (*DirStore)(nil)

// DirStore keeps the root in Dir as ca-cert.pem (0644) and ca-key.pem (0600).
//
// Save is safe against replicas racing on a shared directory: each writes its pair to
// temporary files in Dir, then hard-links the key into place. link(2) fails when the name
// exists (O_EXCL semantics, also on NFS), so exactly one writer wins; only the winner then
// links its certificate, and losers return ErrRootExists. A reader that finds the key without
// the certificate is looking at the winner between its two links and waits (up to Wait). The
// directory must support hard links (any POSIX file system).
type DirStore struct {
	Dir string
	// Wait bounds how long Load waits for the certificate of a half-written pair (default 5s).
	Wait time.Duration
}

// Load implements RootStore.
func (s *DirStore) Load(ctx context.Context) (certPEM, keyPEM []byte, err error) {
	keyPath, certPath := filepath.Join(s.Dir, keyFileName), filepath.Join(s.Dir, certFileName)
	wait := s.Wait
	if wait <= 0 {
		wait = 5 * time.Second
	}
	deadline := time.Now().Add(wait)
	for {
		keyPEM, kerr := os.ReadFile(keyPath)
		certPEM, cerr := os.ReadFile(certPath)
		switch {
		case kerr == nil && cerr == nil:
			return certPEM, keyPEM, nil
		case errors.Is(kerr, fs.ErrNotExist) && errors.Is(cerr, fs.ErrNotExist):
			return nil, nil, fmt.Errorf("root store %s: %w", s.Dir, ErrNoRoot)
		case kerr != nil && !errors.Is(kerr, fs.ErrNotExist):
			return nil, nil, fmt.Errorf("read root key: %w", kerr)
		case cerr != nil && !errors.Is(cerr, fs.ErrNotExist):
			return nil, nil, fmt.Errorf("read root certificate: %w", cerr)
		case kerr != nil:
			// The certificate is linked after the key, so this is never a pair in progress.
			return nil, nil, fmt.Errorf("root store %s: %s exists without %s", s.Dir, certFileName, keyFileName)
		}
		if time.Now().After(deadline) {
			return nil, nil, fmt.Errorf("root store %s: %s exists without %s after %v (a writer died mid-save? remove %s)",
				s.Dir, keyFileName, certFileName, wait, keyFileName)
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Save implements RootStore.
func (s *DirStore) Save(ctx context.Context, certPEM, keyPEM []byte) error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("create root store %s: %w", s.Dir, err)
	}
	keyTmp, err := writeTemp(s.Dir, keyPEM, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(keyTmp)
	certTmp, err := writeTemp(s.Dir, certPEM, 0o644)
	if err != nil {
		return err
	}
	defer os.Remove(certTmp)
	if err := os.Link(keyTmp, filepath.Join(s.Dir, keyFileName)); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("root store %s: %w", s.Dir, ErrRootExists)
		}
		return fmt.Errorf("save root key: %w", err)
	}
	if err := os.Link(certTmp, filepath.Join(s.Dir, certFileName)); err != nil {
		return fmt.Errorf("save root certificate (remove %s to retry): %w", keyFileName, err)
	}
	return nil
}

// writeTemp writes data to a new temporary file in dir with mode perm, synced so that a linked
// name never points at a partly written file after a crash.
func writeTemp(dir string, data []byte, perm os.FileMode) (string, error) {
	f, err := os.CreateTemp(dir, ".tmp-ca-*")
	if err != nil {
		return "", fmt.Errorf("save root: %w", err)
	}
	name := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", fmt.Errorf("save root: %w", err)
	}
	return name, nil
}
