package file

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// Options configure a Source. Zero values are the documented defaults.
type Options struct {
	Dir  string     // directory read recursively; required
	Mesh model.Mesh // given to validation and the stores built
	// Debounce is how long the watcher waits after the last change before reloading, so an
	// editor's or kubectl's burst of writes gives one reload. Default 100ms.
	Debounce   time.Duration
	Log        *slog.Logger          // default: discard
	Registerer prometheus.Registerer // metrics are not registered when nil
}

// Source reads Istio configuration from a directory of YAML files.
type Source struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics
}

// New checks opts and registers the metrics.
func New(opts Options) (*Source, error) {
	if opts.Dir == "" {
		return nil, errors.New("file source: Dir is required")
	}
	if opts.Debounce <= 0 {
		opts.Debounce = 100 * time.Millisecond
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("file source metrics: %w", err)
	}
	return &Source{opts: opts, log: opts.Log.With("component", "file-source"), metrics: m}, nil
}

// Load reads the whole directory once and returns the store and every problem found,
// sorted. The error is only for a directory that cannot be read.
func (s *Source) Load() (*model.Store, []model.Problem, error) {
	st := newState(s.opts.Mesh)
	if _, _, err := s.sync(st, nil); err != nil {
		return nil, nil, err
	}
	store, problems, skipped := st.build()
	return store, model.SortProblems(append(problems, skipped...)), nil
}

// sync brings st up to date with the directory: it reads new files, files whose content
// changed and files named in force (paths from watch events), and forgets deleted ones.
// It returns the walk and the files read or dropped.
func (s *Source) sync(st *state, force map[string]bool) (listing, []string, error) {
	l, err := list(s.opts.Dir)
	if err != nil {
		return l, nil, err
	}
	var changed []string
	var toRead []entry
	present := make(map[string]bool, len(l.files))
	for _, e := range l.files {
		present[e.rel] = true
		if prev := st.files[e.rel]; prev != nil && !forced(e, force) && sameContent(prev.info, e.info) {
			continue
		}
		toRead = append(toRead, e)
	}
	for i, r := range readFiles(toRead) {
		st.update(toRead[i].rel, toRead[i].info, r)
		changed = append(changed, toRead[i].rel)
	}
	for rel := range st.files {
		if !present[rel] {
			delete(st.files, rel)
			changed = append(changed, rel)
		}
	}
	return l, changed, nil
}

// readFiles reads and decodes files on every CPU: YAML parsing is most of a load's cost,
// and files are independent.
func readFiles(files []entry) []fileResult {
	out := make([]fileResult, len(files))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(files)) {
		wg.Go(func() {
			for i := range next {
				out[i] = readFile(files[i])
			}
		})
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

func readFile(e entry) fileResult {
	data, err := os.ReadFile(e.path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fileResult{failed: true, problems: []model.Problem{{
			Origin: model.Origin{File: e.rel}, Reason: "cannot read file: " + err.Error(),
		}}}
	}
	return decodeFile(e.rel, data)
}

// sameContent guesses from metadata that a file is unchanged: the same file (a rename over
// it or a ConfigMap symlink swap gives another inode), size and modification time.
func sameContent(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

func forced(e entry, force map[string]bool) bool {
	if len(force) == 0 {
		return false
	}
	return force[e.path] || force[e.real]
}
