// Package translate turns the model and one proxy's identity into Envoy resources.
//
// Pipeline place: model (+ key sets from jwks, as data) → translate → snapshot. Everything here
// is a pure function: no I/O, no clock, no environment, no package state. Equal inputs give
// byte-identical output (every map-derived list is sorted), so the snapshot version can be a
// hash of the content. Allowed imports: pkg/model, go-control-plane's envoy protos, protobuf,
// the standard library (enforced by TestImports).
package translate
