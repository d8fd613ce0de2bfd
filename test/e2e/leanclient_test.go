package e2e

import (
	"bufio"
	"bytes"
	endian "encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/plainenvoy/controlplane/pkg/snapshot"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// leanStream is a SotW ADS stream for the push benchmark that costs its host as little as an
// ADS stream can: HTTP/2 and gRPC framing written and read directly (golang.org/x/net/http2's
// framer and HPACK), on one goroutine per stream, and of each response only version_info,
// type_url and nonce read. A grpc-go client hands every message across three goroutines (the
// transport's reader, the stream's receiver and the transport's writer) and decodes every
// resource. On this benchmark's machine the simulated proxies share two cores with the server,
// so what they spend is taken from the server under test; real Envoys run elsewhere.
//
// It speaks what the server needs and nothing more: one stream per connection, SETTINGS and
// PING acknowledged, flow-control credit returned as data is read. It is not a general client.
type leanStream struct {
	conn   net.Conn
	fr     *http2.Framer
	handle func(Response)

	wmu sync.Mutex // writes come from the reading goroutine (ACKs) and from Subscribe
	bw  *bufio.Writer

	node     *corev3.Node
	sentNode bool
	done     chan struct{}
	err      error // why the read loop stopped early; read after done
}

const (
	leanStreamID   = 1
	leanWindow     = 1 << 20 // per stream, as DialHandled's grpc-go clients
	leanConnWindow = 16 << 20
)

// dialLean opens a connection and one ADS stream; handle is called on the stream's goroutine.
func dialLean(addr string, node *corev3.Node, handle func(Response)) (*leanStream, error) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	s := &leanStream{conn: conn, node: node, handle: handle, done: make(chan struct{}), bw: bufio.NewWriterSize(conn, 4096)}
	s.fr = http2.NewFramer(s.bw, bufio.NewReaderSize(conn, 32<<10))
	s.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	var hdr bytes.Buffer
	enc := hpack.NewEncoder(&hdr)
	for _, f := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":authority", addr},
		{":path", "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"},
		{"content-type", "application/grpc"}, {"te", "trailers"}} {
		if err := enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]}); err != nil {
			conn.Close()
			return nil, err
		}
	}
	err = errors.Join(
		func() error { _, err := s.bw.WriteString(http2.ClientPreface); return err }(),
		s.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: leanWindow}),
		s.fr.WriteWindowUpdate(0, leanConnWindow-65535),
		s.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: leanStreamID, BlockFragment: hdr.Bytes(), EndHeaders: true}),
		s.bw.Flush())
	if err != nil {
		conn.Close()
		return nil, err
	}
	go s.readLoop()
	return s, nil
}

// Subscribe sends a wildcard request for typeURL.
func (s *leanStream) Subscribe(typeURL string) error {
	return s.send(&discoveryv3.DiscoveryRequest{TypeUrl: typeURL})
}

// ACK accepts r.
func (s *leanStream) ACK(r Response) error {
	return s.send(&discoveryv3.DiscoveryRequest{TypeUrl: r.TypeURL, VersionInfo: r.Version, ResponseNonce: r.Nonce})
}

func (s *leanStream) send(req *discoveryv3.DiscoveryRequest) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if !s.sentNode {
		req.Node, s.sentNode = s.node, true
	}
	msg, err := proto.Marshal(req)
	if err != nil {
		return err
	}
	// gRPC message: a zero compression flag, a 4-byte big-endian length, the message.
	data := make([]byte, 5, 5+len(msg))
	endian.BigEndian.PutUint32(data[1:], uint32(len(msg)))
	if err := s.fr.WriteData(leanStreamID, false, append(data, msg...)); err != nil {
		return err
	}
	return s.bw.Flush()
}

// Close ends the connection and waits for the reading goroutine.
func (s *leanStream) Close() {
	s.conn.Close()
	<-s.done
}

func (s *leanStream) readLoop() {
	defer close(s.done)
	var msg []byte        // gRPC message bytes read so far, across DATA frames
	var unacked [2]uint32 // data read since credit was returned: connection, stream
	for {
		f, err := s.fr.ReadFrame()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.err = err
			}
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				s.write(func() error { return s.fr.WriteSettingsAck() })
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				s.write(func() error { return s.fr.WritePing(true, f.Data) })
			}
		case *http2.GoAwayFrame:
			return
		case *http2.MetaHeadersFrame:
			if f.StreamEnded() {
				return // trailers: the stream is over
			}
		case *http2.DataFrame:
			buf := f.Data() // the framer's buffer: valid until the next ReadFrame
			n := uint32(len(buf))
			unacked[0] += n
			unacked[1] += n
			if unacked[0] > leanConnWindow/2 || unacked[1] > leanWindow/2 {
				c, st := unacked[0], unacked[1]
				unacked = [2]uint32{}
				s.write(func() error {
					return errors.Join(s.fr.WriteWindowUpdate(0, c), s.fr.WriteWindowUpdate(leanStreamID, st))
				})
			}
			if len(msg) > 0 { // a message began in an earlier frame
				msg = append(msg, buf...)
				buf = msg
			}
			for len(buf) >= 5 {
				size := int(endian.BigEndian.Uint32(buf[1:5]))
				if len(buf) < 5+size {
					break
				}
				r, err := leanResponse(buf[5 : 5+size])
				if err != nil {
					s.err = err
					return
				}
				buf = buf[5+size:]
				s.handle(r)
			}
			msg = append([]byte(nil), buf...) // the start of the next message, if any
			if f.StreamEnded() {
				return
			}
		}
	}
}

// write sends frames written by fn; an error ends the connection and so the read loop.
func (s *leanStream) write(fn func() error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := errors.Join(fn(), s.bw.Flush()); err != nil {
		s.conn.Close()
	}
}

// leanResponse reads version_info (1), type_url (4) and nonce (5) of a DiscoveryResponse and
// skips the rest, resources included.
func leanResponse(b []byte) (Response, error) {
	r := Response{At: time.Now()}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return r, fmt.Errorf("discovery response: %w", protowire.ParseError(n))
		}
		b = b[n:]
		if typ == protowire.BytesType && (num == 1 || num == 4 || num == 5) {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return r, fmt.Errorf("discovery response field %d: %w", num, protowire.ParseError(n))
			}
			switch num {
			case 1:
				r.Version = string(v)
			case 4:
				r.TypeURL = string(v)
			case 5:
				r.Nonce = string(v)
			}
			b = b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return r, fmt.Errorf("discovery response field %d: %w", num, protowire.ParseError(n))
		}
		b = b[n:]
	}
	return r, nil
}

// TestLeanStream: the push benchmark's lean stream is a proper ADS client of the server: it
// receives each type, its ACK moves the proxy's ACKed version, a policy change reaches it, and
// the version it reads is the one the server records.
func TestLeanStream(t *testing.T) {
	srv := startServer(t, snapshot.Options{Translate: handMade})
	srv.SetStore(storeWith("foo/a"))
	got := make(chan Response, 16)
	s, err := dialLean(srv.Addr, gatewayNode("gw-lean", "foo"), func(r Response) { got <- r })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, typ := range []string{cds, lds} {
		if err := s.Subscribe(typ); err != nil {
			t.Fatal(err)
		}
	}
	recv := func() Response {
		t.Helper()
		select {
		case r := <-got:
			if r.Version == "" || r.Nonce == "" {
				t.Fatalf("response without version or nonce: %+v", r)
			}
			return r
		case <-time.After(5 * time.Second):
			select {
			case <-s.done:
				t.Fatalf("no response: the stream ended (%v)", s.err)
			default:
				t.Fatal("no response")
			}
			return Response{}
		}
	}
	seen := map[string]Response{}
	for range 2 {
		r := recv()
		seen[r.TypeURL] = r
		if err := s.ACK(r); err != nil {
			t.Fatal(err)
		}
	}
	ps := proxyStatus(t, srv.Server, "gw-lean", func(ps snapshot.ProxyStatus) bool {
		return ps.Types["cds"].State == "SYNCED" && ps.Types["lds"].State == "SYNCED"
	})
	if ps.Types["cds"].Acked != seen[cds].Version || ps.Types["lds"].Acked != seen[lds].Version {
		t.Fatalf("status %+v, want cds %s and lds %s ACKed", ps.Types, seen[cds].Version, seen[lds].Version)
	}
	srv.SetStore(storeWith("foo/a", "foo/b")) // handMade: one more policy, a new cluster timeout
	r := recv()
	if r.Version == seen[r.TypeURL].Version {
		t.Fatalf("a change sent the version the proxy has: %+v", r)
	}
}
