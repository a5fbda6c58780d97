//go:build linux

package codeexec

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// cgroupParent is a delegated cgroup v2 directory under which each session
// gets its own child cgroup with memory, pids and cpu limits. It is an
// optional layer on top of the rlimits: used only where the hierarchy is
// writable and already delegates the controllers (see Config.Cgroup).
type cgroupParent struct {
	dir string
}

// detectCgroup resolves Config.Cgroup. It returns nil and a reason when
// cgroups are not used.
func detectCgroup(setting string) (*cgroupParent, string) {
	switch setting {
	case "off":
		return nil, "disabled by configuration"
	case "", "auto":
		dir, err := ownCgroupDir()
		if err != nil {
			return nil, err.Error()
		}
		if err := usableCgroup(dir); err != nil {
			return nil, err.Error()
		}
		return &cgroupParent{dir: dir}, ""
	default:
		if err := usableCgroup(setting); err != nil {
			return nil, err.Error()
		}
		return &cgroupParent{dir: setting}, ""
	}
}

// ownCgroupDir is the server's own cgroup v2 directory.
func ownCgroupDir() (string, error) {
	raw, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", fmt.Errorf("no cgroup information: %w", err)
	}
	var rel string
	found := false
	for _, line := range strings.Split(string(raw), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			rel, found = p, true
		}
	}
	if !found {
		return "", errors.New("no cgroup v2 membership")
	}
	mount, root, err := cgroup2Mount()
	if err != nil {
		return "", err
	}
	rel = strings.TrimPrefix(rel, root)
	return filepath.Join(mount, rel), nil
}

// cgroup2Mount finds the cgroup2 mount point and its root in mountinfo.
func cgroup2Mount() (mount, root string, err error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for i, x := range fields {
			if x == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" && len(fields) > 4 {
				return fields[4], fields[3], nil
			}
		}
	}
	return "", "", errors.New("no cgroup2 file system is mounted")
}

// usableCgroup checks that dir is a writable cgroup v2 directory whose
// children get the memory and pids controllers.
func usableCgroup(dir string) error {
	raw, err := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
	if err != nil {
		return fmt.Errorf("%s is not a cgroup v2 directory: %w", dir, err)
	}
	have := map[string]bool{}
	for _, c := range strings.Fields(string(raw)) {
		have[c] = true
	}
	if !have["memory"] || !have["pids"] {
		return fmt.Errorf("%s does not delegate the memory and pids controllers to its children (cgroup.subtree_control: %q)", dir, strings.TrimSpace(string(raw)))
	}
	if err := unix.Access(dir, unix.W_OK); err != nil {
		return fmt.Errorf("%s is not writable: %w", dir, err)
	}
	return nil
}

// sessionCgroup is one session's cgroup.
type sessionCgroup struct {
	dir string
	fd  *os.File
}

// create makes a child cgroup with the session limits. The returned
// directory's descriptor is used with CLONE_INTO_CGROUP so that the
// sandbox starts inside it.
func (p *cgroupParent) create(name string, c Config) (*sessionCgroup, error) {
	dir := filepath.Join(p.dir, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	cg := &sessionCgroup{dir: dir}
	write := func(file, value string) error {
		err := os.WriteFile(filepath.Join(dir, file), []byte(value), 0o644)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s: %w", file, err)
		}
		return nil
	}
	mem := c.MemoryBytes + c.WorkdirBytes + shmBytes
	errs := []error{
		write("memory.max", strconv.FormatInt(mem, 10)),
		write("memory.swap.max", "0"),
		write("pids.max", strconv.Itoa(c.MaxProcesses+4)),
	}
	if c.CgroupCPUs > 0 {
		errs = append(errs, write("cpu.max", fmt.Sprintf("%d 100000", int64(c.CgroupCPUs*100000))))
	}
	if err := errors.Join(errs...); err != nil {
		cg.remove()
		return nil, err
	}
	fd, err := os.Open(dir)
	if err != nil {
		cg.remove()
		return nil, err
	}
	cg.fd = fd
	return cg, nil
}

// remove kills whatever is left in the cgroup and deletes it.
func (cg *sessionCgroup) remove() {
	if cg == nil {
		return
	}
	if cg.fd != nil {
		cg.fd.Close()
		cg.fd = nil
	}
	_ = os.WriteFile(filepath.Join(cg.dir, "cgroup.kill"), []byte("1"), 0o644)
	for i := 0; i < 50; i++ {
		if err := os.Remove(cg.dir); err == nil || errors.Is(err, os.ErrNotExist) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
