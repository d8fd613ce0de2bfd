package e2e

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/structpb"
)

// Response is one discovery response, SotW or delta, reduced to what tests compare.
type Response struct {
	TypeURL string
	Version string // version_info, or system_version_info for delta
	Nonce   string
	// Resources maps each resource name in the response to its serialized bytes.
	Resources map[string][]byte
	Removed   []string // delta only
	// ResourceVersions are delta's per-resource versions, to resume a stream with.
	ResourceVersions map[string]string
	At               time.Time
}

// Client is one ADS stream, as one Envoy would open it. It is not safe for concurrent sends.
type Client struct {
	Node  *corev3.Node
	Delta bool
	// SkipDecode leaves SotW Resources empty instead of decoding every resource for its name:
	// the load test only needs versions, and decoding would compete with the server for CPU.
	SkipDecode bool
	// handle, when DialHandled set it, is called with each response on the receiving
	// goroutine instead of queueing it on Responses: a load test's thousands of clients then
	// cost one goroutine wake-up per response, not two.
	handle func(Response)

	conn     *grpc.ClientConn
	cancel   context.CancelFunc
	sotw     discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	delta    discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
	sentNode bool
	acked    map[string]string // SotW: last ACKed version per type, sent back with a NACK
	names    map[string][]string

	Responses chan Response // every response received, in order
	done      chan struct{}
	errMu     sync.Mutex
	err       error
}

// Node builds an Envoy node with the control plane's metadata contract.
func Node(id, role, namespace string, labels map[string]string, serviceAccount string) *corev3.Node {
	l := map[string]any{}
	for k, v := range labels {
		l[k] = v
	}
	md := map[string]any{"role": role, "namespace": namespace, "labels": l}
	if serviceAccount != "" {
		md["service_account"] = serviceAccount
	}
	s, err := structpb.NewStruct(md)
	if err != nil {
		panic(err) // only strings and maps of strings: cannot fail
	}
	return &corev3.Node{Id: id, Cluster: namespace, Metadata: s}
}

// Dial opens a plaintext connection and one ADS stream (delta or SotW).
func Dial(ctx context.Context, addr string, node *corev3.Node, delta bool) (*Client, error) {
	return DialHandled(ctx, addr, node, delta, nil)
}

// DialHandled is Dial with every response handed to handle, on the receiving goroutine,
// instead of queued for Next.
func DialHandled(ctx context.Context, addr string, node *corev3.Node, delta bool, handle func(Response)) (*Client, error) {
	// Fixed windows, as Envoy's HTTP/2 codec has: grpc-go's bandwidth-delay-product probing
	// would otherwise send a PING per response, a cost no real proxy puts on the server.
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(1<<20), grpc.WithInitialConnWindowSize(16<<20))
	if err != nil {
		return nil, err
	}
	c, err := open(ctx, conn, node, delta, handle)
	if err != nil {
		conn.Close()
		return nil, err
	}
	c.conn = conn
	return c, nil
}

// Open starts an ADS stream on an existing connection.
func Open(ctx context.Context, conn *grpc.ClientConn, node *corev3.Node, delta bool) (*Client, error) {
	return open(ctx, conn, node, delta, nil)
}

func open(ctx context.Context, conn *grpc.ClientConn, node *corev3.Node, delta bool, handle func(Response)) (*Client, error) {
	ctx, cancel := context.WithCancel(ctx)
	c := &Client{Node: node, Delta: delta, cancel: cancel, acked: map[string]string{}, names: map[string][]string{},
		Responses: make(chan Response, 64), done: make(chan struct{}), handle: handle}
	ads := discoveryv3.NewAggregatedDiscoveryServiceClient(conn)
	var err error
	if delta {
		c.delta, err = ads.DeltaAggregatedResources(ctx)
	} else {
		c.sotw, err = ads.StreamAggregatedResources(ctx)
	}
	if err != nil {
		cancel()
		return nil, fmt.Errorf("open ADS stream: %w", err)
	}
	go c.recvLoop()
	return c, nil
}

// Subscribe sends the first request for a type: names (nil: wildcard) and, to resume, the
// version (SotW) or resource versions (delta) the proxy already has.
func (c *Client) Subscribe(typeURL string, names []string, version string, initial map[string]string) error {
	c.names[typeURL] = names
	if c.Delta {
		return c.sendDelta(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: typeURL, ResourceNamesSubscribe: names, InitialResourceVersions: initial})
	}
	c.acked[typeURL] = version
	return c.sendSotW(&discoveryv3.DiscoveryRequest{TypeUrl: typeURL, ResourceNames: names, VersionInfo: version})
}

// ACK accepts r.
func (c *Client) ACK(r Response) error {
	if c.Delta {
		return c.sendDelta(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: r.TypeURL, ResponseNonce: r.Nonce})
	}
	c.acked[r.TypeURL] = r.Version
	return c.sendSotW(&discoveryv3.DiscoveryRequest{TypeUrl: r.TypeURL, VersionInfo: r.Version,
		ResponseNonce: r.Nonce, ResourceNames: c.names[r.TypeURL]})
}

// NACK rejects r, as Envoy does: SotW sends back the last ACKed version.
func (c *Client) NACK(r Response, msg string) error {
	detail := &status.Status{Code: 3, Message: msg}
	if c.Delta {
		return c.sendDelta(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: r.TypeURL, ResponseNonce: r.Nonce, ErrorDetail: detail})
	}
	return c.sendSotW(&discoveryv3.DiscoveryRequest{TypeUrl: r.TypeURL, VersionInfo: c.acked[r.TypeURL],
		ResponseNonce: r.Nonce, ResourceNames: c.names[r.TypeURL], ErrorDetail: detail})
}

func (c *Client) sendSotW(req *discoveryv3.DiscoveryRequest) error {
	if !c.sentNode {
		req.Node, c.sentNode = c.Node, true
	}
	return c.sotw.Send(req)
}

func (c *Client) sendDelta(req *discoveryv3.DeltaDiscoveryRequest) error {
	if !c.sentNode {
		req.Node, c.sentNode = c.Node, true
	}
	return c.delta.Send(req)
}

// Next waits up to timeout for the next response.
func (c *Client) Next(timeout time.Duration) (Response, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-c.Responses:
		return r, nil
	case <-c.done:
		select {
		case r := <-c.Responses:
			return r, nil
		default:
		}
		return Response{}, c.Err()
	case <-t.C:
		return Response{}, ErrTimeout
	}
}

// ErrTimeout is returned by Next when no response came in time.
var ErrTimeout = errors.New("no response in time")

// Err is why the stream ended.
func (c *Client) Err() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	return c.err
}

// Done is closed when the stream ends.
func (c *Client) Done() <-chan struct{} { return c.done }

// Close ends the stream and, if Dial made it, the connection.
func (c *Client) Close() {
	c.cancel()
	<-c.done
	if c.conn != nil {
		c.conn.Close()
	}
}

func (c *Client) recvLoop() {
	defer close(c.done)
	for {
		r, err := c.recv()
		if err != nil {
			c.errMu.Lock()
			c.err = err
			c.errMu.Unlock()
			return
		}
		if c.handle != nil {
			c.handle(r)
			continue
		}
		c.Responses <- r
	}
}

func (c *Client) recv() (Response, error) {
	if c.Delta {
		resp, err := c.delta.Recv()
		if err != nil {
			return Response{}, err
		}
		r := Response{TypeURL: resp.GetTypeUrl(), Version: resp.GetSystemVersionInfo(), Nonce: resp.GetNonce(),
			Resources: map[string][]byte{}, Removed: resp.GetRemovedResources(), At: time.Now(),
			ResourceVersions: map[string]string{}}
		for _, res := range resp.GetResources() {
			r.Resources[res.GetName()] = res.GetResource().GetValue()
			r.ResourceVersions[res.GetName()] = res.GetVersion()
		}
		return r, nil
	}
	resp, err := c.sotw.Recv()
	if err != nil {
		return Response{}, err
	}
	r := Response{TypeURL: resp.GetTypeUrl(), Version: resp.GetVersionInfo(), Nonce: resp.GetNonce(),
		Resources: map[string][]byte{}, At: time.Now()}
	for _, a := range resp.GetResources() {
		if c.SkipDecode {
			break
		}
		m, err := a.UnmarshalNew()
		if err != nil {
			return Response{}, fmt.Errorf("decode %s: %w", a.GetTypeUrl(), err)
		}
		r.Resources[cache.GetResourceName(m)] = a.GetValue()
	}
	return r, nil
}
