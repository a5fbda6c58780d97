# Tramontane code_interpreter driver: a tiny notebook kernel that runs
# inside the bubblewrap sandbox. It speaks line-delimited JSON with the
# server over its original stdin/stdout:
#
#   server -> driver  {"type":"exec","id":N,"code":"..."}
#                     {"type":"interrupt"}       (KeyboardInterrupt the cell)
#   driver -> server  {"type":"ready","python":"3.11.2"}
#                     {"type":"result","id":N,"output":"...","value":"...",
#                      "error":"...","files":[...],"skipped":[...]}
#
# User code's stdout/stderr (including subprocesses writing to fd 1/2) are
# captured through a pipe; the protocol uses private duplicates of the
# original descriptors. Everything here is untrusted from the server's point
# of view: the server validates and bounds whatever comes back.
import ast
import base64
import builtins
import importlib.abc
import importlib.util
import json
import linecache
import math
import os
import queue
import resource
import signal
import sys
import threading
import traceback
import types

# Started as: python3 -I -B -c <loader> <this source> <config JSON>; the
# loader compiles this source as "<tramontane-driver>" so that its frames
# can be told apart from the user's in tracebacks.
CFG = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
sys.argv = [""]
WORK = CFG.get("workdir", "/sandbox")
OUT_LIMIT = int(CFG.get("output_bytes", 16384))
MAX_FILES = int(CFG.get("max_files", 10))
FILES_BYTES = int(CFG.get("files_bytes", 16 << 20))
CPU_PER_CALL = int(CFG.get("cpu_seconds", 0))
SCAN_LIMIT = 5000

# Private protocol channels; fds 0/1/2 are rewired for user code.
_proto_in = os.fdopen(os.dup(0), "rb")
_proto_out = os.fdopen(os.dup(1), "wb")
_proto_lock = threading.Lock()


def send(msg):
    data = json.dumps(msg, ensure_ascii=True).encode() + b"\n"
    with _proto_lock:
        _proto_out.write(data)
        _proto_out.flush()


_null = os.open("/dev/null", os.O_RDONLY)
os.dup2(_null, 0)
os.close(_null)
_cap_r, _cap_w = os.pipe()
os.set_inheritable(_cap_r, False)
os.dup2(_cap_w, 1)
os.dup2(_cap_w, 2)
_streams = {}


def reset_streams():
    """Points sys.stdin/stdout/stderr at fds 0/1/2 again (user code may have replaced or closed them)."""
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        f = _streams.get(fd)
        if f is None or f.closed:
            if mode == "r":
                f = open(fd, "r", closefd=False)
            else:
                f = open(fd, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)
            _streams[fd] = f
        setattr(sys, name, f)
        setattr(sys, "__%s__" % name, f)


reset_streams()


class Capture:
    """Keeps the first and last OUT_LIMIT bytes written to fds 1 and 2."""

    def __init__(self):
        self.lock = threading.Lock()
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self.marker = None
        self.seen = threading.Event()
        self.carry = b""

    def reset(self, marker):
        with self.lock:
            self.head, self.tail, self.total = bytearray(), bytearray(), 0
            self.marker, self.carry = marker, b""
            self.seen.clear()

    def feed(self, data):
        with self.lock:
            m = self.marker
            if m is None:
                self._add(data)
                return
            joined = self.carry + data
            i = joined.find(m)
            if i >= 0:
                self._add(joined[:i])
                self.marker, self.carry = None, b""
                self.seen.set()
                self._add(joined[i + len(m):])
                return
            keep = len(m) - 1
            if len(joined) > keep:
                self._add(joined[:-keep])
                self.carry = joined[-keep:]
            else:
                self.carry = joined

    def expect(self, marker):
        with self.lock:
            self.marker, self.carry = marker, b""
            self.seen.clear()

    def _add(self, data):
        if not data:
            return
        self.total += len(data)
        room = OUT_LIMIT - len(self.head)
        if room > 0:
            self.head += data[:room]
        self.tail += data
        if len(self.tail) > OUT_LIMIT:
            del self.tail[: len(self.tail) - OUT_LIMIT]

    def text(self):
        with self.lock:
            if self.total <= OUT_LIMIT:
                return bytes(self.head).decode("utf-8", "replace")
            half = OUT_LIMIT // 2
            omitted = self.total - 2 * half
            return (bytes(self.head[:half]).decode("utf-8", "replace")
                    + "\n... [%d bytes of output omitted] ...\n" % omitted
                    + bytes(self.tail[-half:]).decode("utf-8", "replace"))


capture = Capture()


def _pump():
    while True:
        try:
            data = os.read(_cap_r, 65536)
        except InterruptedError:
            continue
        if not data:
            return
        capture.feed(data)


threading.Thread(target=_pump, daemon=True).start()


def clip(s, limit=OUT_LIMIT):
    if s is None or len(s) <= limit:
        return s
    keep = limit // 4
    return s[:keep] + "\n... [%d characters omitted] ...\n" % (len(s) - limit) + s[len(s) - (limit - keep):]


# --- limits and interruption ------------------------------------------------

class CPUTimeLimitExceeded(BaseException):
    """Raised in the cell when it used up its CPU-time budget."""


_busy = False


def _on_xcpu(signum, frame):
    if _busy:
        raise CPUTimeLimitExceeded("the cell used more than %d seconds of CPU time" % CPU_PER_CALL)


def _on_int(signum, frame):
    if _busy:
        raise KeyboardInterrupt


signal.signal(signal.SIGXCPU, _on_xcpu)
signal.signal(signal.SIGINT, _on_int)
MAIN_THREAD = threading.main_thread().ident


def arm_cpu_limit():
    if CPU_PER_CALL <= 0:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    want = math.ceil(ru.ru_utime + ru.ru_stime) + CPU_PER_CALL
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (want, hard))
    except (ValueError, OSError):
        pass


# --- matplotlib: a backend whose show() saves figures as files -------------

_plot_counter = [0]


def save_figures():
    """Saves every open pyplot figure as plot_N.png in the work dir and closes it."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return
    try:
        nums = plt.get_fignums()
    except Exception:
        return
    for num in nums:
        while os.path.exists(os.path.join(WORK, "plot_%d.png" % _plot_counter[0])):
            _plot_counter[0] += 1
        path = os.path.join(WORK, "plot_%d.png" % _plot_counter[0])
        _plot_counter[0] += 1
        try:
            fig = plt.figure(num)
            fig.savefig(path, format="png")
        except Exception as e:
            print("could not save figure %s: %s" % (num, e), file=sys.stderr)
        finally:
            try:
                plt.close(num)
            except Exception:
                pass


class _BackendFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    NAME = "_tramontane_backend"

    def find_spec(self, name, path=None, target=None):
        if name == self.NAME:
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, mod):
        from matplotlib.backend_bases import FigureManagerBase
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        mod.FigureCanvas = FigureCanvasAgg
        mod.FigureManager = FigureManagerBase

        def show(*args, **kwargs):
            save_figures()

        mod.show = show


sys.meta_path.append(_BackendFinder())
os.environ["MPLBACKEND"] = "module://" + _BackendFinder.NAME

# --- output files -------------------------------------------------------------


def scan():
    """Maps relative paths of visible regular files under WORK to (mtime, size, inode)."""
    seen = {}
    for root, dirs, files in os.walk(WORK):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for f in sorted(files):
            if f.startswith("."):
                continue
            p = os.path.join(root, f)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if not (st.st_mode & 0o170000 == 0o100000):
                continue
            seen[os.path.relpath(p, WORK)] = (st.st_mtime_ns, st.st_size, st.st_ino)
            if len(seen) >= SCAN_LIMIT:
                return seen
    return seen


def collect(before):
    after = scan()
    changed = [p for p, v in after.items() if before.get(p) != v]
    changed.sort(key=lambda p: (after[p][0], p))
    files, skipped, budget = [], [], FILES_BYTES
    for p in changed:
        size = after[p][1]
        if len(files) >= MAX_FILES:
            skipped.append({"path": p, "reason": "more than %d files were written in one call" % MAX_FILES})
            continue
        if size > budget:
            skipped.append({"path": p, "reason": "over the %d-byte limit of files per call" % FILES_BYTES})
            continue
        try:
            with open(os.path.join(WORK, p), "rb") as fh:
                data = fh.read(budget + 1)
        except OSError as e:
            skipped.append({"path": p, "reason": str(e)})
            continue
        if len(data) > budget:
            skipped.append({"path": p, "reason": "over the %d-byte limit of files per call" % FILES_BYTES})
            continue
        budget -= len(data)
        files.append({"path": p, "size": len(data), "data": base64.b64encode(data).decode()})
    return files, skipped


# --- execution ----------------------------------------------------------------

main_mod = types.ModuleType("__main__")
main_mod.__builtins__ = builtins
sys.modules["__main__"] = main_mod
NS = main_mod.__dict__
sys.path.insert(0, WORK)
try:
    os.chdir(WORK)
except OSError:
    pass


DRIVER_FILE = sys._getframe().f_code.co_filename


def format_error(e, filename):
    """Formats e like a notebook: cell frames and below, without the driver's own frames."""
    tb = e.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    if isinstance(e, SyntaxError):
        return "".join(traceback.format_exception_only(type(e), e))
    te = traceback.TracebackException(type(e), e, tb)
    te.stack = traceback.StackSummary.from_list([f for f in te.stack if f.filename != DRIVER_FILE])
    return "".join(te.format())


def run_cell(n, code):
    """Runs code like a notebook cell; returns (value repr or None, error text or None)."""
    global _busy
    filename = "<cell-%d>" % n
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    value, error = None, None
    try:
        tree = ast.parse(code, filename, "exec")
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        body = compile(tree, filename, "exec")
        tail = compile(last, filename, "eval") if last is not None else None
        arm_cpu_limit()
        _busy = True
        try:
            exec(body, NS)
            if tail is not None:
                v = eval(tail, NS)
                if v is not None:
                    NS["_"] = v
                    value = repr(v)
        finally:
            _busy = False
    except BaseException as e:  # the cell's failure is the cell's output
        _busy = False
        try:
            error = format_error(e, filename)
        except BaseException:
            error = "%s: %s\n" % (type(e).__name__, e)
    return clip(value), clip(error)


requests = queue.Queue()


def _reader():
    while True:
        line = _proto_in.readline()
        if not line:
            os._exit(0)
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("type") == "interrupt":
            if _busy:
                # A real signal to the main thread also interrupts a
                # blocking system call (sleep, read, wait).
                signal.pthread_kill(MAIN_THREAD, signal.SIGINT)
        else:
            requests.put(msg)


def sync_output(n):
    """Waits until everything written to fds 1/2 so far has been captured."""
    marker = ("\x00tramontane-sync-%d-%s\x00" % (n, os.urandom(8).hex())).encode()
    capture.expect(marker)
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except Exception:
            pass
    try:
        os.dup2(_cap_w, 1)
        os.dup2(_cap_w, 2)
        os.write(_cap_w, marker)
    except OSError:
        return
    capture.seen.wait(2)


def main():
    threading.Thread(target=_reader, daemon=True).start()
    send({"type": "ready", "python": sys.version.split()[0]})
    while True:
        msg = requests.get()
        if msg.get("type") != "exec":
            continue
        n = int(msg.get("id", 0))
        before = scan()
        capture.reset(None)
        reset_streams()
        value, error = run_cell(n, msg.get("code", ""))
        try:
            save_figures()
        except BaseException:
            pass
        sync_output(n)
        files, skipped = collect(before)
        send({"type": "result", "id": n, "output": capture.text(), "value": value,
              "error": error, "files": files, "skipped": skipped})


main()
