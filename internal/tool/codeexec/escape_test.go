package codeexec

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The sandbox escape suite. Each case runs an attack inside the sandbox
// and asserts that it fails. Attacks are written so that the blocked path
// prints "BLOCKED <what>" and the successful one prints "ESCAPED <what>";
// a case passes only when every expected BLOCKED line is there and nothing
// escaped (so a broken test program cannot pass by accident). More cases,
// which need host-side setup or tight limits, are in
// escape_resources_test.go.

// attackPrelude is prepended to every attack.
const attackPrelude = `
import ctypes, ctypes.util, errno, os, socket, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)

def attempt(what, fn):
    try:
        r = fn()
    except BaseException as e:
        print("BLOCKED", what, type(e).__name__, errno.errorcode.get(getattr(e, "errno", None) or 0, ""))
    else:
        print("ESCAPED", what, repr(r)[:200])

def check(what, rc):
    # A libc call: -1 is the blocked outcome.
    if rc == -1:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return rc

def run(*argv):
    p = subprocess.run(argv, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("exit %d: %s" % (p.returncode, (p.stdout + p.stderr).strip()[:200]))
    return p.stdout + p.stderr

def write(path, data="x"):
    with open(path, "w") as f:
        f.write(data)

def sys_keyctl(*args):
    return check("keyctl", libc.syscall(250 if os.uname().machine == "x86_64" else 219, *args))
`

// attack is one escape attempt.
type attack struct {
	name    string
	code    string
	blocked []string // each must appear as "BLOCKED <what>"
	absent  []string // must not appear in the output
}

var attacks = []attack{
	{
		name:    "read /etc/shadow and host users",
		code:    `attempt("shadow", lambda: open("/etc/shadow").read())` + "\n" + `attempt("gshadow", lambda: open("/etc/gshadow").read())` + "\n" + `print(open("/etc/passwd").read())`,
		blocked: []string{"shadow", "gshadow"},
		absent:  []string{"root:x:0"},
	},
	{
		name: "list host directories",
		code: `
for d in ["/root", "/home", "/var", "/srv", "/opt", "/mnt", "/run", "/sys", "/boot", "/media", "/data"]:
    attempt(d, lambda: os.listdir(d))
print(sorted(os.listdir("/")))
print(sorted(os.listdir("/etc")))`,
		blocked: []string{"/root", "/home", "/var", "/srv", "/opt", "/mnt", "/run", "/sys", "/boot", "/media", "/data"},
		absent:  []string{"'shadow'", "'ssh'", "'hostname'", "'resolv.conf'", "'environment'"},
	},
	{
		name: "write outside the work dir",
		code: `
for p in ["/usr/x", "/usr/lib/x", "/etc/x", "/etc/passwd", "/x", "/bin/x", "/lib/x", "/dev/x", "/proc/x", "/etc/alternatives/x"]:
    attempt(p, lambda: write(p))
attempt("chmod /usr", lambda: os.chmod("/usr/bin/python3", 0o777))
attempt("mkdir /new", lambda: os.mkdir("/new"))
attempt("rename", lambda: os.rename("/etc/passwd", "/sandbox/p"))`,
		blocked: []string{"/usr/x", "/usr/lib/x", "/etc/x", "/etc/passwd", "/x", "/bin/x", "/lib/x", "/dev/x", "/proc/x", "/etc/alternatives/x", "chmod /usr", "mkdir /new", "rename"},
	},
	{
		name: "external network",
		code: `
import time
t = time.time()
attempt("tcp 1.1.1.1:53", lambda: socket.create_connection(("1.1.1.1", 53), timeout=3))
attempt("udp 1.1.1.1:53", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("1.1.1.1", 53)))
attempt("tcp6", lambda: socket.create_connection(("2606:4700:4700::1111", 53), timeout=3))
attempt("dns", lambda: socket.getaddrinfo("example.com", 80))
print("elapsed", round(time.time() - t, 2))
print(sorted(os.listdir("/sys/class/net")) if os.path.exists("/sys/class/net") else "no /sys")
print(open("/proc/net/dev").read())`,
		blocked: []string{"tcp 1.1.1.1:53", "udp 1.1.1.1:53", "tcp6", "dns"},
		absent:  []string{"eth0", "ens", "wlan", "docker"},
	},
	{
		name: "ptrace",
		code: `
PTRACE_ATTACH, PTRACE_TRACEME = 16, 0
attempt("attach init", lambda: check("ptrace", libc.ptrace(PTRACE_ATTACH, 1, 0, 0)))
pid = os.fork()
if pid == 0:
    import time; time.sleep(5); os._exit(0)
attempt("attach child", lambda: check("ptrace", libc.ptrace(PTRACE_ATTACH, pid, 0, 0)))
attempt("traceme", lambda: check("ptrace", libc.ptrace(PTRACE_TRACEME, 0, 0, 0)))
attempt("mem of init", lambda: open("/proc/1/mem", "rb").read(1))
os.kill(pid, 9); os.waitpid(pid, 0)`,
		blocked: []string{"attach init", "attach child", "traceme", "mem of init"},
	},
	{
		name: "mount",
		code: `
attempt("mount tmpfs", lambda: check("mount", libc.mount(b"none", b"/sandbox", b"tmpfs", 0, None)))
attempt("remount / rw", lambda: check("mount", libc.mount(None, b"/", None, 32 | 4096, None)))
attempt("umount /usr", lambda: check("umount", libc.umount2(b"/usr", 2)))
attempt("mount(8)", lambda: run("mount", "-t", "tmpfs", "none", "/sandbox"))
attempt("pivot_root", lambda: check("pivot_root", libc.syscall(155 if os.uname().machine == "x86_64" else 41, b"/sandbox", b"/sandbox")))
attempt("chroot", lambda: os.chroot("/sandbox"))`,
		blocked: []string{"mount tmpfs", "remount / rw", "umount /usr", "mount(8)", "pivot_root", "chroot"},
	},
	{
		name: "setuid and privilege escalation",
		code: `
attempt("setuid 0", lambda: os.setuid(0))
attempt("setgid 0", lambda: os.setgid(0))
attempt("setgroups", lambda: os.setgroups([0]))
for argv in (["su", "-c", "id"], ["sudo", "id"], ["newgrp", "root"], ["unshare", "-r", "id"]):
    attempt(argv[0], lambda: run(*argv))
st = open("/proc/self/status").read()
print([l for l in st.splitlines() if l.startswith(("Uid", "Gid", "CapEff", "CapPrm", "CapBnd", "NoNewPrivs", "Seccomp"))])`,
		blocked: []string{"setuid 0", "setgid 0", "setgroups", "su", "sudo", "newgrp", "unshare"},
		absent:  []string{"uid=0", "CapEff:\\t000001", "NoNewPrivs:\\t0"},
	},
	{
		name: "devices",
		code: `
for d in ["/dev/mem", "/dev/kmem", "/dev/port", "/dev/sda", "/dev/vda", "/dev/nvme0n1", "/dev/kmsg", "/dev/loop0", "/dev/fuse", "/dev/net/tun"]:
    attempt(d, lambda: open(d, "rb").read(1))
import stat
attempt("mknod", lambda: os.mknod("/sandbox/disk", stat.S_IFBLK | 0o600, os.makedev(8, 0)))
attempt("mknod chr", lambda: os.mknod("/sandbox/mem", stat.S_IFCHR | 0o600, os.makedev(1, 1)))
print(sorted(os.listdir("/dev")))
print(len(open("/dev/urandom", "rb").read(16)), open("/dev/null", "rb").read())`,
		blocked: []string{"/dev/mem", "/dev/kmem", "/dev/port", "/dev/sda", "/dev/vda", "/dev/nvme0n1", "/dev/kmsg", "/dev/loop0", "/dev/fuse", "/dev/net/tun", "mknod", "mknod chr"},
		absent:  []string{"'sda'", "'nvme", "'mem'", "'kmsg'"},
	},
	{
		name: "kernel keyrings",
		code: `
KEYCTL_GET_KEYRING_ID, KEYCTL_JOIN_SESSION_KEYRING = 0, 1
attempt("keyctl session", lambda: sys_keyctl(KEYCTL_GET_KEYRING_ID, ctypes.c_long(-3), 0))
attempt("keyctl user", lambda: sys_keyctl(KEYCTL_GET_KEYRING_ID, ctypes.c_long(-4), 0))
attempt("join keyring", lambda: sys_keyctl(KEYCTL_JOIN_SESSION_KEYRING, None))
add_key = 248 if os.uname().machine == "x86_64" else 217
attempt("add_key", lambda: check("add_key", libc.syscall(add_key, b"user", b"k", b"v", 1, ctypes.c_long(-3))))`,
		blocked: []string{"keyctl session", "keyctl user", "join keyring", "add_key"},
	},
	{
		name: "new namespaces",
		code: `
CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWPID = 0x20000, 0x10000000, 0x40000000, 0x20000000
for name, flag in [("user", CLONE_NEWUSER), ("mount", CLONE_NEWNS), ("net", CLONE_NEWNET), ("pid", CLONE_NEWPID)]:
    attempt("unshare " + name, lambda: check("unshare", libc.unshare(flag)))
attempt("setns", lambda: check("setns", libc.setns(os.open("/proc/1/ns/mnt", os.O_RDONLY), 0)))
attempt("bwrap", lambda: run("bwrap", "--ro-bind", "/", "/", "true"))
attempt("unshare(1)", lambda: run("unshare", "--user", "--map-root-user", "id"))
print(open("/proc/sys/user/max_user_namespaces").read())`,
		blocked: []string{"unshare user", "unshare mount", "unshare net", "unshare pid", "setns", "bwrap", "unshare(1)"},
	},
	{
		name: "write /proc/sys and other kernel knobs",
		code: `
for p, v in [("/proc/sys/kernel/hostname", "evil"), ("/proc/sys/vm/drop_caches", "3"), ("/proc/sys/kernel/core_pattern", "|/bin/sh"),
             ("/proc/sysrq-trigger", "h"), ("/proc/sys/user/max_user_namespaces", "100"), ("/proc/self/setgroups", "allow"),
             ("/proc/1/oom_score_adj", "-1000")]:
    attempt(p, lambda: write(p, v))
attempt("sethostname", lambda: socket.sethostname("evil"))
attempt("settime", lambda: __import__("time").clock_settime(0, 1.0))
attempt("reboot", lambda: check("reboot", libc.reboot(0)))
attempt("bpf", lambda: check("bpf", libc.syscall(321 if os.uname().machine == "x86_64" else 280, 0, None, 0)))
attempt("perf", lambda: check("perf", libc.syscall(298 if os.uname().machine == "x86_64" else 241, None, 0, -1, -1, 0)))`,
		blocked: []string{"/proc/sys/kernel/hostname", "/proc/sys/vm/drop_caches", "/proc/sys/kernel/core_pattern", "/proc/sysrq-trigger",
			"/proc/sys/user/max_user_namespaces", "/proc/self/setgroups", "/proc/1/oom_score_adj", "sethostname", "settime", "reboot", "bpf", "perf"},
	},
	{
		name: "only the sandbox's processes are visible",
		code: `
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
cmds = [open("/proc/%d/comm" % p).read().strip() for p in pids]
print("PIDS", pids, cmds)
if len(pids) > 3 or set(cmds) - {"bwrap", "python3"}:
    print("ESCAPED other processes visible")
attempt("signal host pid", lambda: os.kill(HOSTPID, 0))
print(open("/proc/1/cmdline").read().split("\0")[0])`,
		blocked: []string{"signal host pid"},
		absent:  []string{"systemd", "containerd", "sshd", "codeexec.test"},
	},
	{
		name: "symlinks and links to host paths",
		code: `
os.symlink("/etc/shadow", "/sandbox/shadow-link.txt")
os.symlink(HOSTSECRET, "/sandbox/secret-link.txt")
os.symlink("/proc/1/root/etc/shadow", "/sandbox/root-link.txt")
for label, p in [("/sandbox/shadow-link.txt", "/sandbox/shadow-link.txt"), ("/sandbox/secret-link.txt", "/sandbox/secret-link.txt"),
                 ("/sandbox/root-link.txt", "/sandbox/root-link.txt"), ("/proc/self/root", "/proc/self/root" + HOSTSECRET),
                 ("/proc/1/root", "/proc/1/root" + HOSTSECRET), ("/proc/1/cwd", "/proc/1/cwd" + HOSTSECRET)]:
    attempt(label, lambda: open(p).read())
attempt("hard link python", lambda: os.link("/usr/bin/python3", "/sandbox/py"))
attempt("hard link passwd", lambda: os.link("/etc/passwd", "/sandbox/pw"))
os.symlink("/etc/passwd", "/sandbox/passwd.csv")`,
		blocked: []string{"/sandbox/shadow-link.txt", "/sandbox/secret-link.txt", "/sandbox/root-link.txt", "/proc/self/root", "/proc/1/root", "/proc/1/cwd", "hard link python", "hard link passwd"},
		absent:  []string{"passwd.csv", "sandbox:x:1000"},
	},
}

func TestEscapeSuite(t *testing.T) {
	secretDir := t.TempDir()
	if err := os.Chmod(secretDir, 0o755); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(secretDir, "secret.txt")
	if err := os.WriteFile(secret, []byte("host secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	// An abstract unix socket of the host: reachable only from the host's
	// network namespace.
	ln, err := net.Listen("unix", fmt.Sprintf("@tramontane-escape-%d", os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ix, _ := shared(t)
	attempts := 0
	for _, a := range attacks {
		attempts += len(a.blocked)
	}
	t.Logf("escape suite: %d attacks, %d attempts that must be blocked (plus the cases of escape_resources_test.go)", len(attacks), attempts)
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			code := attackPrelude + fmt.Sprintf("HOSTPID = %d\nHOSTSECRET = %q\n", os.Getpid(), secret) + a.code
			res := run(t, ix, conv(t), code)
			out := output(res)
			assertBlocked(t, out, a.blocked...)
			for _, bad := range a.absent {
				if strings.Contains(out, bad) {
					t.Errorf("output contains %q:\n%s", bad, out)
				}
			}
			for _, raw := range res.Chunks {
				if strings.Contains(string(raw), "link") || strings.Contains(string(raw), "passwd") {
					t.Errorf("a symlink was returned as a file: %s", raw)
				}
			}
			if strings.Contains(out, "host secret") {
				t.Errorf("the host secret leaked:\n%s", out)
			}
		})
	}
}

// assertBlocked checks the BLOCKED/ESCAPED protocol of an attack's output.
func assertBlocked(t *testing.T, out string, what ...string) {
	t.Helper()
	if strings.Contains(out, "ESCAPED") {
		t.Errorf("an attack succeeded:\n%s", out)
	}
	if strings.Contains(out, "Traceback") {
		t.Errorf("the attack program itself failed:\n%s", out)
	}
	for _, w := range what {
		if !strings.Contains(out, "BLOCKED "+w+" ") {
			t.Errorf("no BLOCKED line for %q:\n%s", w, out)
		}
	}
}
