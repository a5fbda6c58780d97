package codeexec

// More escape attempts for TestEscapeSuite: network in its other forms,
// kernel interfaces behind system calls the filter refuses, /proc, limits
// and identity. Each must print BLOCKED for every attempt.

func init() {
	attacks = append(attacks, moreAttacks...)
}

// nrPrelude picks system call numbers for the machine (x86_64 or arm64).
const nrPrelude = `
X86 = os.uname().machine == "x86_64"
def nr(x86, arm):
    return x86 if X86 else arm
def sys(what, x86, arm, *args):
    return check(what, libc.syscall(nr(x86, arm), *args))
`

var moreAttacks = []attack{
	{
		name: "IPv6 network",
		code: `
def v6(addr):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.settimeout(3)
    s.connect((addr, 80))
    return s
attempt("ipv6 external", lambda: v6("2606:4700:4700::1111"))
attempt("ipv6 mapped external", lambda: v6("::ffff:1.1.1.1"))`,
		blocked: []string{"ipv6 external", "ipv6 mapped external"},
	},
	{
		name: "UDP and DNS",
		code: `
def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(b"\x00", ("1.1.1.1", 53))
    return s.recv(10)
attempt("udp to a resolver", udp)
attempt("dns lookup", lambda: socket.getaddrinfo("example.com", 80))`,
		blocked: []string{"udp to a resolver", "dns lookup"},
	},
	{
		name: "raw and packet sockets",
		code: `
attempt("raw icmp", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
attempt("raw ipv6", lambda: socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6))
attempt("packet socket", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0))`,
		blocked: []string{"raw icmp", "raw ipv6", "packet socket"},
	},
	{
		name: "host unix sockets",
		code: `
def unix(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(3)
    s.connect(path)
    return s
attempt("docker socket", lambda: unix("/var/run/docker.sock"))
attempt("dbus system bus", lambda: unix("/run/dbus/system_bus_socket"))
attempt("abstract socket of the host", lambda: unix("\0tramontane-escape-%d" % HOSTPID))`,
		blocked: []string{"docker socket", "dbus system bus", "abstract socket of the host"},
	},
	{
		name: "kernel modules and kexec",
		code: nrPrelude + `
attempt("init_module", lambda: sys("init_module", 175, 105, 0, 0, 0))
attempt("finit_module", lambda: sys("finit_module", 313, 273, 0, 0, 0))
attempt("delete_module", lambda: sys("delete_module", 176, 106, b"ext4", 0))
attempt("kexec_load", lambda: sys("kexec_load", 246, 104, 0, 0, 0, 0))`,
		blocked: []string{"init_module", "finit_module", "delete_module", "kexec_load"},
	},
	{
		name: "bpf, perf and io_uring",
		code: nrPrelude + `
buf = ctypes.create_string_buffer(256)
attempt("bpf", lambda: sys("bpf", 321, 280, 0, buf, 128))
attempt("perf_event_open", lambda: sys("perf_event_open", 298, 241, buf, 0, -1, -1, 0))
attempt("io_uring_setup", lambda: sys("io_uring_setup", 425, 425, 8, buf))
attempt("userfaultfd", lambda: sys("userfaultfd", 323, 282, 0))`,
		blocked: []string{"bpf", "perf_event_open", "io_uring_setup", "userfaultfd"},
	},
	{
		name: "clocks",
		code: nrPrelude + `
import time
attempt("clock_settime", lambda: time.clock_settime(time.CLOCK_REALTIME, 0))
buf = ctypes.create_string_buffer(256)
attempt("adjtimex", lambda: sys("adjtimex", 159, 171, buf))
attempt("settimeofday", lambda: check("settimeofday", libc.settimeofday(buf, None)))`,
		blocked: []string{"clock_settime", "adjtimex", "settimeofday"},
	},
	{
		name: "reboot, swap and accounting",
		code: nrPrelude + `
attempt("reboot", lambda: sys("reboot", 169, 142, 0xfee1dead, 672274793, 0x1234567, 0))
write("/sandbox/swapfile", "x" * 4096)
attempt("swapon", lambda: sys("swapon", 167, 224, b"/sandbox/swapfile", 0))
attempt("acct", lambda: sys("acct", 163, 89, b"/sandbox/acct"))`,
		blocked: []string{"reboot", "swapon", "acct"},
	},
	{
		name: "identity: hostname, chroot, namespaces of pid 1",
		code: `
attempt("sethostname", lambda: socket.sethostname("pwned"))
attempt("chroot", lambda: os.chroot("/sandbox"))
attempt("join pid 1's mount namespace", lambda: check("setns", libc.setns(os.open("/proc/1/ns/mnt", os.O_RDONLY), 0)))`,
		blocked: []string{"sethostname", "chroot", "join pid 1's mount namespace"},
	},
	{
		name: "raise resource limits",
		code: `
import resource
for name in ["RLIMIT_NPROC", "RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE"]:
    r = getattr(resource, name)
    attempt(name, lambda: resource.setrlimit(r, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)))
attempt("nice -10", lambda: os.nice(-10))`,
		blocked: []string{"RLIMIT_NPROC", "RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "nice -10"},
	},
	{
		name: "kernel interfaces in /proc and /dev",
		code: `
attempt("/proc/kcore", lambda: open("/proc/kcore", "rb").read(16))
attempt("/proc/kmsg", lambda: open("/proc/kmsg", "rb").read(16))
attempt("/proc/sysrq-trigger", lambda: write("/proc/sysrq-trigger", "h"))
attempt("/proc/sys/kernel/core_pattern", lambda: write("/proc/sys/kernel/core_pattern", "|/sandbox/x"))
attempt("/dev/mem", lambda: open("/dev/mem", "rb").read(16))
attempt("/dev/kmsg", lambda: open("/dev/kmsg", "rb").read(16))
attempt("/dev/sda", lambda: open("/dev/sda", "rb").read(16))`,
		blocked: []string{"/proc/kcore", "/proc/kmsg", "/proc/sysrq-trigger", "/proc/sys/kernel/core_pattern", "/dev/mem", "/dev/kmsg", "/dev/sda"},
	},
	{
		name: "kernel log and file handles",
		code: nrPrelude + `
buf = ctypes.create_string_buffer(4096)
attempt("syslog", lambda: sys("syslog", 103, 116, 3, buf, 4096))
attempt("name_to_handle_at", lambda: sys("name_to_handle_at", 303, 264, -100, b"/etc/passwd", buf, buf, 0))
attempt("open_by_handle_at", lambda: sys("open_by_handle_at", 304, 265, -100, buf, 0))`,
		blocked: []string{"syslog", "name_to_handle_at", "open_by_handle_at"},
	},
	{
		name: "signal and read host processes",
		code: nrPrelude + `
attempt("kill the host", lambda: os.kill(HOSTPID, 0))
attempt("host /proc entry", lambda: open("/proc/%d/cmdline" % HOSTPID).read())
attempt("pidfd_open the host", lambda: sys("pidfd_open", 434, 434, HOSTPID, 0))
iov = ctypes.create_string_buffer(64)
attempt("process_vm_readv pid 1", lambda: sys("process_vm_readv", 310, 270, 1, iov, 1, iov, 1, 0))`,
		blocked: []string{"kill the host", "host /proc entry", "pidfd_open the host", "process_vm_readv pid 1"},
	},
	{
		name: "environment and host secrets",
		code: `
print(sorted(os.environ))
print(open("/proc/self/environ").read())
attempt("secret file by path", lambda: open(HOSTSECRET).read())
attempt("host home", lambda: os.listdir(os.path.expanduser("~root")))`,
		blocked: []string{"secret file by path", "host home"},
		absent:  []string{"TRAMONTANE", "DATABASE_URL", "MISTRAL_API_KEY", "GOPATH", "SSH_AUTH_SOCK"},
	},
	{
		name: "devices by mknod",
		code: `
import stat
attempt("block device", lambda: os.mknod("/sandbox/sda", stat.S_IFBLK | 0o600, os.makedev(8, 0)))
attempt("char device", lambda: os.mknod("/sandbox/mem", stat.S_IFCHR | 0o600, os.makedev(1, 1)))`,
		blocked: []string{"block device", "char device"},
	},
	{
		name: "write the read-only system",
		code: `
attempt("/usr/bin", lambda: write("/usr/bin/evil"))
attempt("/etc/passwd", lambda: write("/etc/passwd", "root::0:0::/:/bin/sh"))
attempt("python site-packages", lambda: write(os.path.join(os.path.dirname(os.__file__), "evil.py")))
attempt("/", lambda: write("/evil"))`,
		blocked: []string{"/usr/bin", "/etc/passwd", "python site-packages", "/"},
	},
}
