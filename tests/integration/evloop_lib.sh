# Shared by tests/integration/test_evloop_*.sh (issue 4: event loops).
# Source after lib.sh. POSIX sh.
#
# Gives:
#   ev_need_preload, ev_need_launcher, ev_need_progs   fail clearly if missing
#   ev_connect_cfg PORT [KEYS]  config text: one client rule for 127.0.0.1:PORT
#   ev_accept_cfg PORT [KEYS]   config text: one server rule for *:PORT
#   $EVPY (an interpreter that takes LD_PRELOAD: not a shell shim) and
#   $EV (the Python helper below, written to $T/ev.py): TLS and plain peers
#   (echo, send, close, sink, line servers; a slow handshake on request), a
#   recording relay, TLS clients (parallel echo, line, fork-checking,
#   trickled ClientHello, fetch), and the asyncio / forking programs that
#   run under the interposer; $T/node-client.js and $T/node-server.js.
#   ev_wait_file FILE PATTERN [SECONDS]   until a log line appears
#   ev_cpu_ms PID                          CPU time of a process, in ms
#   ev_children PID                        its children's PIDs

# pyenv and similar put a shell script first in PATH; resolve the real
# interpreter so that LD_PRELOAD lands in the process that makes the sockets.
EVPY=$(python3 -c 'import sys; print(sys.executable)')
EV=$T/ev.py

ev_need_preload() {
	[ -f "$PRELOAD_SO" ] || fail "$PRELOAD_SO does not exist: build the interposer first"
}
ev_need_launcher() {
	[ -x "$TLSSHIM" ] || fail "$TLSSHIM does not exist: build the launcher first"
}
ev_need_progs() {
	for _p in "$@"; do
		[ -x "$PROGS/$_p" ] || fail "$PROGS/$_p does not exist: make BUILD=... progs"
	done
}

ev_connect_cfg() {
	printf 'version = 1;\nconnect = ( { match = "127.0.0.1:%s"; ca_certs = "%s"; %s } );\n' \
		"$1" "$CERTS/ca.pem" "${2:-}"
}
ev_accept_cfg() {
	printf 'version = 1;\naccept = ( { match = "*:%s"; certfile = "%s"; keyfile = "%s"; %s } );\n' \
		"$1" "$CERTS/server.pem" "$CERTS/server.key" "${2:-}"
}

# ev_wait_file FILE PATTERN [SECONDS]: waits until FILE has a line with
# PATTERN (a program's own "ready" or "accepted" line), else fails.
ev_wait_file() {
	_n=$(( ${3:-10} * 20 ))
	while [ $_n -gt 0 ]; do
		if [ -f "$1" ] && grep -q -- "$2" "$1"; then return 0; fi
		sleep 0.05
		_n=$((_n - 1))
	done
	echo "--- $1:" >&2; head -c 3000 "$1" >&2 2>/dev/null
	fail "[$2] never appeared in $1"
}

# ev_cpu_ms PID: user + system CPU time of a process so far, in ms
# (/proc/PID/stat, clock ticks).
ev_cpu_ms() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print int(($12 + $13) * 1000 / hz) }' \
		"/proc/$1/stat"
}

# ev_children PID: the PIDs of PID's children, one a line (from /proc, so
# that no procps is needed).
ev_children() {
	for _st in /proc/[0-9]*/stat; do
		awk -v p="$1" '{ sub(/^.*\) /, ""); if ($2 == p) { split(FILENAME, f, "/"); print f[3] } }' \
			"$_st" 2>/dev/null
	done
}

# ev_marker_file FILE MIB MARKER: random data with MARKER written every
# 64 KiB, so that any plaintext that reaches the wire contains it.
ev_marker_file() {
	"$EVPY" - "$1" "$2" "$3" <<'PY'
import os, sys
path, mib, marker = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
with open(path, "wb") as f:
    for _ in range(mib * 16):
        chunk = bytearray(os.urandom(65536))
        chunk[1000:1000 + len(marker)] = marker
        f.write(chunk)
PY
}

cat > "$EV" <<'PY'
"""Peers and programs for the event-loop integration tests (issue 4).

TLS peers use Python's own ssl module and never run under the interposer;
the asyncio client and the forking server are plain programs that do.
Every blocking call has a timeout so that a broken interposer fails a test
instead of hanging it.
"""
import argparse, asyncio, hashlib, os, socket, socketserver, ssl, struct
import sys, threading, time
from concurrent.futures import ThreadPoolExecutor

CERTS = os.environ.get("EV_CERTS", "")


def say(*a):
    print(*a, flush=True)


def server_ctx():
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    c.load_cert_chain(os.path.join(CERTS, "server.pem"), os.path.join(CERTS, "server.key"))
    return c


def client_ctx():
    return ssl.create_default_context(cafile=os.path.join(CERTS, "ca.pem"))


def listener(port, family=socket.AF_INET):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", port))
    s.listen(128)
    return s


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        d = s.recv(min(n - len(buf), 1 << 20))
        if not d:
            raise EOFError("EOF after %d of %d bytes" % (len(buf), n))
        buf += d
    return bytes(buf)


def serve_threads(a, handle):
    """Accepts forever; each connection (TLS unless --plain, handshake after
    --handshake-delay seconds) is handled in its own thread."""
    ls = listener(a.port)
    ctx = None if a.plain else server_ctx()
    if ctx is not None and a.no_tickets:
        ctx.num_tickets = 0  # no TLS 1.3 NewSessionTicket after the handshake
    say("listening", a.port)

    def run(c, peer):
        try:
            c.settimeout(a.timeout)
            if ctx is not None:
                c = ctx.wrap_socket(c, server_side=True, do_handshake_on_connect=False)
                if a.handshake_delay:
                    time.sleep(a.handshake_delay)
                c.do_handshake()
            handle(c)
        except Exception as e:  # a peer's failure is logged; the test decides
            say("conn-error", peer, type(e).__name__, e)
        finally:
            c.close()

    while True:
        c, peer = ls.accept()
        threading.Thread(target=run, args=(c, peer), daemon=True).start()


def cmd_echo_server(a):
    def handle(c):
        n = 0
        while True:
            d = c.recv(65536)
            if not d:
                break
            c.sendall(d)
            n += len(d)
        say("echoed", n)
    serve_threads(a, handle)


def cmd_send_server(a):
    """After --delay seconds, sends --msg in one write (one TLS record), then
    waits for the client to close."""
    def handle(c):
        if a.delay:
            time.sleep(a.delay)
        c.sendall(a.msg.encode())
        while c.recv(4096):
            pass
        say("closed")
    serve_threads(a, handle)


def cmd_close_server(a):
    """Handshakes, then closes at once (no close_notify: Python's close does
    not send one), so that the client's writes end in EPIPE."""
    def handle(c):
        say("closing")
    serve_threads(a, handle)


def cmd_sink_server(a):
    """Reads an 8-byte big-endian length and that many bytes, answers
    'ok SIZE SHA256' (then, with --echo, the data itself) and keeps the
    data in --dir/conn-N.bin."""
    counter = [0]
    lock = threading.Lock()

    def handle(c):
        n = struct.unpack(">Q", recv_exact(c, 8))[0]
        data = recv_exact(c, n)
        with lock:
            counter[0] += 1
            k = counter[0]
        with open(os.path.join(a.dir, "conn-%d.bin" % k), "wb") as f:
            f.write(data)
        c.sendall(("ok %d %s\n" % (n, hashlib.sha256(data).hexdigest())).encode())
        if a.echo:
            c.sendall(data)
        say("sink", k, n)
    serve_threads(a, handle)


def cmd_line_server(a):
    """TLS server for a client under a connect rule: echoes each line with
    'echo: ' in front; closes after the client half-closes."""
    def handle(c):
        f = c.makefile("rb")
        for line in f:
            c.sendall(b"echo: " + line)
        say("client done")
    serve_threads(a, handle)


def cmd_relay(a):
    """TCP relay 127.0.0.1:--port -> 127.0.0.1:--to that appends every byte
    it carries, both directions, to --record."""
    ls = listener(a.port)
    rec = open(a.record, "ab")
    lock = threading.Lock()
    total = [0]
    say("listening", a.port)

    def pump(src, dst):
        try:
            while True:
                d = src.recv(1 << 16)
                if not d:
                    break
                with lock:
                    rec.write(d)
                    rec.flush()
                    total[0] += len(d)
                dst.sendall(d)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    while True:
        c, _ = ls.accept()
        u = socket.create_connection(("127.0.0.1", a.to), timeout=30)
        threading.Thread(target=pump, args=(c, u), daemon=True).start()
        threading.Thread(target=pump, args=(u, c), daemon=True).start()


def cmd_tls_clients(a):
    """--count TLS connections (--parallel at a time): each sends a random
    block and checks its echo."""
    ctx = client_ctx()

    def one(i):
        data = os.urandom(a.size + i % 977)
        with socket.create_connection(("127.0.0.1", a.port), timeout=a.timeout) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(data)
                got = recv_exact(s, len(data))
                if got != data:
                    raise AssertionError("connection %d: echo differs" % i)
        return True

    bad = 0
    with ThreadPoolExecutor(a.parallel) as ex:
        for i, f in enumerate([ex.submit(one, i) for i in range(a.count)]):
            try:
                f.result()
            except Exception as e:
                bad += 1
                say("client", i, "failed:", type(e).__name__, e)
    say("clients ok", a.count - bad, "of", a.count)
    sys.exit(1 if bad else 0)


def cmd_line_client(a):
    """One TLS client: sends a line, prints the answer and how long it took
    from connect to answer."""
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", a.port), timeout=a.timeout) as raw:
        with client_ctx().wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(a.line.encode() + b"\n")
            got = s.makefile("rb").readline()
    say("answer", got.decode().strip(), "after %.2f s" % (time.monotonic() - t0))


def cmd_slow_hello(a):
    """A TLS client whose ClientHello trickles out in 4 pieces over --delay
    seconds (the server's handshake gets partial records and must wait
    without spinning), then an echo of --line; with --line greeting it
    sends nothing and reads the server's 'hello' line."""
    ctx = client_ctx()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    sock = socket.create_connection(("127.0.0.1", a.port), timeout=a.timeout)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = out.read()
    step = (len(hello) + 3) // 4
    for i in range(0, len(hello), step):
        sock.sendall(hello[i:i + step])
        time.sleep(a.delay / 4)

    def pump_until(done):
        while True:
            try:
                return done()
            except ssl.SSLWantReadError:
                pending = out.read()
                if pending:
                    sock.sendall(pending)
                d = sock.recv(65536)
                if not d:
                    raise EOFError("server closed during the handshake")
                inc.write(d)
    pump_until(obj.do_handshake)
    sock.sendall(out.read())
    if a.line != "greeting":  # else the server speaks first
        obj.write(a.line.encode() + b"\n")
        sock.sendall(out.read())
    want = len(a.line) + 1 if a.line != "greeting" else len("hello\n")
    got = b""
    while len(got) < want:
        got += pump_until(lambda: obj.read(want - len(got)))
    say("slow hello answer", got.decode().strip())
    sock.close()


def cmd_fork_clients(a):
    """--count clients in a row: each sends a line, reads the answer, then
    requires a clean TLS close (close_notify, not a reset or a bare EOF)."""
    ctx = client_ctx()
    bad = 0
    for i in range(a.count):
        try:
            with socket.create_connection(("127.0.0.1", a.port), timeout=a.timeout) as raw:
                s = ctx.wrap_socket(raw, server_hostname="localhost",
                                    suppress_ragged_eofs=False)
                s.sendall(b"hello %d\n" % i)
                buf = b""
                while True:
                    d = s.recv(4096)  # b"" only after a close_notify
                    if not d:
                        break
                    buf += d
                if buf != b"echo: hello %d\n" % i:
                    raise AssertionError("answer %r" % buf)
                s.close()
        except Exception as e:
            bad += 1
            say("client", i, "failed:", type(e).__name__, e)
    say("fork clients ok", a.count - bad, "of", a.count)
    sys.exit(1 if bad else 0)


def cmd_forking_server(a):
    """A plain ForkingTCPServer: the parent accepts and closes its copy, the
    child answers one line and ends the connection."""
    class H(socketserver.StreamRequestHandler):
        def handle(self):
            line = self.rfile.readline()
            self.wfile.write(b"echo: " + line)

    class S(socketserver.ForkingTCPServer):
        allow_reuse_address = True

        def process_request(self, request, client_address):
            say("accepted", client_address[1])
            super().process_request(request, client_address)

    with S(("127.0.0.1", a.port), H) as srv:
        say("listening", a.port)
        srv.serve_forever()


def cmd_asyncio_server(a):
    """A plain asyncio echo server (the default loop: epoll selector) on
    127.0.0.1:--port; each connection echoes until EOF."""
    async def handle(r, w):
        n = 0
        while True:
            d = await r.read(65536)
            if not d:
                break
            w.write(d)
            await w.drain()
            n += len(d)
        w.close()
        say("echoed", n)

    async def main():
        srv = await asyncio.start_server(handle, "127.0.0.1", a.port)
        say("selector", type(asyncio.get_running_loop()._selector).__name__)
        say("listening", a.port)
        async with srv:
            await srv.serve_forever()
    asyncio.run(main())


def cmd_asyncio_sendfile_server(a):
    """A plain asyncio server that answers each request line with the file
    --record through loop.sendfile (os.sendfile on a non-blocking socket,
    retried on EAGAIN), then closes."""
    async def handle(r, w):
        await r.readline()
        with open(a.record, "rb") as f:
            n = await asyncio.get_running_loop().sendfile(w.transport, f)
        say("sent", n)
        w.close()

    async def main():
        srv = await asyncio.start_server(handle, "127.0.0.1", a.port)
        say("listening", a.port)
        async with srv:
            await srv.serve_forever()
    asyncio.run(main())


def cmd_fetch(a):
    """TLS client: sends a line, reads until the server closes, reading at
    most --size bytes a second when --size is not 0; prints 'fetched N
    SHA256'."""
    with socket.create_connection(("127.0.0.1", a.port), timeout=a.timeout) as raw:
        s = client_ctx().wrap_socket(raw, server_hostname="localhost")
        s.sendall(b"go\n")
        h, n = hashlib.sha256(), 0
        while True:
            d = s.recv(65536)
            if not d:
                break
            h.update(d)
            n += len(d)
            if a.size:
                time.sleep(len(d) / a.size)
    say("fetched", n, h.hexdigest())


def cmd_asyncio_client(a):
    """A plain asyncio client (the default loop: epoll selector): --count
    request/response round trips, then --count pipelined requests."""
    async def main():
        loop = asyncio.get_running_loop()
        say("selector", type(loop._selector).__name__)
        # --host: a name, resolved by asyncio in its executor thread
        r, w = await asyncio.wait_for(asyncio.open_connection(a.host, a.port), a.timeout)

        async def answer(what):
            try:
                return await asyncio.wait_for(r.readline(), a.timeout)
            except asyncio.TimeoutError:
                raise AssertionError("%s: no answer in %g s (the loop was never told it is "
                                     "readable?)" % (what, a.timeout)) from None
        for i in range(a.count):
            msg = b"request %d %s\n" % (i, b"x" * (i % 300))
            w.write(msg)
            await w.drain()
            got = await answer("round trip %d" % i)
            if got != b"echo: " + msg:
                raise AssertionError("round trip %d: %r" % (i, got[:80]))
        say("round trips ok", a.count)
        msgs = [b"pipelined %d %s\n" % (i, b"y" * (i % 700)) for i in range(a.count)]
        w.write(b"".join(msgs))
        await w.drain()
        for i, msg in enumerate(msgs):
            got = await answer("pipelined %d" % i)
            if got != b"echo: " + msg:
                raise AssertionError("pipelined %d: %r" % (i, got[:80]))
        say("pipelined ok", a.count)
        w.close()
        await w.wait_closed()
    asyncio.run(main())


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("echo-server", "send-server", "close-server", "sink-server", "line-server", "relay",
                 "tls-clients", "line-client", "fork-clients", "slow-hello", "forking-server",
                 "asyncio-client", "asyncio-server", "asyncio-sendfile-server", "fetch"):
        q = sub.add_parser(name)
        q.add_argument("--port", type=int, required=True)
        q.add_argument("--plain", action="store_true")
        q.add_argument("--no-tickets", action="store_true")
        q.add_argument("--echo", action="store_true")
        q.add_argument("--handshake-delay", type=float, default=0)
        q.add_argument("--delay", type=float, default=0)
        q.add_argument("--timeout", type=float, default=10)
        q.add_argument("--msg", default="")
        q.add_argument("--dir", default=".")
        q.add_argument("--to", type=int)
        q.add_argument("--record")
        q.add_argument("--count", type=int, default=1)
        q.add_argument("--parallel", type=int, default=1)
        q.add_argument("--size", type=int, default=4096)
        q.add_argument("--line", default="hello")
        q.add_argument("--host", default="127.0.0.1")
    a = p.parse_args()
    globals()["cmd_" + a.cmd.replace("-", "_")](a)


if __name__ == "__main__":
    main()
PY
# Node.js programs (plain net sockets: libuv's epoll loop) for the node test.
cat > "$T/node-client.js" <<'JS'
// node-client.js PORT COUNT: COUNT request/response lines, one at a time,
// then COUNT pipelined in one write; prints "node client ok N".
const net = require('net');
const port = +process.argv[2], count = +process.argv[3];
const sock = net.connect(port, '127.0.0.1');
let buf = '', got = 0, sent = 0;
const timer = setTimeout(() => { console.log(`timeout: ${got} of ${2 * count} answers`); process.exit(1); }, 20000);
function expect(i) { return i < count ? `echo: msg ${i}` : `echo: pipelined ${i}`; }
sock.on('connect', () => { sock.write(`msg ${sent++}\n`); });
sock.on('data', (d) => {
  buf += d.toString();
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, i); buf = buf.slice(i + 1);
    if (line !== expect(got)) { console.log(`bad answer ${got}: ${line}`); process.exit(1); }
    got++;
    if (got < count) sock.write(`msg ${sent++}\n`);
    else if (got === count) {
      let all = '';
      for (let k = count; k < 2 * count; k++) all += `pipelined ${k}\n`;
      sock.write(all);
    } else if (got === 2 * count) {
      console.log(`node client ok ${got}`); clearTimeout(timer); sock.end();
    }
  }
});
sock.on('error', (e) => { console.log('error', e.message); process.exit(1); });
JS
cat > "$T/node-server.js" <<'JS'
// node-server.js PORT: an echo server; prints "listening".
const net = require('net');
net.createServer((c) => { c.on('data', (d) => c.write(d)); c.on('end', () => c.end());
  c.on('error', (e) => console.log('conn error', e.message)); })
  .listen(+process.argv[2], '127.0.0.1', () => console.log('listening'));
JS

export EV_CERTS="$CERTS"
