package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/ferryvm/ferry"
	"github.com/ferryvm/ferry/ferryd/internal/node"
	"github.com/ferryvm/ferry/ferryd/internal/pki"
)

const serveUsage = `usage: ferryd serve --listen ADDR --state-dir DIR --tls-cert FILE --tls-key FILE --client-ca FILE [FLAGS]

Runs the node agent. Its API (HTTP/JSON) is served over TLS 1.3 to
clients presenting a certificate the --client-ca authority signed, and to
nobody else; the same certificate (--tls-cert, --tls-key) authenticates
this daemon to the peers it migrates instances to. Instances run in this
process and outlive the clients that started them; their stdout and
stderr go to files under --state-dir. "ferryd certs" makes the
certificates.

Flags:
`

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", serveUsage, stderr)
	listen := fs.String("listen", "127.0.0.1:7411", "address of the API (HOST:PORT; port 0 picks one, printed on stdout)")
	stateDir := fs.String("state-dir", "", "directory for instances' logs and checkpoints (required)")
	var files pki.Files
	fs.StringVar(&files.Cert, "tls-cert", "", "this daemon's certificate (PEM)")
	fs.StringVar(&files.Key, "tls-key", "", "its private key (PEM)")
	fs.StringVar(&files.CA, "client-ca", "", "the authority whose certificates clients and peer daemons must present (PEM)")
	metricsAddr := fs.String("metrics-listen", "", "also serve /metrics without authentication on this address (for a local scraper; empty: only on the API)")
	cpuSpec := fs.String("cpu-features", "native", "CPU feature mask of every instance's runtime (as ferry run --cpu-features)")
	pending := fs.Duration("pending-timeout", 30*time.Second, "how long a migration may stall before it is aborted")
	if code, done := parse(fs, args); done {
		return code
	}
	if *stateDir == "" {
		fmt.Fprintln(stderr, "ferryd serve: --state-dir is required")
		return exitUsage
	}
	srvTLS, err := files.ServerConfig()
	if err != nil {
		fmt.Fprintf(stderr, "ferryd serve: %v\n", err)
		return exitUsage
	}
	peerTLS, err := files.ClientConfig()
	if err != nil {
		fmt.Fprintf(stderr, "ferryd serve: %v\n", err)
		return exitUsage
	}
	rtCfg, err := ferry.NewRuntimeConfig().WithCPUFeatures(*cpuSpec)
	if err != nil {
		fmt.Fprintf(stderr, "ferryd serve: --cpu-features: %v\n", err)
		return exitUsage
	}
	n, err := node.New(node.Config{StateDir: *stateDir, Runtime: rtCfg, PeerTLS: peerTLS, PendingTimeout: *pending,
		Log: log.New(stderr, "ferryd: ", log.LstdFlags|log.Lmicroseconds)})
	if err != nil {
		fmt.Fprintf(stderr, "ferryd serve: %v\n", err)
		return exitFail
	}
	defer n.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "ferryd serve: %v\n", err)
		return exitFail
	}
	srv := &http.Server{
		Handler:           n.Handler(),
		TLSConfig:         srvTLS,
		ReadHeaderTimeout: 10 * time.Second,
		// No HTTP/2: a migration takes over its connection (Upgrade).
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	var msrv *http.Server
	if *metricsAddr != "" {
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			fmt.Fprintf(stderr, "ferryd serve: --metrics-listen: %v\n", err)
			srv.Close()
			return exitFail
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", n.MetricsHandler())
		msrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- msrv.Serve(mln) }()
		fmt.Fprintf(stdout, "ferryd: metrics on http://%s/metrics\n", mln.Addr())
	}
	fmt.Fprintf(stdout, "ferryd: listening on %s\n", ln.Addr())
	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(stderr, "ferryd serve: %v\n", err)
			return exitFail
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	if msrv != nil {
		msrv.Shutdown(sctx)
	}
	return exitOK
}
