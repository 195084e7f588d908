package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/ferryvm/ferry"
)

const keygenUsage = `usage: ferry keygen [--hmac] [--out FILE]

Makes a key that signs checkpoints. A restore keeps what a checkpoint
recorded (its pre-opened host directories, its loopback listeners) only
when the file is signed by a key the restoring host trusts; any other
checkpoint gets only what "ferry restore" grants with --dir and
--tcplisten.

Without --out, makes this user's own key if there is none yet (ferry run
and ferry restore --checkpoint-to also make it on first use, and sign with
it by default; ferry restore and ferry inspect trust it) and prints where
it is. The key lives in the ferry configuration directory: $FERRY_CONFIG_DIR,
else $XDG_CONFIG_HOME/ferry, else ~/.config/ferry:
  signing.key     the private key (mode 0600)
  signing.key.pub its public key
  trusted/        public (or HMAC) key files of other writers whose
                  checkpoints this user trusts, one key per file

Flags:
  --out FILE      write a new key to FILE (private, mode 0600) and its
                  public key to FILE.pub, for --sign-key and --trust-key;
                  an existing file is never overwritten
  --hmac          an HMAC-SHA256 shared secret (32 random bytes) instead of
                  an Ed25519 key pair: writer and restorer then hold the
                  same file (no .pub), and anyone who holds it can sign

The key id printed is the first 8 bytes of the SHA-256 of the public key,
as "ferry inspect" shows it for a signed checkpoint.

Exit codes: 0, 1 when the key cannot be written, 2 for usage errors.
`

func runKeygen(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("keygen", stderr)
	out := fs.String("out", "", "write the key to FILE")
	useHMAC := fs.Bool("hmac", false, "make an HMAC-SHA256 secret")
	if code, done := parseFlagsAnywhere(fs, args, keygenUsage, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 0 {
		return usageError(stderr, keygenUsage, "keygen: unexpected argument %q", fs.Arg(0))
	}
	if *out == "" {
		if *useHMAC {
			return usageError(stderr, keygenUsage, "keygen: --hmac needs --out (this user's own key is an Ed25519 key)")
		}
		k, path, made, err := ownSigningKey(true)
		if err != nil {
			fmt.Fprintf(stderr, "ferry: keygen: %v\n", err)
			return exitFail
		}
		how := "already there"
		if made {
			how = "made"
		}
		fmt.Fprintf(stdout, "%s key %s, %s: %s\npublic key: %s\n", k.Algorithm(), k.ID(), how, path, pubPath(path))
		return exitOK
	}
	k, err := newKey(*useHMAC)
	if err != nil {
		fmt.Fprintf(stderr, "ferry: keygen: %v\n", err)
		return exitFail
	}
	if err := writeKeyFiles(*out, k); err != nil {
		fmt.Fprintf(stderr, "ferry: keygen: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "%s key %s: %s\n", k.Algorithm(), k.ID(), *out)
	if !*useHMAC {
		fmt.Fprintf(stdout, "public key: %s (for ferry restore --trust-key on the hosts that restore)\n", pubPath(*out))
	} else {
		fmt.Fprintf(stdout, "the same file signs (--sign-key) and verifies (--trust-key): keep it secret\n")
	}
	return exitOK
}

func newKey(useHMAC bool) (ferry.SigningKey, error) {
	if !useHMAC {
		return ferry.GenerateSigningKey()
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return ferry.SigningKey{}, err
	}
	return ferry.NewHMACKey(secret)
}

func pubPath(keyPath string) string { return keyPath + ".pub" }

// writeKeyFiles writes k to path and, for a key pair, its public key to
// path.pub; neither may exist already, so that a key is never lost.
func writeKeyFiles(path string, k ferry.SigningKey) error {
	priv, err := k.MarshalPEM()
	if err != nil {
		return err
	}
	if err := writeNew(path, priv); err != nil {
		return err
	}
	if k.Algorithm() == "hmac-sha256" {
		return nil
	}
	pub, err := k.Trusted().MarshalPEM()
	if err != nil {
		return err
	}
	if err := writeNew(pubPath(path), pub); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// writeNew creates path with mode 0600, failing if it exists.
func writeNew(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// configDir is ferry's per-user configuration directory. FERRY_CONFIG_DIR
// comes first so that tests and scripts can point it anywhere without
// touching the rest of XDG's.
func configDir() (string, error) {
	if d := os.Getenv("FERRY_CONFIG_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserConfigDir() // $XDG_CONFIG_HOME, else ~/.config
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "ferry"), nil
}

// ownSigningKey loads this user's signing key, making it first when
// create is set and there is none; made says it was just made.
func ownSigningKey(create bool) (k ferry.SigningKey, path string, made bool, err error) {
	dir, err := configDir()
	if err != nil {
		return k, "", false, fmt.Errorf("no configuration directory for this user's signing key: %w", err)
	}
	path = filepath.Join(dir, "signing.key")
	b, err := os.ReadFile(path)
	if err == nil {
		k, err = ferry.ParseSigningKey(b)
		if err != nil {
			err = fmt.Errorf("%s: %w", path, err)
		}
		return k, path, false, err
	}
	if !errors.Is(err, fs.ErrNotExist) || !create {
		return k, path, false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return k, path, false, err
	}
	if k, err = ferry.GenerateSigningKey(); err != nil {
		return k, path, false, err
	}
	if err := writeKeyFiles(path, k); err != nil {
		if errors.Is(err, fs.ErrExist) {
			// Made meanwhile by another ferry: use that one.
			return ownSigningKey(false)
		}
		return k, path, false, err
	}
	return k, path, true, nil
}

// trustedKeys are the keys whose checkpoints this user trusts: the user's
// own signing key, every key file in the configuration directory's
// trusted/, and the files given (--trust-key).
func trustedKeys(files []string) (ferry.OpenConfig, error) {
	cfg := ferry.NewOpenConfig()
	own, _, _, err := ownSigningKey(false)
	switch {
	case err == nil:
		cfg = cfg.WithTrustedKey(own.Trusted())
	case !errors.Is(err, fs.ErrNotExist):
		return cfg, fmt.Errorf("this user's signing key: %w", err)
	}
	if dir, err := configDir(); err == nil {
		entries, err := os.ReadDir(filepath.Join(dir, "trusted"))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return cfg, err
		}
		var names []string
		for _, e := range entries {
			if !e.IsDir() {
				names = append(names, filepath.Join(dir, "trusted", e.Name()))
			}
		}
		sort.Strings(names)
		files = append(names, files...)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return cfg, fmt.Errorf("--trust-key: %w", err)
		}
		k, err := ferry.ParseTrustedKey(b)
		if err != nil {
			return cfg, fmt.Errorf("trusted key %s: %w", f, err)
		}
		cfg = cfg.WithTrustedKey(k)
	}
	return cfg, nil
}
