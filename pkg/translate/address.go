package translate

import (
	"cmp"
	"maps"
	"slices"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func socketAddress(host string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address:       host,
		PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}

func compareAddress(a, b *corev3.Address) int {
	sa, sb := a.GetSocketAddress(), b.GetSocketAddress()
	return cmp.Or(cmp.Compare(sa.GetAddress(), sb.GetAddress()), cmp.Compare(sa.GetPortValue(), sb.GetPortValue()))
}

// adsConfigSource points a resource at the ADS stream the proxy already has.
func adsConfigSource() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ResourceApiVersion:    corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
	}
}

func slicesSortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func slicesSortedKeys32[V any](m map[uint32]V) []uint32 { return slices.Sorted(maps.Keys(m)) }

func zeroDuration() *durationpb.Duration { return durationpb.New(0) }

func uint32Value(v uint32) *wrapperspb.UInt32Value { return wrapperspb.UInt32(v) }
