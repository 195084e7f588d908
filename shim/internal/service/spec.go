package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/ferryvm/ferry/wasi"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// maxModuleSize bounds the entrypoint read into memory: a module larger
// than this is almost certainly not what the image meant to run.
const maxModuleSize = 1 << 30

// The annotation by which CRI marks a pod's sandbox container.
const (
	criContainerType = "io.kubernetes.cri.container-type"
	criSandbox       = "sandbox"
)

// ErrNotWasm is the error of a task whose entrypoint is not a WebAssembly
// module.
var ErrNotWasm = errors.New("the entrypoint is not a WebAssembly module")

// program is what a task runs, taken from its bundle's OCI spec: the
// module file, the arguments, the environment and the directories the
// guest may reach.
type program struct {
	// sandbox marks a pod's sandbox container under CRI (Kubernetes),
	// which runs no program: see loadProgram.
	sandbox    bool
	modulePath string // on the host, beneath the rootfs
	args       []string
	env        []string
	preopens   []preopen
}

// preopen is a host directory the guest sees at guest; readOnly ones are
// made so by a read-only bind mount (see task.mountReadOnly), since a WASI
// pre-open itself grants writing.
type preopen struct {
	host, guest string
	readOnly    bool
}

// loadProgram reads bundle/config.json. The entrypoint (args[0]) must be a
// .wasm file inside the rootfs, the convention runwasi's shims use too;
// the rootfs itself is the guest's "/", and every bind mount of the spec
// whose source is a directory becomes a pre-open at its destination.
// Other mounts (proc, sysfs, tmpfs, devices) have no WASI meaning and are
// left out.
func loadProgram(bundle string) (*program, error) {
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("read the OCI spec: %w", err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(b, &spec); err != nil {
		return nil, fmt.Errorf("parse the OCI spec: %w", err)
	}
	// CRI creates every pod's sandbox ("pause") container through the
	// pod's runtime, so through this shim under a RuntimeClass. Its only
	// job is to exist until the pod ends (CRI makes the pod's network
	// namespace itself, and a WASI guest has no network anyway), so it
	// gets a task that runs nothing and waits to be killed, whatever its
	// image's entrypoint.
	if spec.Annotations[criContainerType] == criSandbox {
		return &program{sandbox: true}, nil
	}
	if spec.Process == nil || len(spec.Process.Args) == 0 {
		return nil, fmt.Errorf("%w: the OCI spec has no process arguments", ErrNotWasm)
	}
	rootfs := filepath.Join(bundle, "rootfs")
	if spec.Root != nil && spec.Root.Path != "" {
		rootfs = spec.Root.Path
		if !filepath.IsAbs(rootfs) {
			rootfs = filepath.Join(bundle, rootfs)
		}
	}
	entry := spec.Process.Args[0]
	if !strings.HasSuffix(entry, ".wasm") {
		return nil, fmt.Errorf("%w: %q does not end in .wasm (Ferry runs images whose entrypoint is a .wasm file)", ErrNotWasm, entry)
	}
	if !path.IsAbs(entry) {
		cwd := spec.Process.Cwd
		if cwd == "" {
			cwd = "/"
		}
		entry = path.Join(cwd, entry)
	}
	// Resolved inside the rootfs only: a symlink pointing out of the
	// image must not make the shim read a host file.
	modulePath, err := resolveInRoot(rootfs, entry)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNotWasm, entry, err)
	}
	p := &program{
		modulePath: modulePath,
		args:       spec.Process.Args,
		env:        spec.Process.Env,
		preopens:   []preopen{{host: rootfs, guest: "/", readOnly: spec.Root != nil && spec.Root.Readonly}},
	}
	for _, m := range spec.Mounts {
		if m.Type != "bind" && m.Type != "rbind" && !hasOption(m.Options, "bind") && !hasOption(m.Options, "rbind") {
			continue
		}
		if fi, err := os.Stat(m.Source); err != nil || !fi.IsDir() {
			continue
		}
		p.preopens = append(p.preopens, preopen{host: m.Source, guest: m.Destination, readOnly: hasOption(m.Options, "ro")})
	}
	return p, nil
}

func hasOption(opts []string, o string) bool {
	for _, x := range opts {
		if x == o {
			return true
		}
	}
	return false
}

// resolveInRoot finds the regular file at the absolute guest path name
// beneath root, following symbolic links as if root were "/".
func resolveInRoot(root, name string) (string, error) {
	cur := "/"
	rest := strings.Split(strings.Trim(path.Clean(name), "/"), "/")
	for hops := 0; len(rest) > 0; {
		elem := rest[0]
		rest = rest[1:]
		next := path.Join(cur, elem)
		host := filepath.Join(root, next)
		fi, err := os.Lstat(host)
		if err != nil {
			return "", errors.New("not found in the image")
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			if hops++; hops > 40 {
				return "", errors.New("too many symbolic links")
			}
			target, err := os.Readlink(host)
			if err != nil {
				return "", err
			}
			if !path.IsAbs(target) {
				target = path.Join(cur, target)
			}
			rest = append(strings.Split(strings.Trim(path.Clean(target), "/"), "/"), rest...)
			cur = "/"
			continue
		}
		cur = next
	}
	host := filepath.Join(root, cur)
	fi, err := os.Stat(host)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", errors.New("not a regular file")
	}
	if fi.Size() > maxModuleSize {
		return "", fmt.Errorf("%d bytes, more than the %d a module may have", fi.Size(), maxModuleSize)
	}
	return host, nil
}

// wasiConfig is the guest's view of the host for a new run. For a restore
// only the pre-opens count (arguments and environment come from the
// checkpoint): they remap the recorded directories to this bundle's.
func (p *program) wasiConfig() wasi.Config {
	cfg := wasi.NewConfig().WithArgs(p.args...)
	for _, kv := range p.env {
		k, v, _ := strings.Cut(kv, "=")
		if k != "" {
			cfg = cfg.WithEnv(k, v)
		}
	}
	for _, po := range p.preopens {
		cfg = cfg.WithPreopen(po.host, po.guest)
	}
	return cfg
}
