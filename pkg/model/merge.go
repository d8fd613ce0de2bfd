package model

// MergeStores combines the stores of several sources (the file source and the Kubernetes
// source) into one, with mesh as its settings. An object whose kind, namespace and name is
// already in an earlier store is left out, so the order of stores is the precedence; the
// sources report their own problems, and the caller may call MergeConflicts to report these.
func MergeStores(mesh Mesh, stores ...*Store) *Store {
	objs, _ := merge(stores)
	return NewStore(mesh, objs)
}

// MergeConflicts returns one warning per object MergeStores leaves out, naming the object kept.
func MergeConflicts(stores ...*Store) []Problem {
	_, ps := merge(stores)
	return SortProblems(ps)
}

func merge(stores []*Store) ([]Object, []Problem) {
	type key struct {
		kind            Kind
		namespace, name string
	}
	seen := map[key]*Meta{}
	var objs []Object
	var ps []Problem
	for _, s := range stores {
		if s == nil {
			continue
		}
		for _, o := range s.Objects() {
			m := o.ObjectMeta()
			k := key{m.Kind, m.Namespace, m.Name}
			if first := seen[k]; first != nil {
				ps = append(ps, ProblemFor(m, SeverityWarning, "metadata.name",
					"%s %s is also defined at %s, which is used; this one is ignored", m.Kind, m.Key(), first.Origin))
				continue
			}
			seen[k] = m
			objs = append(objs, o)
		}
	}
	return objs, ps
}
