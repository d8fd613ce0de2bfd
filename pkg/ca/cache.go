package ca

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"time"
)

// maxWait bounds Run's sleep so that a wall-clock jump (suspend, NTP step) delays a rotation
// by at most this much.
const maxWait = 5 * time.Minute

// retryWait spaces retries of a failed re-issue (an expired signing certificate fails every
// time until an operator replaces it).
const retryWait = 30 * time.Second

// Certificate returns the cached workload certificate of id, issuing one when there is none
// or the cached one is past its RefreshAt. All proxies of one identity therefore share a key
// pair until rotation. A re-issue here is reported by Run like one of its own, so the other
// proxies of id are pushed too.
func (c *CA) Certificate(id Identity) (*Certificate, error) {
	id, err := c.normalize(id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.certs[id]
	if ok && c.opts.Now().Before(old.RefreshAt) {
		return old, nil
	}
	// Issuing under the lock keeps one certificate per identity when many proxies of it
	// connect at once; issuance takes well under a millisecond.
	cert, err := c.Issue(id)
	if err != nil {
		return nil, err
	}
	c.certs[id] = cert
	if ok {
		c.rotated[id] = struct{}{}
	}
	c.signal()
	return cert, nil
}

// Forget drops id from the cache; the serving layer calls it when the last proxy of id
// disconnects, so Run stops rotating certificates nobody uses.
func (c *CA) Forget(id Identity) {
	id, err := c.normalize(id)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.certs, id)
	delete(c.rotated, id)
}

// NextRotation is the earliest RefreshAt among cached certificates; zero when none is cached.
func (c *CA) NextRotation() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var next time.Time
	for _, cert := range c.certs {
		if next.IsZero() || cert.RefreshAt.Before(next) {
			next = cert.RefreshAt
		}
	}
	return next
}

// Run re-issues each cached certificate when it reaches its RefreshAt and calls onRotate with
// the identities rotated (sorted), so the serving layer pushes new secrets to those proxies
// only. It returns nil once ctx is done. onRotate runs on Run's goroutine; an identity whose
// re-issue fails is logged and retried on the next wake, its current certificate kept.
func (c *CA) Run(ctx context.Context, onRotate func([]Identity)) error {
	c.log.InfoContext(ctx, "CA rotation loop started")
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		ids, failed := c.rotateDue(ctx)
		if len(ids) > 0 {
			c.log.InfoContext(ctx, "rotated workload certificates", "count", len(ids))
			onRotate(ids)
		}
		wait := maxWait
		if next := c.NextRotation(); !next.IsZero() {
			wait = min(max(next.Sub(c.opts.Now()), 0), maxWait)
		}
		if failed {
			wait = max(wait, retryWait)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			c.log.Info("CA rotation loop stopped")
			return nil
		case <-timer.C:
		case <-c.wake:
		}
	}
}

// rotateDue re-issues every certificate past its RefreshAt and returns them together with
// those Certificate re-issued since the last call; failed tells whether any re-issue failed.
func (c *CA) rotateDue(ctx context.Context) (ids []Identity, failed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.opts.Now()
	for id, old := range c.certs {
		if now.Before(old.RefreshAt) {
			continue
		}
		cert, err := c.Issue(id)
		if err != nil {
			c.log.ErrorContext(ctx, "cannot rotate workload certificate", "namespace", id.Namespace, "name", id.ServiceAccount, "err", err)
			failed = true
			continue
		}
		c.certs[id] = cert
		c.rotated[id] = struct{}{}
	}
	ids = slices.SortedFunc(maps.Keys(c.rotated), compareIdentity)
	clear(c.rotated)
	return ids, failed
}

// signal wakes Run without blocking; c.mu is held.
func (c *CA) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func compareIdentity(a, b Identity) int {
	return cmp.Or(cmp.Compare(a.TrustDomain, b.TrustDomain), cmp.Compare(a.Namespace, b.Namespace),
		cmp.Compare(a.ServiceAccount, b.ServiceAccount))
}
