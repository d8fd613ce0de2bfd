// Package kube is the Kubernetes source: it watches Istio configuration and the Kubernetes
// objects that describe services (Services, EndpointSlices, Pods) and TLS Secrets through
// informers, and publishes a new model.Store after each burst of changes. The store has the
// same shape as the file source's, so translation needs nothing Kubernetes-specific.
//
// Pipeline place: sources → model. It imports model, istio.io/api, istio.io/client-go,
// k8s.io/client-go and client_golang, never translate or snapshot.
//
// What users see:
//   - Istio objects (security.istio.io/v1 RequestAuthentication, AuthorizationPolicy,
//     PeerAuthentication; networking.istio.io/v1 Gateway, VirtualService, DestinationRule,
//     ServiceEntry, WorkloadEntry) are used as they are in the API server. Each is checked
//     with model.Validate; an object with errors stays in the store (the translators fail
//     closed on it) and its problems are returned with the store and, by the leader, written
//     to its status (status.go).
//   - Every Service becomes a ServiceEntry "<name>.<ns>.svc.cluster.local" and every ready Pod
//     a WorkloadEntry (services.go, workloads.go). A Pod counts as ready only when an
//     EndpointSlice lists it as ready; a Pod no slice lists is left out.
//   - Secrets: only type kubernetes.io/tls, selected by the field selector type=kubernetes.io/tls
//     so no other Secret is ever listed or cached, and only in Options.SecretNamespaces when
//     set (so RBAC can be limited to those namespaces). An Opaque Secret with cert/key keys
//     named by a Gateway's credentialName is therefore not seen: use type kubernetes.io/tls.
//   - Namespaces are not watched: nothing in the model depends on namespace objects, and not
//     watching them keeps the RBAC rules smaller.
//   - Readiness: nothing is published before every informer has synced. While the API server
//     is unreachable the last store stays; informers re-list and catch up when it is back.
package kube
