package kube_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/plainenvoy/controlplane/pkg/sources/kube"
)

const (
	cpNamespace      = "controlplane-system"
	cpServiceAccount = "system:serviceaccount:controlplane-system:controlplane"
	gatewayNamespace = "istio-system"
)

// TestExampleManifestsLeastPrivilege applies examples/kubernetes (RBAC for real, workloads as
// server-side dry runs, since nothing here schedules pods) and checks with
// SubjectAccessReviews that the control plane's ServiceAccount can do what it needs and no
// more; then it runs a Source as that ServiceAccount (impersonation) to show the rules suffice.
func TestExampleManifestsLeastPrivilege(t *testing.T) {
	kc, _ := clients(t)
	applyExamples(t, kc)

	allowed := []authorizationv1.ResourceAttributes{
		{Group: "security.istio.io", Resource: "authorizationpolicies", Verb: "list"},
		{Group: "security.istio.io", Resource: "requestauthentications", Verb: "watch"},
		{Group: "networking.istio.io", Resource: "gateways", Verb: "watch"},
		{Group: "networking.istio.io", Resource: "workloadentries", Verb: "list"},
		{Group: "security.istio.io", Resource: "authorizationpolicies", Subresource: "status", Verb: "update", Namespace: "foo"},
		{Group: "networking.istio.io", Resource: "serviceentries", Subresource: "status", Verb: "update", Namespace: "foo"},
		{Resource: "services", Verb: "watch"},
		{Resource: "pods", Verb: "list"},
		{Group: "discovery.k8s.io", Resource: "endpointslices", Verb: "watch"},
		{Resource: "secrets", Verb: "list", Namespace: gatewayNamespace},
		{Group: "coordination.k8s.io", Resource: "leases", Verb: "update", Namespace: cpNamespace},
		{Group: "coordination.k8s.io", Resource: "leases", Verb: "create", Namespace: cpNamespace},
		{Group: "authentication.k8s.io", Resource: "tokenreviews", Verb: "create"},
	}
	denied := []authorizationv1.ResourceAttributes{
		{Resource: "secrets", Verb: "list"},                       // every Secret's data, cluster-wide
		{Resource: "secrets", Verb: "list", Namespace: "default"}, // outside the gateway namespace
		{Resource: "secrets", Verb: "get", Namespace: "kube-system", Name: "any"},
		{Resource: "secrets", Verb: "get", Namespace: gatewayNamespace, Name: "any"}, // list+watch only
		{Resource: "configmaps", Verb: "list"},
		{Resource: "pods", Verb: "delete", Namespace: "foo"},
		{Group: "security.istio.io", Resource: "authorizationpolicies", Verb: "update", Namespace: "foo"}, // spec
		{Group: "security.istio.io", Resource: "authorizationpolicies", Verb: "create", Namespace: "foo"},
		{Group: "networking.istio.io", Resource: "envoyfilters", Verb: "list"},
		{Group: "coordination.k8s.io", Resource: "leases", Verb: "update", Namespace: "kube-system"},
		{Resource: "namespaces", Verb: "list"},
	}
	for _, ra := range allowed {
		if !canI(t, kc, ra) {
			t.Errorf("control plane cannot %s %s/%s (ns %q), which it needs", ra.Verb, ra.Resource, ra.Subresource, ra.Namespace)
		}
	}
	for _, ra := range denied {
		if canI(t, kc, ra) {
			t.Errorf("control plane may %s %s/%s (ns %q), which it does not need", ra.Verb, ra.Resource, ra.Subresource, ra.Namespace)
		}
	}

	// The rules suffice: a Source running as the ServiceAccount syncs every informer (startSource
	// waits for Ready) and wins the lease.
	cfg := rest.CopyConfig(restConfig)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: cpServiceAccount,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + cpNamespace, "system:authenticated"}}
	r := startSource(t, cfg, kube.Options{StatusWriter: true, LeaseNamespace: cpNamespace, Identity: "rbac-test",
		SecretNamespaces: []string{gatewayNamespace}, LeaseDuration: 3 * time.Second})
	for deadline := time.Now().Add(10 * time.Second); !r.src.Leader(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the source running as the ServiceAccount never acquired the lease")
		}
	}
}

func canI(t *testing.T, kc kubernetes.Interface, ra authorizationv1.ResourceAttributes) bool {
	t.Helper()
	return canUserI(t, kc, cpServiceAccount, ra)
}

// applyExamples creates every object of examples/kubernetes/kustomization.yaml's resources.
func applyExamples(t *testing.T, kc kubernetes.Interface) {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "examples", "kubernetes")
	var kust struct {
		Resources []string `json:"resources"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &kust); err != nil {
		t.Fatal(err)
	}
	for _, file := range kust.Resources {
		for _, obj := range decodeManifest(t, filepath.Join(dir, file)) {
			if err := create(kc, obj); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatalf("%s: creating %T: %v", file, obj, err)
			}
		}
	}
}

// decodeManifest decodes every document of a Kubernetes YAML file into typed objects.
func decodeManifest(t *testing.T, path string) []runtime.Object {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []runtime.Object
	rd := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, obj)
	}
}

func create(kc kubernetes.Interface, obj any) error {
	ctx := context.Background()
	c, dry := metav1.CreateOptions{}, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
	var err error
	switch o := obj.(type) {
	case *corev1.Namespace:
		_, err = kc.CoreV1().Namespaces().Create(ctx, o, c)
	case *corev1.ServiceAccount:
		_, err = kc.CoreV1().ServiceAccounts(o.Namespace).Create(ctx, o, c)
	case *rbacv1.ClusterRole:
		_, err = kc.RbacV1().ClusterRoles().Create(ctx, o, c)
	case *rbacv1.ClusterRoleBinding:
		_, err = kc.RbacV1().ClusterRoleBindings().Create(ctx, o, c)
	case *rbacv1.Role:
		_, err = kc.RbacV1().Roles(o.Namespace).Create(ctx, o, c)
	case *rbacv1.RoleBinding:
		_, err = kc.RbacV1().RoleBindings(o.Namespace).Create(ctx, o, c)
	case *appsv1.Deployment:
		_, err = kc.AppsV1().Deployments(o.Namespace).Create(ctx, o, dry)
	case *corev1.Service:
		_, err = kc.CoreV1().Services(o.Namespace).Create(ctx, o, dry)
	case *policyv1.PodDisruptionBudget:
		_, err = kc.PolicyV1().PodDisruptionBudgets(o.Namespace).Create(ctx, o, dry)
	default:
		return errors.New("unexpected kind in examples/kubernetes")
	}
	return err
}
