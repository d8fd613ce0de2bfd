// Package file is the file source: it reads Istio configuration (and Kubernetes Secrets)
// from a directory of YAML files into model values, watches it, and publishes a new
// model.Store after each change.
//
// Pipeline place: sources → model. It imports model, istio.io/api, protobuf, yaml.v3,
// fsnotify and client_golang, never translate or snapshot.
//
// Rules users see (also in the `validate` command's output):
//   - Files: *.yaml, *.yml and *.json anywhere under the directory, following symlinks;
//     hidden files and editor backups (name~) are skipped.
//   - Order: objects are ordered by file path (relative, compared as strings) and then by
//     position in the file. That order is model.Meta.Order, the tie-break where Istio picks
//     the oldest object by creationTimestamp (SEMANTICS.md §1.1), and it decides which of two
//     objects with the same kind, namespace and name is used: the first; the others are errors.
//   - A file that cannot be decoded (broken YAML, or a document of a kind we read that has
//     an unknown field, a wrong type or a removed API version) keeps its last good content
//     and is reported. Without earlier good content its usable documents are taken.
//   - Objects that decode but fail validation are used anyway and reported: the translators
//     fail closed on what they cannot use (SEMANTICS.md §4.9).
//   - Documents of other kinds are reported once per (file, kind) and skipped.
package file
