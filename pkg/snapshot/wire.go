package snapshot

import (
	"sync"
	"unsafe"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/anypb"
)

// A SotW push sends every proxy of a group the same DiscoveryResponse but for its nonce.
// grpc-go's codec marshals it again for each stream: it allocates a buffer the size of the
// group's resources and copies every resource into it, and the copy is then copied once more
// into the connection's write buffer. That marshal was the largest single cost of a push that
// the server controls (9% of its CPU, plus the garbage collection it caused). Instead, the
// response's wire form is laid out once per snapshot as a list of buffers that point at the
// resources' interned bytes (only the few bytes of framing between them are new), and each
// send appends its nonce. Nothing is copied but into the write buffer, and no memory is held
// per group beyond that framing.

// wireResponse is a DiscoveryResponse ready to send: the snapshot's shared buffers and this
// stream's nonce. Only wireCodec can marshal it.
type wireResponse struct {
	body  mem.BufferSlice // shared and read-only
	nonce string
}

// wireCodec is grpc-go's proto codec, taught to send a wireResponse without marshalling it.
type wireCodec struct{ encoding.CodecV2 }

func newWireCodec() wireCodec { return wireCodec{encoding.GetCodecV2(proto.Name)} }

func (c wireCodec) Marshal(v any) (mem.BufferSlice, error) {
	w, ok := v.(*wireResponse)
	if !ok {
		return c.CodecV2.Marshal(v)
	}
	out := make(mem.BufferSlice, len(w.body), len(w.body)+1)
	copy(out, w.body)
	if w.nonce != "" {
		b := protowire.AppendTag(nil, nonceField, protowire.BytesType)
		out = append(out, mem.SliceBuffer(protowire.AppendString(b, w.nonce)))
	}
	return out, nil
}

// copyBelow: a resource smaller than this is copied into the framing rather than referenced.
// A reference costs each send a 16-byte slice entry, and a tiny resource is about that size.
const copyBelow = 128

// Field numbers of envoy.service.discovery.v3.DiscoveryResponse and google.protobuf.Any.
const (
	versionInfoField protowire.Number = 1
	resourcesField   protowire.Number = 2
	typeURLField     protowire.Number = 4
	nonceField       protowire.Number = 5
	anyTypeURLField  protowire.Number = 1
	anyValueField    protowire.Number = 2
)

// layWire sets ts.wire: the encoding of DiscoveryResponse{version_info, resources, type_url},
// fields in number order as proto's deterministic marshal writes them, so that appending the
// nonce (field 5) gives exactly the bytes proto.Marshal would.
func (ts *typeSnap) layWire(typeURL string) {
	ts.typeURL = typeURL
	var framing []byte
	if ts.version != "" {
		framing = protowire.AppendTag(framing, versionInfoField, protowire.BytesType)
		framing = protowire.AppendString(framing, ts.version)
	}
	var wire mem.BufferSlice
	for _, a := range ts.anys {
		var inner int // the Any's encoded length
		if a.TypeUrl != "" {
			inner += protowire.SizeTag(anyTypeURLField) + protowire.SizeBytes(len(a.TypeUrl))
		}
		if len(a.Value) > 0 {
			inner += protowire.SizeTag(anyValueField) + protowire.SizeBytes(len(a.Value))
		}
		framing = protowire.AppendTag(framing, resourcesField, protowire.BytesType)
		framing = protowire.AppendVarint(framing, uint64(inner))
		if a.TypeUrl != "" {
			framing = protowire.AppendTag(framing, anyTypeURLField, protowire.BytesType)
			framing = protowire.AppendString(framing, a.TypeUrl)
		}
		if len(a.Value) == 0 {
			continue
		}
		framing = protowire.AppendTag(framing, anyValueField, protowire.BytesType)
		framing = protowire.AppendVarint(framing, uint64(len(a.Value)))
		if len(a.Value) < copyBelow {
			framing = append(framing, a.Value...)
			continue
		}
		wire = append(wire, mem.SliceBuffer(framing), mem.SliceBuffer(a.Value))
		framing = nil
	}
	if typeURL != "" {
		framing = protowire.AppendTag(framing, typeURLField, protowire.BytesType)
		framing = protowire.AppendString(framing, typeURL)
	}
	if len(framing) > 0 {
		wire = append(wire, mem.SliceBuffer(framing))
	}
	ts.wire = wire
}

// wireRegistry finds the typeSnap a response was made from, by the identity of its resource
// list: respond hands every stream the typeSnap's own anys slice, which nothing else shares
// (typeSnaps are never shared between groups). Snapshots are registered while they are a
// group's current one; a response from a snapshot replaced before it was sent is marshalled
// as usual.
type wireRegistry struct {
	mu    sync.RWMutex
	snaps map[**anypb.Any]*typeSnap
}

func (r *wireRegistry) replace(old, cur prepared) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.snaps == nil {
		r.snaps = map[**anypb.Any]*typeSnap{}
	}
	for _, ts := range old {
		if len(ts.anys) > 0 && r.snaps[unsafe.SliceData(ts.anys)] == ts {
			delete(r.snaps, unsafe.SliceData(ts.anys))
		}
	}
	for _, ts := range cur {
		if len(ts.anys) > 0 && ts.wire != nil {
			r.snaps[unsafe.SliceData(ts.anys)] = ts
		}
	}
}

// wire returns resp's prepared form, or nil when resp is not exactly a registered snapshot's
// full response (then it is marshalled as usual).
func (r *wireRegistry) wire(resp *discoveryv3.DiscoveryResponse) *wireResponse {
	if len(resp.Resources) == 0 {
		return nil
	}
	r.mu.RLock()
	ts := r.snaps[unsafe.SliceData(resp.Resources)]
	r.mu.RUnlock()
	if ts == nil || len(resp.Resources) != len(ts.anys) || resp.VersionInfo != ts.version ||
		resp.TypeUrl != ts.typeURL || resp.Canary || resp.ControlPlane != nil || len(resp.ProtoReflect().GetUnknown()) > 0 {
		return nil
	}
	return &wireResponse{body: ts.wire, nonce: resp.Nonce}
}

// wireStream sends the SotW responses it can as wireResponses.
type wireStream struct {
	discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesServer
	reg *wireRegistry
}

func (s wireStream) Send(resp *discoveryv3.DiscoveryResponse) error {
	if w := s.reg.wire(resp); w != nil {
		return s.SendMsg(w)
	}
	return s.AggregatedDiscoveryService_StreamAggregatedResourcesServer.Send(resp)
}

// adsService is go-control-plane's ADS server with SotW streams wrapped in wireStream.
type adsService struct {
	discoveryv3.AggregatedDiscoveryServiceServer
	reg *wireRegistry
}

func (a adsService) StreamAggregatedResources(st discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesServer) error {
	return a.AggregatedDiscoveryServiceServer.StreamAggregatedResources(wireStream{st, a.reg})
}
