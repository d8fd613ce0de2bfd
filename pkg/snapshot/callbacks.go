package snapshot

import (
	"context"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
)

// callbacks tracks every stream for status and metrics, and parks NACKed versions.
//
// NACK parking: go-control-plane's SotW server answers every request whose version_info
// differs from the snapshot's. A NACK carries the last ACKed version, so the library sends the
// rejected version straight back, the proxy rejects it again, and so on: a storm. Before the
// request reaches the cache, the SotW request callback rewrites a NACK's version_info to the
// version the proxy rejected (the one sent with the nonce it answers). The cache then sees a
// proxy that is up to date and holds the watch until the next real change, which is sent
// normally. Delta needs no help: its subscription already records the rejected resource
// versions as returned, so nothing is re-sent until they change.
//
// The functions capture ctx (the Serve context) because the library's callbacks carry none.
func (s *Server) callbacks(ctx context.Context) serverv3.Callbacks {
	return serverv3.CallbackFuncs{
		StreamOpenFunc: func(streamCtx context.Context, id int64, _ string) error {
			s.openStream(streamCtx, streamKey{id: id}, time.Now())
			return nil
		},
		StreamClosedFunc: func(id int64, _ *corev3.Node) { s.closeStream(streamKey{id: id}, time.Now()) },
		StreamRequestFunc: func(id int64, req *discoveryv3.DiscoveryRequest) error {
			k := streamKey{id: id}
			markProven(req.GetNode(), s.provenIdentity(k))
			s.identify(ctx, k, req.GetNode())
			if req.GetResponseNonce() == "" {
				return nil
			}
			v, nacked := s.ack(ctx, k, req.GetTypeUrl(), req.GetResponseNonce(), nackMessage(req.GetErrorDetail() != nil, req.GetErrorDetail().GetMessage()), time.Now())
			if nacked {
				req.VersionInfo = v // park: see above
			}
			return nil
		},
		StreamResponseFunc: func(_ context.Context, id int64, _ *discoveryv3.DiscoveryRequest, resp *discoveryv3.DiscoveryResponse) {
			s.sent(streamKey{id: id}, resp.GetTypeUrl(), resp.GetNonce(), resp.GetVersionInfo())
		},
		DeltaStreamOpenFunc: func(streamCtx context.Context, id int64, _ string) error {
			s.openStream(streamCtx, streamKey{delta: true, id: id}, time.Now())
			return nil
		},
		DeltaStreamClosedFunc: func(id int64, _ *corev3.Node) {
			s.closeStream(streamKey{delta: true, id: id}, time.Now())
		},
		StreamDeltaRequestFunc: func(id int64, req *discoveryv3.DeltaDiscoveryRequest) error {
			k := streamKey{delta: true, id: id}
			markProven(req.GetNode(), s.provenIdentity(k))
			s.identify(ctx, k, req.GetNode())
			if req.GetResponseNonce() != "" {
				s.ack(ctx, k, req.GetTypeUrl(), req.GetResponseNonce(), nackMessage(req.GetErrorDetail() != nil, req.GetErrorDetail().GetMessage()), time.Now())
			}
			return nil
		},
		StreamDeltaResponseFunc: func(id int64, _ *discoveryv3.DeltaDiscoveryRequest, resp *discoveryv3.DeltaDiscoveryResponse) {
			s.sent(streamKey{delta: true, id: id}, resp.GetTypeUrl(), resp.GetNonce(), resp.GetSystemVersionInfo())
		},
	}
}

// nackMessage is "" for an ACK, and never "" for a NACK.
func nackMessage(isNACK bool, msg string) string {
	if !isNACK {
		return ""
	}
	if msg == "" {
		return "rejected without a message"
	}
	return msg
}
