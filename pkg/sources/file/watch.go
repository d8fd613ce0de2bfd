package file

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// Run loads the directory, publishes it, then watches it and publishes a new store after
// every change, until ctx is done. Changes are debounced: a burst of events gives one reload,
// delayed by at most ten debounce periods while events keep coming. Only changed files are
// read again. publish is called from Run's goroutine, never concurrently.
//
// Problems passed to publish are those of the whole directory, except that a document of a
// kind we do not read is reported once per (file, kind), not on every reload.
func (s *Source) Run(ctx context.Context, publish func(*model.Store, []model.Problem)) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch config directory: %w", err)
	}
	defer w.Close()
	r := &runner{Source: s, w: w, st: newState(s.opts.Mesh), publish: publish, reported: map[[2]string]bool{}}
	changed, err := r.syncAndWatch(nil)
	if err != nil {
		return err
	}
	r.emit(changed)
	s.log.Info("watching config directory", "dir", s.opts.Dir)

	timer := time.NewTimer(time.Hour)
	timer.Stop()        // armed by the first event
	var first time.Time // of the oldest event not yet handled; zero when none
	pending := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			pending[ev.Name] = true
			first = r.schedule(timer, first)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			// An overflow loses events; the reload compares every file, so it catches up.
			s.log.Warn("config directory watch error", "err", err)
			first = r.schedule(timer, first)
		case <-timer.C:
			if !r.reload(pending) {
				// A deleted directory sends no more events (its watch is gone): poll until
				// it is back.
				timer.Reset(10 * s.opts.Debounce)
			}
			pending, first = map[string]bool{}, time.Time{}
		}
	}
}

type runner struct {
	*Source
	w        *fsnotify.Watcher
	st       *state
	publish  func(*model.Store, []model.Problem)
	reported map[[2]string]bool // (file, kind) of skipped documents already reported
	// unpublished lists files read since the last publish; a failed reload can leave some.
	unpublished []string
}

// schedule (re)arms the debounce timer and returns the time of the first pending event.
func (r *runner) schedule(timer *time.Timer, first time.Time) time.Time {
	now := time.Now()
	if first.IsZero() {
		first = now
	}
	delay := min(r.opts.Debounce, first.Add(10*r.opts.Debounce).Sub(now))
	timer.Reset(max(delay, 0))
	return first
}

// reload brings the state up to date and publishes it if anything changed; false means the
// directory could not be read and the last configuration stays.
func (r *runner) reload(force map[string]bool) bool {
	changed, err := r.syncAndWatch(force)
	r.unpublished = append(r.unpublished, changed...)
	if err != nil {
		r.metrics.reloads.WithLabelValues(reloadError).Inc()
		r.log.Error("cannot read config directory; keeping the last configuration", "dir", r.opts.Dir, "err", err)
		return false
	}
	if len(r.unpublished) > 0 {
		r.emit(r.unpublished)
		r.unpublished = nil
	}
	return true
}

// syncAndWatch syncs the state and watches every directory. A directory watched for the
// first time may have gained files before its watch existed, so it syncs again until no
// new directory appears.
func (r *runner) syncAndWatch(force map[string]bool) ([]string, error) {
	l, changed, err := r.sync(r.st, force)
	for err == nil && r.watch(l.dirs) {
		var more []string
		l, more, err = r.sync(r.st, nil)
		changed = append(changed, more...)
	}
	return changed, err
}

// watch adds a watch on every directory walked (inotify is not recursive) and drops those
// on directories that are gone; it reports whether it added any. The watcher's own list is
// the truth: it drops the watch of a deleted directory by itself.
func (r *runner) watch(dirs []string) bool {
	added := false
	have := map[string]bool{}
	for _, d := range r.w.WatchList() {
		have[d] = true
	}
	want := make(map[string]bool, len(dirs))
	for _, d := range dirs {
		want[d] = true
		if have[d] {
			continue
		}
		if err := r.w.Add(d); err != nil {
			r.log.Warn("cannot watch config subdirectory", "dir", d, "err", err)
			continue
		}
		added = true
	}
	for d := range have {
		if !want[d] {
			_ = r.w.Remove(d) // fails when the directory is already gone, which is fine
		}
	}
	return added
}

// emit builds the store, reports problems of the files just read, and publishes.
func (r *runner) emit(changed []string) {
	store, problems, skipped := r.st.build()
	all := model.SortProblems(append(slices.Clone(problems), skipped...))
	for k := range r.reported {
		if r.st.files[k[0]] == nil {
			delete(r.reported, k) // report again if the file comes back
		}
	}
	read := make(map[string]bool, len(changed))
	for _, f := range changed {
		read[f] = true
	}
	for _, p := range problems {
		if read[p.Origin.File] {
			r.logProblem(p)
		}
	}
	for _, p := range skipped {
		k := [2]string{p.Origin.File, string(p.Kind)}
		if !r.reported[k] {
			r.reported[k] = true
			problems = append(problems, p)
			r.logProblem(p)
		}
	}
	r.metrics.record(store, all)
	r.log.Info("config loaded", "files", len(r.st.files), "changed", len(changed),
		"objects", len(store.Objects()), "problems", len(all))
	r.publish(store, model.SortProblems(problems))
}

func (r *runner) logProblem(p model.Problem) {
	r.log.Warn("bad config", "origin", p.Origin.String(), "kind", p.Kind, "namespace", p.Namespace,
		"name", p.Name, "field", p.Field, "severity", p.Severity.String(), "err", p.Reason)
}
