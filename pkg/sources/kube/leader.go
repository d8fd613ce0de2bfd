package kube

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// elect runs leader election on the Lease LeaseNamespace/LeaseName until ctx is done, and
// turns the status writer on while this replica holds it. Losing the lease (an API server
// outage longer than the renew deadline) turns writing off and competes again.
//
// The callbacks only flip a flag: leaderelection runs OnStartedLeading on a goroutine it does
// not wait for, so no work is started there.
func (s *Source) elect(ctx context.Context, sw *statusWriter) {
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: s.opts.LeaseNamespace, Name: s.opts.LeaseName},
		Client:     s.kube.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: s.opts.Identity},
	}
	d := s.opts.LeaseDuration
	cfg := leaderelection.LeaderElectionConfig{
		Lock: lock, Name: s.opts.LeaseName,
		LeaseDuration: d, RenewDeadline: d * 2 / 3, RetryPeriod: d / 5,
		// Safe: status writes are idempotent and stop with ctx, before Run returns.
		ReleaseOnCancel: true,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(leadCtx context.Context) { s.setLeader(leadCtx, sw, true) },
			OnStoppedLeading: func() { s.setLeader(ctx, sw, false) },
		},
	}
	le, err := leaderelection.NewLeaderElector(cfg)
	if err != nil {
		s.log.Error("leader election disabled; status is not written", "err", err)
		return
	}
	for ctx.Err() == nil {
		le.Run(ctx) // returns when the lease is lost or ctx is done
	}
}

// setLeader records a leadership change. OnStartedLeading may run late, after the lease is
// already lost: its ctx is then done and it changes nothing.
func (s *Source) setLeader(ctx context.Context, sw *statusWriter, leading bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if leading && ctx.Err() != nil {
		return
	}
	changed := s.leader != leading
	s.leader = leading
	sw.setLeading(leading)
	if !changed {
		return
	}
	if leading {
		s.metrics.leader.Set(1)
		s.log.Info("became status-writer leader", "lease", s.opts.LeaseNamespace+"/"+s.opts.LeaseName, "identity", s.opts.Identity)
		return
	}
	s.metrics.leader.Set(0)
	s.log.Info("stopped leading status writes", "lease", s.opts.LeaseNamespace+"/"+s.opts.LeaseName)
}
