package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/plainenvoy/controlplane/pkg/jwks"
	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/snapshot"
)

// serveFlags are the flags of `controlplane serve`.
type serveFlags struct {
	mesh            meshFlags
	adsAddr         string
	monitoringAddr  string
	tlsCert, tlsKey string
	tlsClientCA     string
	plaintextRemote bool
	logFormat       string
	logLevel        string
	debounce        time.Duration
	fileDebounce    time.Duration
	idleTimeout     time.Duration
	gcBetweenPushes bool
	grpc            snapshot.ServeOptions
	jwks            jwksFlags
	kube            kubeFlags
	ca              serveCAFlags
}

func newServeCommand() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve (--config DIR | --kubeconfig FILE | --in-cluster)",
		Short: "Serve Envoy configuration over ADS",
		Long: `serve watches the policy, translates it for every connected Envoy's group and serves the
result over ADS (state-of-the-world and delta xDS). Policy comes from a directory of YAML files
(--config), from Kubernetes (--kubeconfig or --in-cluster), or from both: a file wins over a
cluster object of the same kind, namespace and name. Prometheus metrics, health and
debug endpoints (/metrics, /healthz, /readyz, /debug/proxies, /debug/config?node=ID) are on the
monitoring address. SIGTERM stops accepting, ends the streams and exits.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), f, cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	f.mesh.register(fs)
	f.jwks.register(fs)
	f.kube.register(fs)
	f.ca.register(fs)
	fs.StringVar(&f.adsAddr, "ads-addr", "127.0.0.1:18000", "address of the ADS gRPC server")
	fs.StringVar(&f.monitoringAddr, "monitoring-addr", "127.0.0.1:15014", "address of /metrics, /healthz, /readyz and /debug/")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate of the ADS server (enables TLS, with --tls-key)")
	fs.StringVar(&f.tlsKey, "tls-key", "", "PEM private key of the ADS server")
	fs.StringVar(&f.tlsClientCA, "tls-client-ca", "", "PEM CA bundle: require ADS clients to present a certificate it signed")
	fs.BoolVar(&f.plaintextRemote, "insecure-plaintext", false, "allow plaintext ADS on a non-loopback address")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.DurationVar(&f.debounce, "debounce", 5*time.Millisecond, "wait after a change before rebuilding affected groups")
	fs.DurationVar(&f.fileDebounce, "file-debounce", 10*time.Millisecond, "quiet time after a file event before reloading (editors write in bursts; bounded to 10x while events keep coming)")
	fs.DurationVar(&f.idleTimeout, "idle-timeout", 5*time.Minute, "drop a group with no connected proxy after this long")
	fs.BoolVar(&f.gcBetweenPushes, "gc-between-pushes", true, "when a push has finished and the heap is past half its way to the next garbage collection, collect then rather than during the next push")
	fs.Uint32Var(&f.grpc.MaxConcurrentStreams, "max-concurrent-streams", 100_000, "gRPC streams per connection")
	fs.IntVar(&f.grpc.MaxRecvMsgSize, "max-recv-msg-size", 4<<20, "largest gRPC message accepted, bytes")
	fs.IntVar(&f.grpc.MaxSendMsgSize, "max-send-msg-size", 64<<20, "largest gRPC message sent, bytes")
	fs.DurationVar(&f.grpc.KeepaliveTime, "keepalive-time", 30*time.Second, "ping an idle ADS connection this often")
	fs.DurationVar(&f.grpc.KeepaliveTimeout, "keepalive-timeout", 10*time.Second, "drop a connection whose ping is not answered in this")
	fs.DurationVar(&f.grpc.DrainTimeout, "drain-timeout", 5*time.Second, "on shutdown, cut streams still open after this")
	return cmd
}

func runServe(ctx context.Context, f serveFlags, stderr io.Writer) error {
	log, err := newLogger(stderr, f.logFormat, f.logLevel)
	if err != nil {
		return err
	}
	if f.grpc.TLS, err = serverTLS(f.tlsCert, f.tlsKey, f.tlsClientCA); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var runs []func(context.Context) error
	meshProblems, err := f.mesh.readSettings()
	if err != nil {
		return err
	}
	for _, p := range meshProblems {
		log.Warn("mesh config problem", "problem", p.String())
	}
	providers := f.mesh.settings.ExtensionProviders
	sources, err := newSources(f.mesh, f.kube, f.fileDebounce, log, reg)
	if err != nil {
		return err
	}
	authority, identity, caTLS, err := f.ca.setupCA(ctx, f.mesh.mesh(), f.kube, log, reg)
	if err != nil {
		return err
	}
	if f.grpc.TLS == nil {
		f.grpc.TLS = caTLS
	}
	if f.grpc.TLS == nil && !f.plaintextRemote && !loopback(f.adsAddr) {
		return fmt.Errorf("--ads-addr %s is not a loopback address: configure --tls-cert/--tls-key (or the CA's --ads-server-name), or pass --insecure-plaintext", f.adsAddr)
	}
	srv, err := snapshot.New(snapshot.Options{Log: log, Registerer: reg, Debounce: f.debounce, IdleTimeout: f.idleTimeout,
		ExtAuthz: providers, Identity: identity, CollectWhenIdle: f.gcBetweenPushes})
	if err != nil {
		return err
	}
	if authority != nil {
		runs = append(runs, rotateLoop(authority, srv))
	}
	publish, err := f.ca.rootPublisher(authority, sources, f.kube, log)
	if err != nil {
		return err
	}
	if publish != nil {
		runs = append(runs, publish)
	}
	keys, err := f.jwks.manager(log, reg)
	if err != nil {
		return err
	}
	adsLis, err := net.Listen("tcp", f.adsAddr)
	if err != nil {
		return fmt.Errorf("listen for ADS: %w", err)
	}
	monLis, err := net.Listen("tcp", f.monitoringAddr)
	if err != nil {
		adsLis.Close()
		return fmt.Errorf("listen for monitoring: %w", err)
	}
	log.Info("listening", "ads_addr", adsLis.Addr().String(), "monitoring_addr", monLis.Addr().String())
	merged := newMerger(f.mesh.mesh(), len(sources), log, func(store *model.Store) {
		keys.SetSources(ctx, jwksSources(store))
		srv.SetStore(store)
	})
	for i, src := range sources {
		runs = append(runs, func(ctx context.Context) error { return src.Run(ctx, merged.publisher(i)) })
	}
	return runAll(ctx, append(runs,
		func(ctx context.Context) error { return srv.Run(ctx) },
		func(ctx context.Context) error { return keys.Run(ctx) },
		func(ctx context.Context) error { return forwardKeys(ctx, keys, srv) },
		func(ctx context.Context) error { return srv.Serve(ctx, adsLis, f.grpc) },
		func(ctx context.Context) error { return serveMonitoring(ctx, monLis, reg, srv.DebugHandler()) },
	)...)
}

// forwardKeys hands every JWKS change to the snapshot server, which rebuilds the groups whose
// configuration inlines a changed source.
func forwardKeys(ctx context.Context, m *jwks.Manager, srv *snapshot.Server) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case changed := <-m.Changes():
			srv.SetKeys(m.Keys(), changed)
		}
	}
}

// jwksSources lists the key sources of every RequestAuthentication rule that has no inline
// jwks.
func jwksSources(store *model.Store) []jwks.Source {
	var out []jwks.Source
	for _, ra := range store.RequestAuthentications {
		for _, r := range ra.Spec.GetJwtRules() {
			if r.GetJwks() != "" {
				continue
			}
			out = append(out, jwks.Source{Key: model.JWKSSource(r.GetJwksUri(), r.GetIssuer()),
				URI: r.GetJwksUri(), Issuer: r.GetIssuer(), Timeout: r.GetTimeout().AsDuration()})
		}
	}
	return out
}

func serveMonitoring(ctx context.Context, lis net.Listener, reg *prometheus.Registry, debug http.Handler) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/", debug)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(lis) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return err
	}
	<-errc
	return nil
}

// runAll runs every function until ctx is done or one of them fails, then cancels the rest and
// waits for all of them. It returns the first error.
func runAll(ctx context.Context, fns ...func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for _, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := fn(ctx)
			if err != nil {
				once.Do(func() { first = err })
			}
			cancel()
		}()
	}
	wg.Wait()
	return first
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, got %q", format)
}

// serverTLS loads the ADS server certificate; with a client CA, clients must present a
// certificate it signed. No certificate: plaintext (nil).
func serverTLS(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	if certFile == "" && keyFile == "" {
		if clientCAFile != "" {
			return nil, errors.New("--tls-client-ca needs --tls-cert and --tls-key")
		}
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load ADS server certificate: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if clientCAFile != "" {
		pem, err := os.ReadFile(clientCAFile)
		if err != nil {
			return nil, fmt.Errorf("read --tls-client-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-client-ca %s: no PEM certificate", clientCAFile)
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// loopback reports whether addr's host is a loopback IP or "localhost".
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
