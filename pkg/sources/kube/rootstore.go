package kube

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/plainenvoy/controlplane/pkg/ca"
)

var _ ca.RootStore = (*SecretRootStore)(nil)

// SecretRootStore keeps the built-in CA's root in a Kubernetes Secret (keys ca-cert.pem and
// ca-key.pem, as Istio's cacerts Secret names them), so every replica and every restart uses
// one root. Save relies on Create failing with AlreadyExists: of replicas starting together
// exactly one creates the Secret, the others load it. The Secret is never updated or deleted
// by the control plane; rotating the root is an operator's act.
type SecretRootStore struct {
	Client          kubernetes.Interface
	Namespace, Name string
}

// NewSecretRootStore builds the store for namespace/name from a REST config.
func NewSecretRootStore(cfg *rest.Config, namespace, name string) (*SecretRootStore, error) {
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &SecretRootStore{Client: c, Namespace: namespace, Name: name}, nil
}

const (
	rootCertKey = "ca-cert.pem"
	rootKeyKey  = "ca-key.pem"
)

// Load implements ca.RootStore.
func (s *SecretRootStore) Load(ctx context.Context) ([]byte, []byte, error) {
	sec, err := s.Client.CoreV1().Secrets(s.Namespace).Get(ctx, s.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil, fmt.Errorf("secret %s/%s: %w", s.Namespace, s.Name, ca.ErrNoRoot)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read CA root secret %s/%s: %w", s.Namespace, s.Name, err)
	}
	cert, key := sec.Data[rootCertKey], sec.Data[rootKeyKey]
	if len(cert) == 0 || len(key) == 0 {
		return nil, nil, fmt.Errorf("CA root secret %s/%s: want keys %s and %s", s.Namespace, s.Name, rootCertKey, rootKeyKey)
	}
	return cert, key, nil
}

// Save implements ca.RootStore: create-only.
func (s *SecretRootStore) Save(ctx context.Context, certPEM, keyPEM []byte) error {
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: s.Name, Namespace: s.Namespace,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "controlplane"}},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{rootCertKey: certPEM, rootKeyKey: keyPEM},
	}
	_, err := s.Client.CoreV1().Secrets(s.Namespace).Create(ctx, sec, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("secret %s/%s: %w", s.Namespace, s.Name, ca.ErrRootExists)
	}
	if err != nil {
		return fmt.Errorf("create CA root secret %s/%s: %w", s.Namespace, s.Name, err)
	}
	return nil
}
