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
//   - Secrets: every Secret of type kubernetes.io/tls, selected by the field selector
//     type=kubernetes.io/tls, plus each Secret of another type (Opaque, as made by
//     `kubectl create secret generic`) that a credentialName references: Gateway servers'
//     credentialName, credentialNames and caCertCredentialName (with the "<name>-cacert"
//     companion for MUTUAL and OPTIONAL_MUTUAL), and DestinationRule tls.credentialName at the
//     top level, per port and per subset (with "-cacert" unless insecureSkipVerify). Each such
//     Secret has its own watch (field selector metadata.name=<name>,type!=kubernetes.io/tls in
//     its namespace), started when the first reference appears and stopped when the last goes,
//     so no unreferenced non-TLS Secret is ever listed or cached (secretrefs.go,
//     secretwatch.go). A bare name is read from the proxy's namespace, which the objects do not
//     name, so it is watched in the Gateway's namespace and in that of every Pod the Gateway's
//     selector matches; for a DestinationRule in its own namespace, and without a
//     workloadSelector also in those gateway namespaces; "kubernetes://ns/name" names its
//     namespace. With Options.SecretNamespaces set, Secrets are watched in those namespaces
//     only (so RBAC list/watch on Secrets can be limited to them).
//   - Namespaces are not watched: nothing in the model depends on namespace objects, and not
//     watching them keeps the RBAC rules smaller.
//   - Readiness: nothing is published before every informer has synced. While the API server
//     is unreachable the last store stays; informers re-list and catch up when it is back.
package kube
