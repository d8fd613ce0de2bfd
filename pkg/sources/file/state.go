package file

import (
	"maps"
	"os"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// fileState is what the source currently takes from one file.
type fileState struct {
	info     os.FileInfo     // of the content last read, to see whether it changed
	objs     []model.Object  // objects in use: the last good read, or the usable part of a bad one
	valid    []model.Problem // model.Validate's findings on objs
	problems []model.Problem // decode problems of the last read
	skipped  []model.Problem // documents of kinds we do not read, in the last read
	good     bool            // objs come from a read without decode failures
}

// state is the content of the whole directory, keyed by path relative to it.
type state struct {
	mesh  model.Mesh
	files map[string]*fileState
}

func newState(mesh model.Mesh) *state {
	return &state{mesh: mesh.WithDefaults(), files: map[string]*fileState{}}
}

// update records a new read of rel. A file that fails to decode keeps the objects of its
// last good read, so a half-saved edit never removes policies that were in force; without
// one (first load, new file) its usable documents are taken.
func (s *state) update(rel string, info os.FileInfo, r fileResult) {
	prev := s.files[rel]
	st := &fileState{info: info, problems: r.problems, skipped: r.skipped}
	switch {
	case !r.failed:
		st.objs, st.good = r.objs, true
	case prev != nil && prev.good:
		st.objs, st.valid, st.good = prev.objs, prev.valid, true
		r.nodes = nil
		st.problems = append(st.problems, model.Problem{
			Severity: model.SeverityWarning, Origin: model.Origin{File: rel},
			Reason: "keeping the last good content of this file until it is fixed",
		})
	default:
		st.objs = r.objs
	}
	if st.valid == nil {
		st.valid = validate(st.objs, r.nodes, s.mesh)
	}
	s.files[rel] = st
}

type objectKey struct {
	kind            model.Kind
	namespace, name string
}

// build makes a store of every file's objects, ordered by (file path, document index) with
// that position in Meta.Order (the tie-break where Istio uses creationTimestamp). Of objects
// sharing kind, namespace and name the first in that order is kept.
func (s *state) build() (*model.Store, []model.Problem, []model.Problem) {
	var objs []model.Object
	var problems, skipped []model.Problem
	first := map[objectKey]*model.Meta{}
	for _, rel := range slices.Sorted(maps.Keys(s.files)) {
		st := s.files[rel]
		problems = append(problems, st.problems...)
		problems = append(problems, st.valid...)
		skipped = append(skipped, st.skipped...)
		for i, o := range st.objs {
			m := o.ObjectMeta()
			k := objectKey{m.Kind, m.Namespace, m.Name}
			if f := first[k]; f != nil {
				problems = append(problems, model.ProblemFor(m, model.SeverityError, "metadata.name",
					"duplicate of the %s %s defined at %s; this one is ignored", m.Kind, m.Key(), f.Origin))
				continue
			}
			o = withOrder(o, len(objs))
			st.objs[i] = o // the next build finds the order set and copies nothing
			first[k] = o.ObjectMeta()
			objs = append(objs, o)
		}
	}
	return model.NewStore(s.mesh, objs), problems, skipped
}

// withOrder returns o with Meta.Order set, copying it when the order changed: an object may
// be in a store already handed out, which must not change under its readers.
func withOrder(o model.Object, order int) model.Object {
	if o.ObjectMeta().Order == order {
		return o
	}
	switch v := o.(type) {
	case *model.RequestAuthentication:
		return ordered(v, order)
	case *model.AuthorizationPolicy:
		return ordered(v, order)
	case *model.PeerAuthentication:
		return ordered(v, order)
	case *model.Gateway:
		return ordered(v, order)
	case *model.VirtualService:
		return ordered(v, order)
	case *model.DestinationRule:
		return ordered(v, order)
	case *model.ServiceEntry:
		return ordered(v, order)
	case *model.WorkloadEntry:
		return ordered(v, order)
	case *model.Secret:
		c := *v
		c.Order = order
		return &c
	}
	return o
}

func ordered[T proto.Message](c *model.Config[T], order int) model.Object {
	cp := *c
	cp.Order = order
	return &cp
}
