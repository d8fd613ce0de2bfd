package kube

import (
	"testing"
	"time"

	analysisv1alpha1 "istio.io/api/analysis/v1alpha1"
	metav1alpha1 "istio.io/api/meta/v1alpha1"

	"github.com/plainenvoy/controlplane/pkg/model"
)

func TestDesiredStatus(t *testing.T) {
	t0, t1 := time.Unix(100, 0), time.Unix(200, 0)
	bad := []model.Problem{
		{Severity: model.SeverityError, Field: "spec.rules", Reason: "must not be empty"},
		{Severity: model.SeverityWarning, Field: "spec.selector", Reason: "matches nothing"},
	}
	other := &metav1alpha1.IstioCondition{Type: "Reconciled", Status: "True"}
	view := func(conds []*metav1alpha1.IstioCondition, msgs []*analysisv1alpha1.AnalysisMessageBase) statusView {
		return statusView{&conds, &msgs}
	}

	// New problems: a Valid=False condition and one message per problem; others kept.
	conds, msgs, changed := desiredStatus(view([]*metav1alpha1.IstioCondition{other}, nil), bad, 3, t0)
	if !changed || len(conds) != 2 || conds[0] != other || len(msgs) != 2 {
		t.Fatalf("first write: changed=%v conds=%v msgs=%v", changed, conds, msgs)
	}
	c := conds[1]
	want := "spec.rules: must not be empty; spec.selector: warning: matches nothing"
	if c.GetType() != "Valid" || c.GetStatus() != "False" || c.GetMessage() != want || c.GetObservedGeneration() != 3 ||
		!c.GetLastTransitionTime().AsTime().Equal(t0) {
		t.Errorf("condition = %v", c)
	}
	if msgs[0].GetLevel() != analysisv1alpha1.AnalysisMessageBase_ERROR || msgs[1].GetLevel() != analysisv1alpha1.AnalysisMessageBase_WARNING ||
		msgs[0].GetType().GetCode() != "IST0106" {
		t.Errorf("messages = %v", msgs)
	}

	// Same problems later: nothing to write.
	if _, _, changed := desiredStatus(view(conds, msgs), bad, 3, t1); changed {
		t.Error("unchanged problems give a write")
	}
	// A new generation with the same problems: written, transition time kept.
	conds2, _, changed := desiredStatus(view(conds, msgs), bad, 4, t1)
	if !changed || conds2[1].GetObservedGeneration() != 4 || !conds2[1].GetLastTransitionTime().AsTime().Equal(t0) {
		t.Errorf("new generation: changed=%v condition=%v", changed, conds2[1])
	}
	// Warnings only: Valid=True with a new transition time.
	conds3, _, changed := desiredStatus(view(conds, msgs), bad[1:], 4, t1)
	if !changed || conds3[1].GetStatus() != "True" || !conds3[1].GetLastTransitionTime().AsTime().Equal(t1) {
		t.Errorf("warnings only: changed=%v condition=%v", changed, conds3[1])
	}
	// Fixed: ours removed, the other condition kept.
	conds4, msgs4, changed := desiredStatus(view(conds, msgs), nil, 5, t1)
	if !changed || len(conds4) != 1 || conds4[0] != other || msgs4 != nil {
		t.Errorf("fixed: changed=%v conds=%v msgs=%v", changed, conds4, msgs4)
	}
	// Never had problems: nothing to write.
	if _, _, changed := desiredStatus(view([]*metav1alpha1.IstioCondition{other}, nil), nil, 1, t1); changed {
		t.Error("an object without problems gives a write")
	}
}
