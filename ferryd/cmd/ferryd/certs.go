package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ferryvm/ferry/ferryd/internal/pki"
)

const certsUsage = `usage: ferryd certs --dir DIR [--hosts H1,H2,...] NAME...

Makes the certificates of ferryd's mutual TLS in DIR: the certificate
authority DIR/ca.crt and DIR/ca.key (made once, reused afterwards), and
for each NAME a certificate DIR/NAME.crt with its key DIR/NAME.key, signed
by it, valid as a server (a daemon) and as a client (ctl, or a daemon
migrating to a peer). --hosts are the names and addresses clients dial a
daemon by; they go into every certificate made. Keys are written 0600.
Keep ca.key off the daemons' hosts: only this command needs it.

Flags:
`

func runCerts(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("certs", certsUsage, stderr)
	dir := fs.String("dir", "", "directory of the certificates (required)")
	hosts := fs.String("hosts", "localhost,127.0.0.1,::1", "comma-separated DNS names and IP addresses for the certificates")
	if code, done := parse(fs, args); done {
		return code
	}
	if *dir == "" || fs.NArg() == 0 {
		fmt.Fprint(stderr, "ferryd certs: --dir and at least one NAME are required\n")
		return exitUsage
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		fmt.Fprintf(stderr, "ferryd certs: %v\n", err)
		return exitFail
	}
	caCert, caKey := filepath.Join(*dir, "ca.crt"), filepath.Join(*dir, "ca.key")
	var ca *pki.Authority
	var err error
	if _, serr := os.Stat(caCert); serr == nil {
		ca, err = pki.LoadCA(caCert, caKey)
	} else {
		ca, err = pki.MakeCA("ferryd CA")
		if err == nil {
			err = ca.WriteFiles(*dir)
			fmt.Fprintf(stdout, "wrote %s and %s\n", caCert, caKey)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "ferryd certs: %v\n", err)
		return exitFail
	}
	for _, name := range fs.Args() {
		if name == "ca" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
			fmt.Fprintf(stderr, "ferryd certs: bad certificate name %q\n", name)
			return exitUsage
		}
		c, err := ca.Issue(name, strings.Split(*hosts, ","))
		if err == nil {
			err = c.WriteFiles(*dir, name)
		}
		if err != nil {
			fmt.Fprintf(stderr, "ferryd certs: %s: %v\n", name, err)
			return exitFail
		}
		fmt.Fprintf(stdout, "wrote %s and %s\n", filepath.Join(*dir, name+".crt"), filepath.Join(*dir, name+".key"))
	}
	return exitOK
}
