package codeexec

import (
	"errors"
	"fmt"
	"github.com/tramontane/tramontane/internal/config"
	"time"
)

// Config is the code_interpreter section of the config file:
//
//	code_interpreter:
//	  enabled: true
//	  timeout: 60s
//	  memory_bytes: 2147483648
//
// Zero values take the defaults of DefaultConfig.
type Config struct {
	// Enabled turns the connector on (default true). When false, calls
	// fail with "code_interpreter is disabled".
	Enabled *bool `yaml:"enabled"`
	// BwrapPath is the bubblewrap binary (default /usr/bin/bwrap).
	BwrapPath string `yaml:"bwrap_path"`
	// Python is the interpreter inside the sandbox (default /usr/bin/python3;
	// Debian's, with python3-numpy, python3-pandas and python3-matplotlib).
	Python string `yaml:"python"`
	// Prlimit is util-linux's prlimit, run inside the sandbox to apply the
	// resource limits (default /usr/bin/prlimit).
	Prlimit string `yaml:"prlimit"`
	// UID and GID run the sandbox when the server is root (default
	// 65534/65534, nobody/nogroup), so that the sandbox user never maps to
	// host root. Must not be 0. A non-root server runs sandboxes as itself.
	UID *int `yaml:"uid"`
	GID *int `yaml:"gid"`
	// Timeout is the wall-clock limit of one call (default 60s); when it
	// passes the session is killed.
	Timeout time.Duration `yaml:"timeout"`
	// CPUSeconds is the CPU time one call may use (default 60, RLIMIT_CPU
	// soft limit re-armed per call; the cell gets CPUTimeLimitExceeded).
	CPUSeconds int `yaml:"cpu_seconds"`
	// SessionCPUSeconds is the CPU time a whole session may use (default
	// 1800, RLIMIT_CPU hard limit: the kernel kills the session).
	SessionCPUSeconds int `yaml:"session_cpu_seconds"`
	// MemoryBytes is the address-space limit of each sandbox process
	// (RLIMIT_AS, default 2 GiB), and the cgroup memory.max when cgroups are
	// used.
	MemoryBytes int64 `yaml:"memory_bytes"`
	// MaxProcesses bounds the tasks (processes and threads) of one sandbox
	// (RLIMIT_NPROC applied inside the sandbox's own user namespace, so it
	// counts that sandbox only; default 64). Also the cgroup pids.max.
	MaxProcesses int `yaml:"max_processes"`
	// MaxFileBytes is the largest file a sandbox may write (RLIMIT_FSIZE,
	// default 64 MiB).
	MaxFileBytes int64 `yaml:"max_file_bytes"`
	// MaxOpenFiles is RLIMIT_NOFILE (default 256).
	MaxOpenFiles int `yaml:"max_open_files"`
	// WorkdirBytes is the size of the sandbox's tmpfs work dir /sandbox, which
	// also holds /tmp (default 256 MiB).
	WorkdirBytes int64 `yaml:"workdir_bytes"`
	// IdleTimeout ends a conversation's session after this long without a
	// call (default 15m). Its variables and files are then gone.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxSessions bounds live sessions; the least recently used idle one
	// is evicted to start another (default 16).
	MaxSessions int `yaml:"max_sessions"`
	// OutputBytes bounds the stdout/stderr kept per call: the first and
	// last halves are kept (default 16 KiB).
	OutputBytes int `yaml:"output_bytes"`
	// MaxOutputFiles bounds the files one call may return (default 10).
	MaxOutputFiles int `yaml:"max_output_files"`
	// OutputFilesBytes bounds the total size of files one call returns
	// (default 16 MiB).
	OutputFilesBytes int64 `yaml:"output_files_bytes"`
	// Cgroup selects cgroup v2 limits: "auto" (default: use the server's own
	// cgroup when its subtree_control already delegates memory and pids),
	// "off", or the path of a delegated cgroup v2 directory.
	Cgroup string `yaml:"cgroup"`
	// CgroupCPUs is the CPU bandwidth of one session when cgroups are used
	// (cpu.max, default 1 CPU).
	CgroupCPUs float64 `yaml:"cgroup_cpus"`
}

// DefaultConfig returns the built-in settings.
func DefaultConfig() Config {
	t, uid, gid := true, 65534, 65534
	return Config{
		Enabled:           &t,
		BwrapPath:         "/usr/bin/bwrap",
		Python:            "/usr/bin/python3",
		Prlimit:           "/usr/bin/prlimit",
		UID:               &uid,
		GID:               &gid,
		Timeout:           60 * time.Second,
		CPUSeconds:        60,
		SessionCPUSeconds: 1800,
		MemoryBytes:       2 << 30,
		MaxProcesses:      64,
		MaxFileBytes:      64 << 20,
		MaxOpenFiles:      256,
		WorkdirBytes:      256 << 20,
		IdleTimeout:       15 * time.Minute,
		MaxSessions:       16,
		OutputBytes:       16 << 10,
		MaxOutputFiles:    10,
		OutputFilesBytes:  16 << 20,
		Cgroup:            "auto",
		CgroupCPUs:        1,
	}
}

// withDefaults fills unset fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Enabled == nil {
		c.Enabled = d.Enabled
	}
	str := func(v *string, def string) {
		if *v == "" {
			*v = def
		}
	}
	str(&c.BwrapPath, d.BwrapPath)
	str(&c.Python, d.Python)
	str(&c.Prlimit, d.Prlimit)
	str(&c.Cgroup, d.Cgroup)
	if c.UID == nil {
		c.UID = d.UID
	}
	if c.GID == nil {
		c.GID = d.GID
	}
	num := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	num64 := func(v *int64, def int64) {
		if *v == 0 {
			*v = def
		}
	}
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = d.IdleTimeout
	}
	num(&c.CPUSeconds, d.CPUSeconds)
	num(&c.SessionCPUSeconds, d.SessionCPUSeconds)
	num64(&c.MemoryBytes, d.MemoryBytes)
	num(&c.MaxProcesses, d.MaxProcesses)
	num64(&c.MaxFileBytes, d.MaxFileBytes)
	num(&c.MaxOpenFiles, d.MaxOpenFiles)
	num64(&c.WorkdirBytes, d.WorkdirBytes)
	num(&c.MaxSessions, d.MaxSessions)
	num(&c.OutputBytes, d.OutputBytes)
	num(&c.MaxOutputFiles, d.MaxOutputFiles)
	num64(&c.OutputFilesBytes, d.OutputFilesBytes)
	if c.CgroupCPUs == 0 {
		c.CgroupCPUs = d.CgroupCPUs
	}
	return c
}

// Validate reports settings that cannot work. It is called by New after
// defaults are applied.
func (c Config) Validate() error {
	var errs []error
	check := func(name string, cond bool, msg string) {
		if cond {
			errs = append(errs, fmt.Errorf("code_interpreter.%s: %s", name, msg))
		}
	}
	check("uid", c.UID != nil && *c.UID <= 0, "must be a positive, unprivileged uid (the sandbox must never run as root)")
	check("gid", c.GID != nil && *c.GID <= 0, "must be a positive, unprivileged gid")
	check("timeout", c.Timeout < 0, "must be positive")
	check("idle_timeout", c.IdleTimeout < 0, "must be positive")
	check("cpu_seconds", c.CPUSeconds < 0, "must be positive")
	check("session_cpu_seconds", c.SessionCPUSeconds < c.CPUSeconds, "must be at least cpu_seconds")
	check("memory_bytes", c.MemoryBytes < 0 || (c.MemoryBytes > 0 && c.MemoryBytes < 64<<20), "must be at least 64 MiB")
	check("max_processes", c.MaxProcesses < 0 || (c.MaxProcesses > 0 && c.MaxProcesses < 4), "must be at least 4")
	check("max_file_bytes", c.MaxFileBytes < 0, "must be positive")
	check("max_open_files", c.MaxOpenFiles < 0 || (c.MaxOpenFiles > 0 && c.MaxOpenFiles < 32), "must be at least 32")
	check("workdir_bytes", c.WorkdirBytes < 0 || (c.WorkdirBytes > 0 && c.WorkdirBytes < 1<<20), "must be at least 1 MiB")
	check("max_sessions", c.MaxSessions < 0, "must be positive")
	check("output_bytes", c.OutputBytes < 0 || (c.OutputBytes > 0 && c.OutputBytes < 256), "must be at least 256")
	check("max_output_files", c.MaxOutputFiles < 0, "must be positive")
	check("output_files_bytes", c.OutputFilesBytes < 0, "must be positive")
	check("cgroup_cpus", c.CgroupCPUs < 0, "must be positive")
	return errors.Join(errs...)
}

// ParseConfig reads the code_interpreter section of a config file (the
// whole file's content; an absent section gives the defaults). Unknown
// keys are errors.
func ParseConfig(file []byte) (Config, error) {
	var c Config
	if _, err := config.Section(file, "code_interpreter", &c); err != nil {
		return Config{}, err
	}
	c = c.withDefaults()
	return c, c.Validate()
}
