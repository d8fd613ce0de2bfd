package translate

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// mustAny packs a message with deterministic marshalling: map fields (RBAC policies, JWT
// providers) would otherwise be encoded in random order, and equal configurations would get
// different content-hash versions, so restarts and replicas would push for nothing.
// Packing a generated message cannot fail; a failure is a bug.
func mustAny(m proto.Message) *anypb.Any {
	a := &anypb.Any{}
	if err := anypb.MarshalFrom(a, m, proto.MarshalOptions{Deterministic: true}); err != nil {
		panic("translate: packing " + string(proto.MessageName(m)) + ": " + err.Error())
	}
	return a
}
