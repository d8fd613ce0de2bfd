package model

import (
	"cmp"
	"fmt"
	"slices"
)

// Severity of a problem: an error means the object (or the part named by Field) is not used
// as written; a warning means it is used, but probably not as its author meant.
type Severity int

const (
	SeverityError Severity = iota
	SeverityWarning
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// Problem is one finding in bad input. It names the origin, the object, the field and the
// reason, so a person can find and fix the YAML.
type Problem struct {
	Severity  Severity
	Origin    Origin
	Kind      Kind
	Namespace string
	Name      string
	Field     string // "spec.jwtRules[1].jwksUri"; empty when the whole object or file is meant
	Reason    string // lower case, no trailing period, says what was expected
}

// String renders "file:line: Kind ns/name: field: reason" (with "warning: " before the reason
// for warnings), leaving out the parts that are empty.
func (p Problem) String() string {
	s := p.Origin.String()
	if s == "" {
		s = "<unknown>"
	}
	s += ": "
	if p.Kind != "" {
		s += string(p.Kind)
		if p.Name != "" {
			s += " " + p.Namespace + "/" + p.Name
		}
		s += ": "
	}
	if p.Field != "" {
		s += p.Field + ": "
	}
	if p.Severity == SeverityWarning {
		s += "warning: "
	}
	return s + p.Reason
}

// Error lets a Problem be returned where an error is expected.
func (p Problem) Error() string { return p.String() }

// ProblemFor starts a problem about an object; fill in Field and Reason.
func ProblemFor(m *Meta, sev Severity, field, format string, args ...any) Problem {
	return Problem{
		Severity: sev, Origin: m.Origin, Kind: m.Kind, Namespace: m.Namespace, Name: m.Name,
		Field: field, Reason: fmt.Sprintf(format, args...),
	}
}

// SortProblems orders problems by origin, object, field and reason, and drops exact repeats,
// so output is stable whatever order the checks ran in.
func SortProblems(ps []Problem) []Problem {
	slices.SortFunc(ps, func(a, b Problem) int {
		return cmp.Or(
			cmp.Compare(a.Origin.File, b.Origin.File),
			cmp.Compare(a.Origin.Line, b.Origin.Line),
			cmp.Compare(a.Origin.Resource, b.Origin.Resource),
			cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Namespace, b.Namespace),
			cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.Field, b.Field),
			cmp.Compare(a.Reason, b.Reason),
			cmp.Compare(a.Severity, b.Severity),
		)
	})
	return slices.Compact(ps)
}

// HasErrors reports whether any problem is an error.
func HasErrors(ps []Problem) bool {
	return slices.ContainsFunc(ps, func(p Problem) bool { return p.Severity == SeverityError })
}
