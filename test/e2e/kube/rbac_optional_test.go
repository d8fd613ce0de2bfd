package kube_test

import (
	"context"
	"path/filepath"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// TestOptionalCARBAC applies examples/kubernetes/optional/rbac-ca.yaml bound to a separate
// ServiceAccount (so the default manifests' least-privilege test is not affected) and checks
// that it grants what --ca-secret and --publish-root-configmap need, by name where RBAC can.
func TestOptionalCARBAC(t *testing.T) {
	kc, _ := clients(t)
	applyExamples(t, kc) // the controlplane-system namespace
	const sa = "controlplane-ca-test"
	if _, err := kc.CoreV1().ServiceAccounts(cpNamespace).Create(context.Background(),
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	applyRBACFor(t, kc, "examples/kubernetes/optional/rbac-ca.yaml", sa)
	user := "system:serviceaccount:" + cpNamespace + ":" + sa
	allowed := []authorizationv1.ResourceAttributes{
		{Resource: "secrets", Verb: "create", Namespace: cpNamespace},
		{Resource: "secrets", Verb: "get", Namespace: cpNamespace, Name: "controlplane-ca"},
		{Resource: "namespaces", Verb: "watch"},
		{Resource: "configmaps", Verb: "create", Namespace: "foo"},
		{Resource: "configmaps", Verb: "update", Namespace: "foo", Name: "istio-ca-root-cert"},
	}
	denied := []authorizationv1.ResourceAttributes{
		{Resource: "secrets", Verb: "get", Namespace: cpNamespace, Name: "other"},
		{Resource: "secrets", Verb: "create", Namespace: "default"},
		{Resource: "configmaps", Verb: "get", Namespace: "kube-system", Name: "kubeadm-config"},
		{Resource: "configmaps", Verb: "list"},
	}
	for _, ra := range allowed {
		if !canUserI(t, kc, user, ra) {
			t.Errorf("cannot %s %s %q in %q", ra.Verb, ra.Resource, ra.Name, ra.Namespace)
		}
	}
	for _, ra := range denied {
		if canUserI(t, kc, user, ra) {
			t.Errorf("may %s %s %q in %q, which it does not need", ra.Verb, ra.Resource, ra.Name, ra.Namespace)
		}
	}
}

// applyRBACFor creates the RBAC objects of a manifest with every subject replaced by sa.
func applyRBACFor(t *testing.T, kc kubernetes.Interface, rel, sa string) {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, c := context.Background(), metav1.CreateOptions{}
	subjects := []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa, Namespace: cpNamespace}}
	for _, obj := range decodeManifest(t, filepath.Join(root, rel)) {
		var err error
		switch o := obj.(type) {
		case *rbacv1.Role:
			o.Name += "-" + sa
			_, err = kc.RbacV1().Roles(o.Namespace).Create(ctx, o, c)
		case *rbacv1.RoleBinding:
			o.Name, o.RoleRef.Name, o.Subjects = o.Name+"-"+sa, o.RoleRef.Name+"-"+sa, subjects
			_, err = kc.RbacV1().RoleBindings(o.Namespace).Create(ctx, o, c)
		case *rbacv1.ClusterRole:
			o.Name += "-" + sa
			_, err = kc.RbacV1().ClusterRoles().Create(ctx, o, c)
		case *rbacv1.ClusterRoleBinding:
			o.Name, o.RoleRef.Name, o.Subjects = o.Name+"-"+sa, o.RoleRef.Name+"-"+sa, subjects
			_, err = kc.RbacV1().ClusterRoleBindings().Create(ctx, o, c)
		default:
			t.Fatalf("%s: unexpected %T", rel, obj)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func canUserI(t *testing.T, kc kubernetes.Interface, user string, ra authorizationv1.ResourceAttributes) bool {
	t.Helper()
	out, err := kc.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{User: user, ResourceAttributes: &ra,
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + cpNamespace, "system:authenticated"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out.Status.Allowed
}
