package kube

import (
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	analysisv1alpha1 "istio.io/api/analysis/v1alpha1"
	metav1alpha1 "istio.io/api/meta/v1alpha1"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// What the status writer puts in an Istio object's status (istio.io/api meta/v1alpha1
// IstioStatus). It owns exactly two things there and leaves every other condition alone:
//
//   - validationMessages: one entry per problem, as istiod's analysis writes them, i.e. an
//     analysis AnalysisMessageBase with type IST0106 SchemaValidationError and level ERROR or
//     WARNING. That message type has no text field, so the text goes into the condition.
//   - the condition of type "Valid": status "False" (reason ValidationFailed) when there is an
//     error, "True" (reason ValidationWarnings) with warnings only; its message lists every
//     problem as "<field>: <reason>" joined by "; ", and observedGeneration is the object's
//     generation that was validated.
//
// An object without problems gets neither: a fixed object has both removed.
const (
	conditionValid         = "Valid"
	reasonInvalid          = "ValidationFailed"
	reasonWarnings         = "ValidationWarnings"
	validationCode         = "IST0106"
	validationName         = "SchemaValidationError"
	validationDocURL       = "https://istio.io/latest/docs/reference/config/analysis/ist0106/"
	maxConditionMessageLen = 4096 // keep the status far below etcd's object size limit
)

// statusView points at the two status fields the writer owns, inside one object.
type statusView struct {
	conditions *[]*metav1alpha1.IstioCondition
	messages   *[]*analysisv1alpha1.AnalysisMessageBase
}

// desiredStatus computes the owned fields for problems at generation, given the current ones.
// It returns changed=false when the current status already says the same (timestamps aside),
// so an unchanged object is never written.
func desiredStatus(cur statusView, problems []model.Problem, generation int64, now time.Time) (conds []*metav1alpha1.IstioCondition, msgs []*analysisv1alpha1.AnalysisMessageBase, changed bool) {
	var old *metav1alpha1.IstioCondition
	for _, c := range *cur.conditions {
		if c.GetType() == conditionValid {
			old = c
			continue
		}
		conds = append(conds, c)
	}
	if len(problems) == 0 {
		return conds, nil, old != nil || len(*cur.messages) > 0
	}
	c := validCondition(problems, generation)
	c.LastTransitionTime = timestamppb.New(now)
	if old != nil && old.GetStatus() == c.GetStatus() && old.GetLastTransitionTime() != nil {
		c.LastTransitionTime = old.GetLastTransitionTime()
	}
	for _, p := range problems {
		level := analysisv1alpha1.AnalysisMessageBase_ERROR
		if p.Severity == model.SeverityWarning {
			level = analysisv1alpha1.AnalysisMessageBase_WARNING
		}
		msgs = append(msgs, &analysisv1alpha1.AnalysisMessageBase{
			Type:  &analysisv1alpha1.AnalysisMessageBase_Type{Name: validationName, Code: validationCode},
			Level: level, DocumentationUrl: validationDocURL,
		})
	}
	changed = old == nil || !sameCondition(old, c) || !slices.EqualFunc(*cur.messages, msgs,
		func(a, b *analysisv1alpha1.AnalysisMessageBase) bool { return proto.Equal(a, b) })
	return append(conds, c), msgs, changed
}

func validCondition(problems []model.Problem, generation int64) *metav1alpha1.IstioCondition {
	c := &metav1alpha1.IstioCondition{Type: conditionValid, Status: "True", Reason: reasonWarnings, ObservedGeneration: generation}
	if model.HasErrors(problems) {
		c.Status, c.Reason = "False", reasonInvalid
	}
	parts := make([]string, 0, len(problems))
	for _, p := range problems {
		s := p.Reason
		if p.Severity == model.SeverityWarning {
			s = "warning: " + s
		}
		if p.Field != "" {
			s = p.Field + ": " + s
		}
		parts = append(parts, s)
	}
	c.Message = strings.Join(parts, "; ")
	if len(c.Message) > maxConditionMessageLen {
		c.Message = strings.ToValidUTF8(c.Message[:maxConditionMessageLen-3], "") + "..."
	}
	return c
}

// sameCondition compares two conditions without their timestamps.
func sameCondition(a, b *metav1alpha1.IstioCondition) bool {
	return a.GetType() == b.GetType() && a.GetStatus() == b.GetStatus() && a.GetReason() == b.GetReason() &&
		a.GetMessage() == b.GetMessage() && a.GetObservedGeneration() == b.GetObservedGeneration()
}
