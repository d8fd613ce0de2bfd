package snapshot

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	sotwv3 "github.com/envoyproxy/go-control-plane/pkg/server/sotw/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
)

// ServeOptions configure the ADS gRPC server. Zero values are the documented defaults.
type ServeOptions struct {
	// TLS, when set, makes the server speak TLS; set ClientAuth and ClientCAs in it to require
	// client certificates. Nil serves plaintext (callers keep that to loopback).
	TLS *tls.Config
	// MaxConcurrentStreams per connection. Default 100 000: one Envoy opens one ADS stream,
	// but a load test multiplexes many clients on few connections.
	MaxConcurrentStreams uint32
	// MaxRecvMsgSize and MaxSendMsgSize bound one message. Defaults 4 MiB (requests are
	// small) and 64 MiB (a gateway's listeners can be large).
	MaxRecvMsgSize, MaxSendMsgSize int
	// KeepaliveTime is how often an idle connection is pinged; a peer that does not answer in
	// KeepaliveTimeout is dropped. Defaults 30s and 10s. Clients may ping every 10s or more.
	KeepaliveTime, KeepaliveTimeout time.Duration
	// DrainTimeout bounds graceful shutdown: streams still open then are cut. Default 5s.
	DrainTimeout time.Duration
}

func (o ServeOptions) withDefaults() ServeOptions {
	if o.MaxConcurrentStreams == 0 {
		o.MaxConcurrentStreams = 100_000
	}
	if o.MaxRecvMsgSize == 0 {
		o.MaxRecvMsgSize = 4 << 20
	}
	if o.MaxSendMsgSize == 0 {
		o.MaxSendMsgSize = 64 << 20
	}
	if o.KeepaliveTime == 0 {
		o.KeepaliveTime = 30 * time.Second
	}
	if o.KeepaliveTimeout == 0 {
		o.KeepaliveTimeout = 10 * time.Second
	}
	if o.DrainTimeout == 0 {
		o.DrainTimeout = 5 * time.Second
	}
	return o
}

// Serve answers ADS (state-of-the-world and delta) on lis until ctx is cancelled, then shuts
// down gracefully: it stops accepting, ends every stream (Envoy reconnects, possibly to
// another replica, and gets the same versions) and waits up to DrainTimeout before cutting
// the connections that remain.
func (s *Server) Serve(ctx context.Context, lis net.Listener, opts ServeOptions) error {
	opts = opts.withDefaults()
	gopts := []grpc.ServerOption{
		grpc.MaxConcurrentStreams(opts.MaxConcurrentStreams),
		grpc.MaxRecvMsgSize(opts.MaxRecvMsgSize),
		grpc.MaxSendMsgSize(opts.MaxSendMsgSize),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: opts.KeepaliveTime, Timeout: opts.KeepaliveTimeout}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		// Fixed flow-control windows turn off grpc-go's bandwidth-delay-product probing, which
		// answered every ACK with a PING and so doubled the server's syscalls per push. 1 MiB
		// per stream and 16 MiB per connection are above what an ACK stream ever has in flight.
		grpc.InitialWindowSize(1 << 20),
		grpc.InitialConnWindowSize(16 << 20),
		// Sends a group's prepared SotW responses without marshalling them per stream (wire.go).
		grpc.ForceServerCodecV2(newWireCodec()),
	}
	if opts.TLS != nil {
		gopts = append(gopts, grpc.Creds(credentials.NewTLS(opts.TLS)))
	}
	gs := grpc.NewServer(gopts...)
	// Streams end when streamCtx is cancelled; it outlives ctx only for the shutdown sequence.
	streamCtx, endStreams := context.WithCancel(context.WithoutCancel(ctx))
	defer endStreams()
	// Ordered ADS: each SotW stream reads its responses from one channel in the order the
	// watcher queued them (clusters before listeners, as Envoy applies them), instead of a
	// reflect.Select over one channel per type, which cost 7% of the server's CPU in a push.
	xds := serverv3.NewServer(streamCtx, s.xds, s.callbacks(streamCtx),
		sotwv3.WithLogger(gcpLogger{log: s.opts.Log.With("component", "xds-server")}), sotwv3.WithOrderedADS())
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(gs, adsService{xds, &s.xds.wires})

	errc := make(chan error, 1)
	go func() { errc <- gs.Serve(lis) }()
	s.log.InfoContext(ctx, "serving ADS", "addr", lis.Addr().String(), "tls", opts.TLS != nil)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}

	stopped := make(chan struct{})
	go func() {
		gs.GracefulStop()
		close(stopped)
	}()
	endStreams()
	select {
	case <-stopped:
	case <-time.After(opts.DrainTimeout):
		s.log.Warn("drain timeout, closing remaining ADS connections")
		gs.Stop()
		<-stopped
	}
	if err := <-errc; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	s.log.Info("ADS server stopped")
	return nil
}
