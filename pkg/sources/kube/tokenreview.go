package kube

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/grpc/metadata"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ErrNoToken means the stream carried no bearer token.
var ErrNoToken = errors.New("no service account token in the stream's authorization metadata")

// TokenProver proves a proxy's identity from the projected service-account token it sends as
// gRPC metadata "authorization: Bearer <token>" on its ADS stream (Istio's agent does the same
// towards istiod), verified with the TokenReview API. The token must be issued for one of
// Audiences, so a token meant for another service cannot be replayed here.
type TokenProver struct {
	Client    kubernetes.Interface
	Audiences []string
}

// Prove returns the namespace and service account the token belongs to.
func (p TokenProver) Prove(ctx context.Context) (namespace, serviceAccount string, err error) {
	md, _ := metadata.FromIncomingContext(ctx)
	var token string
	for _, v := range md.Get("authorization") {
		if t, ok := strings.CutPrefix(v, "Bearer "); ok && t != "" {
			token = t
		}
	}
	if token == "" {
		return "", "", ErrNoToken
	}
	review, err := p.Client.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: token, Audiences: p.Audiences},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", "", fmt.Errorf("token review: %w", err)
	}
	st := review.Status
	if !st.Authenticated {
		return "", "", fmt.Errorf("token not authenticated: %s", st.Error)
	}
	if len(p.Audiences) > 0 && !slices.ContainsFunc(st.Audiences, func(a string) bool { return slices.Contains(p.Audiences, a) }) {
		return "", "", fmt.Errorf("token audiences %v: want one of %v", st.Audiences, p.Audiences)
	}
	parts := strings.Split(st.User.Username, ":")
	if len(parts) != 4 || parts[0] != "system" || parts[1] != "serviceaccount" || parts[2] == "" || parts[3] == "" {
		return "", "", fmt.Errorf("token of %q is not a service account's", st.User.Username)
	}
	return parts[2], parts[3], nil
}
