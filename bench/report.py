#!/usr/bin/env python3
"""Turns one run of bench/run.sh into bench/results/latest.md and the data
file of the chart (latest.dat).

    report.py latest.csv latest.meta OUTDIR

Ratios are ratios of medians from the one interleaved run; a carrier that
did not run is "n/a (reason)", never a number.
"""
import csv
import statistics
import sys
from collections import defaultdict

CARRIERS = ["plain", "ideal", "tlsshim", "stunnel", "socat"]
WORKLOADS = [
    ("bulk", "bulk, 16 KiB writes (MB/s)"),
    ("pingpong", "64-byte ping-pong (round trips/s)"),
    ("conn_full", "new connections, full handshakes (/s)"),
    ("conn_resumed", "new connections, resumed (/s)"),
]
REDIS_CARRIERS = ["plain", "native", "tlsshim", "stunnel"]


def load(csv_path, meta_path):
    rows = list(csv.DictReader(open(csv_path)))
    meta = {}
    for line in open(meta_path):
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            meta[k] = v
    return rows, meta


class Results:
    def __init__(self, rows):
        self.values = defaultdict(list)   # (section, placement, workload, carrier, metric)
        self.reasons = {}
        for r in rows:
            key = (r["section"], r["placement"], r["workload"], r["carrier"], r["metric"])
            if r["status"] == "ok" and r["value"] != "":
                self.values[key].append(float(r["value"]))
            elif r["status"] == "na":
                self.reasons.setdefault(key, r["note"])
            elif r["status"] == "fail":
                self.reasons.setdefault(key, "failed: " + r["note"])

    def stat(self, section, placement, workload, carrier, metric="rate"):
        """(median, min, max) or None, and the reason when None."""
        key = (section, placement, workload, carrier, metric)
        v = self.values.get(key)
        if v:
            return (statistics.median(v), min(v), max(v)), None
        if key in self.reasons:
            return None, self.reasons[key]
        # One n/a row may stand for every metric of a carrier (memory).
        for k, why in self.reasons.items():
            if k[:4] == key[:4]:
                return None, why
        return None, "not measured"

    def one(self, section, placement, workload, carrier, metric):
        s, why = self.stat(section, placement, workload, carrier, metric)
        return (s[0] if s else None), why


def fmt(x):
    if x is None:
        return "-"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def cell(s, why):
    if s is None:
        return f"n/a ({why})"
    med, lo, hi = s
    return f"{fmt(med)} ({fmt(lo)}..{fmt(hi)})"


def ratio(res, section, placement, wl_a, car_a, wl_b, car_b):
    a, wa = res.stat(section, placement, wl_a, car_a)
    b, wb = res.stat(section, placement, wl_b, car_b)
    if a is None:
        return None, f"{car_a}: {wa}"
    if b is None:
        return None, f"{car_b}: {wb}"
    return a[0] / b[0], None


def full_sides(res, placement):
    """Per-side full-handshake ratios and the pair estimate, or None.
    Client side: tlsshim client vs ideal client, both against an ideal
    server that issues no tickets; server side: the ideal client without a
    session against the tlsshim server vs the ideal server. With all
    processes on one CPU the times per connection add up, so the pair
    costs T_ideal + (client extra) + (server extra)."""
    st = {c: res.stat("throughput", placement, "conn_full", c)[0]
          for c in ("ideal", "ideal_nt", "tlsshim_cli", "tlsshim_srv")}
    if any(v is None for v in st.values()):
        return None
    t_ideal = 1 / st["ideal"][0]
    extra_c = 1 / st["tlsshim_cli"][0] - 1 / st["ideal_nt"][0]
    extra_s = 1 / st["tlsshim_srv"][0] - t_ideal
    return (st["tlsshim_cli"][0] / st["ideal_nt"][0], st["tlsshim_srv"][0] / st["ideal"][0],
            t_ideal / (t_ideal + extra_c + extra_s))


def full_handshakes(res, out):
    name, goal = "tlsshim / ideal, full handshakes", 0.90
    r, why = ratio(res, "throughput", "pinned", "conn_full", "tlsshim", "conn_full", "ideal")
    if r is not None:
        out.append((name, f"≥ {goal}", f"{r:.2f}", "PASS" if r >= goal else
                    f"MISS (by {100 * (goal - r) / goal:.0f} %)"))
        return
    sides = full_sides(res, "pinned")
    if sides is None:
        out.append((name, f"≥ {goal}", f"n/a ({why})", "n/a"))
        return
    c, s, est = sides
    out.append((name, f"≥ {goal}",
                f"≈ {est:.2f}: estimate from one side at a time (client {c:.2f}, server {s:.2f});"
                f" the pair always resumes ({why})",
                ("PASS" if est >= goal else f"MISS (by {100 * (goal - est) / goal:.0f} %)")
                + " (estimate)"))


def goal_rows(res, meta):
    """(ratio name, goal text, measured text, verdict)."""
    out = []

    def ratio_goal(name, goal, section, placement, wl_a, car_a, wl_b, car_b):
        r, why = ratio(res, section, placement, wl_a, car_a, wl_b, car_b)
        if r is None:
            out.append((name, f"≥ {goal}", f"n/a ({why})", "n/a"))
        else:
            out.append((name, f"≥ {goal}", f"{r:.2f}", "PASS" if r >= goal else
                        f"MISS (by {100 * (goal - r) / goal:.0f} %)"))

    ratio_goal("tlsshim / ideal, bulk", 0.95, "throughput", "pinned", "bulk", "tlsshim", "bulk", "ideal")
    ratio_goal("tlsshim / ideal, ping-pong", 0.90, "throughput", "pinned", "pingpong", "tlsshim",
               "pingpong", "ideal")
    full_handshakes(res, out)
    ratio_goal("tlsshim / stunnel, bulk", 2.0, "throughput", "pinned", "bulk", "tlsshim", "bulk",
               "stunnel")
    ratio_goal("tlsshim / stunnel, ping-pong", 3.0, "throughput", "pinned", "pingpong", "tlsshim",
               "pingpong", "stunnel")
    ratio_goal("tlsshim / stunnel, new connections (both resuming)", 1.6, "throughput", "pinned",
               "conn_resumed", "tlsshim", "conn_resumed", "stunnel")
    ratio_goal("tlsshim / socat, bulk", 2.5, "throughput", "pinned", "bulk", "tlsshim", "bulk",
               "socat")
    ratio_goal("tlsshim / socat, new connections (tlsshim resuming, socat cannot)", 4.0,
               "throughput", "pinned", "conn_resumed", "tlsshim", "conn_full", "socat")
    for t in ("SET", "GET"):
        ratio_goal(f"tlsshim / redis native TLS, {t} (free placement)", 0.90, "redis", "free", t,
                   "tlsshim", t, "native")
    for t in ("SET", "GET"):
        ratio_goal(f"tlsshim / stunnel, redis {t}", 3.5, "redis", "pinned", t, "tlsshim", t,
                   "stunnel")

    for side in ("server", "client"):
        shim, w1 = res.one("memory", "free", "idle", "tlsshim", f"heap_{side}")
        ideal, w2 = res.one("memory", "free", "idle", "ideal", f"heap_{side}")
        name = f"heap per idle wrapped connection, {side} side"
        if shim is None or ideal is None:
            out.append((name, "≤ ideal + 4 KiB", f"n/a ({w1 if shim is None else w2})", "n/a"))
        else:
            d = shim - ideal
            out.append((name, "≤ ideal + 4 KiB",
                        f"{shim / 1024:.1f} KiB (ideal {ideal / 1024:.1f} KiB, {d / 1024:+.1f} KiB)",
                        "PASS" if d <= 4096 else f"MISS (by {(d - 4096) / 1024:.1f} KiB)"))
    rb, why = res.one("memory", "free", "idle_release_buffers", "tlsshim", "heap_server")
    name = "heap per idle connection, server, release_buffers"
    if rb is None:
        out.append((name, "≤ 18 KiB", f"n/a ({why})", "n/a"))
    else:
        out.append((name, "≤ 18 KiB", f"{rb / 1024:.1f} KiB",
                    "PASS" if rb <= 18 * 1024 else f"MISS (by {(rb - 18 * 1024) / 1024:.1f} KiB)"))
    n = meta.get("scale_idle", "10000")
    ratio_goal(f"scale: tlsshim, 1 client at {int(n):,} idle / at 0 idle", 0.95, "scale", "pinned",
               f"c1_idle{n}", "tlsshim", "c1_idle0", "tlsshim")
    ratio_goal(f"scale: tlsshim / redis native TLS, 1 client at {int(n):,} idle", 0.90, "scale",
               "pinned", f"c1_idle{n}", "tlsshim", f"c1_idle{n}", "native")
    ratio_goal(f"scale: tlsshim / redis native TLS, 50 clients at {int(n):,} idle", 0.90, "scale",
               "pinned", f"c50_idle{n}", "tlsshim", f"c50_idle{n}", "native")
    shim, w1 = res.one("scale", "pinned", f"idle{n}", "tlsshim", "rss_per_conn")
    nat, w2 = res.one("scale", "pinned", f"idle{n}", "native", "rss_per_conn")
    name = f"scale: redis-server RSS per idle TLS connection ({int(n):,} held)"
    if shim is None or nat is None:
        out.append((name, "≤ native + 4 KiB", f"n/a ({w1 if shim is None else w2})", "n/a"))
    else:
        d = shim - nat
        out.append((name, "≤ native + 4 KiB",
                    f"{shim / 1024:.1f} KiB (native {nat / 1024:.1f} KiB, {d / 1024:+.1f} KiB)",
                    "PASS" if d <= 4096 else f"MISS (by {(d - 4096) / 1024:.1f} KiB)"))
    pt, why = res.one("passthrough", "-", "write+read", "tlsshim", "extra_ir_per_call")
    name = "pass-through cost, unwrapped descriptors"
    if pt is None:
        out.append((name, "≤ 8 instructions/call", f"n/a ({why})", "n/a"))
    else:
        out.append((name, "≤ 8 instructions/call", f"{pt:+.1f}",
                    "PASS" if pt <= 8 else f"MISS (by {pt - 8:.1f})"))
    st, why = res.one("startup", "-", "true", "tlsshim", "delta_ms")
    name = "start-up cost, `tlsshim -- /bin/true`, 10 rules"
    if st is None:
        out.append((name, "≤ +3 ms", f"n/a ({why})", "n/a"))
    else:
        plain, _ = res.one("startup", "-", "true", "plain", "median_ms")
        env, _ = res.one("startup", "-", "true_env", "plain", "median_ms")
        beyond, _ = res.one("startup", "-", "true_env", "tlsshim", "delta_ms")
        text = f"{st:+.2f} ms"
        if plain is not None and env is not None and beyond is not None:
            text += (f" (`/bin/true` {plain:.2f} ms; `env /bin/true`, a second exec,"
                     f" {env - plain:+.2f} ms; tlsshim against it {beyond:+.2f} ms)")
        out.append((name, "≤ +3 ms", text, "PASS" if st <= 3 else f"MISS (by {st - 3:.2f} ms)"))
    return out


def md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(lines)


def throughput_table(res, placement):
    rows = []
    for wl, label in WORKLOADS:
        row = [label]
        for car in CARRIERS:
            # Plain TCP has no handshake: its one connection rate is in both rows.
            w = "conn_full" if (car == "plain" and wl == "conn_resumed") else wl
            s, why = res.stat("throughput", placement, w, car)
            row.append(cell(s, why))
        rows.append(row)
    return md_table(["workload"] + CARRIERS, rows)


def ratio_table(res, placement):
    rows = []
    for wl, label in WORKLOADS:
        ideal, _ = res.stat("throughput", placement, wl, "ideal")
        row = [label]
        for car in ("tlsshim", "stunnel", "socat"):
            w = "conn_full" if (car == "socat" and wl == "conn_resumed") else wl
            s, why = res.stat("throughput", placement, w, car)
            row.append(f"{s[0] / ideal[0]:.2f}" if s and ideal else "n/a")
        rows.append(row)
    return md_table(["workload", "tlsshim / ideal", "stunnel / ideal", "socat / ideal"], rows)


def sides_table(res, placement):
    rows = []
    for car, label in (("ideal_nt", "ideal client → ideal server issuing no tickets"),
                       ("tlsshim_cli", "tlsshim client → ideal server issuing no tickets"),
                       ("ideal", "ideal client → ideal server"),
                       ("tlsshim_srv", "ideal client → tlsshim server")):
        rows.append([label, cell(*res.stat("throughput", placement, "conn_full", car))])
    return md_table(["full handshakes, one side under tlsshim (/s)", "rate"], rows)


def redis_table(res, placement):
    rows = []
    for t in ("SET", "GET"):
        rows.append([t] + [cell(*res.stat("redis", placement, t, c)) for c in REDIS_CARRIERS])
    return md_table(["redis-benchmark -c 50 -P 1 (req/s)", "plain", "native TLS", "tlsshim",
                     "stunnel"], rows)


def memory_table(res):
    rows = []
    for car, wl, label in (("plain", "idle", "plain TCP (the programs alone)"),
                           ("ideal", "idle", "ideal pair"),
                           ("ideal", "idle_release_buffers", "ideal pair, SSL_MODE_RELEASE_BUFFERS"),
                           ("tlsshim", "idle", "tlsshim"),
                           ("tlsshim", "idle_release_buffers", "tlsshim, release_buffers = true")):
        r = [label]
        for m in ("heap_server", "heap_client", "rss_server", "rss_client"):
            v, why = res.one("memory", "free", wl, car, m)
            r.append(f"{v / 1024:.1f}" if v is not None else f"n/a ({why})")
        rows.append(r)
    for m, label in (("anon_server", "stunnel server process"), ("anon_client", "stunnel client process")):
        v, why = res.one("memory", "free", "idle", "stunnel", m)
        rs, _ = res.one("memory", "free", "idle", "stunnel", m.replace("anon", "rss"))
        rows.append([label + " (RssAnon: heap + thread stacks)",
                     f"{v / 1024:.1f}" if v is not None else f"n/a ({why})", "",
                     f"{rs / 1024:.1f}" if rs is not None else "", ""])
    return md_table(["KiB per idle connection", "heap, server", "heap, client", "RSS, server",
                     "RSS, client"], rows)


def scale_table(res, meta):
    n = meta.get("scale_idle", "10000")
    rows = []
    for wl, label in (("c1_idle0", "1 client, no idle connection"),
                      (f"c1_idle{n}", f"1 client, {int(n):,} idle TLS connections"),
                      (f"c50_idle{n}", f"50 clients, {int(n):,} idle TLS connections")):
        nat = res.stat("scale", "pinned", wl, "native")
        shim = res.stat("scale", "pinned", wl, "tlsshim")
        r = "n/a"
        if nat[0] and shim[0]:
            r = f"{shim[0][0] / nat[0][0]:.2f}"
        rows.append([label, cell(*nat), cell(*shim), r])
    # Each carrier's own loss from the idle load: redis's and the kernel's
    # share shows in native's, the engine's in the difference.
    r = [f"1 client at {int(n):,} idle / at 0 idle"]
    for car in ("native", "tlsshim"):
        a = res.stat("scale", "pinned", f"c1_idle{n}", car)
        b = res.stat("scale", "pinned", "c1_idle0", car)
        r.append(f"{a[0][0] / b[0][0]:.2f}" if a[0] and b[0] else "n/a")
    rows.append(r + [""])
    r = [f"RSS per idle connection (KiB, {int(n):,} held)"]
    for car in ("native", "tlsshim"):
        v, why = res.one("scale", "pinned", f"idle{n}", car, "rss_per_conn")
        r.append(f"{v / 1024:.1f}" if v is not None else f"n/a ({why})")
    rows.append(r + [""])
    return md_table(["redis-benchmark --tls -t ping (req/s)", "redis native TLS",
                     "redis under tlsshim", "tlsshim / native"], rows)


def syscall_table(res):
    rows = []
    for wl, label in (("pingpong", "ping-pong, per round trip"), ("bulk", "bulk, per 16 KiB write"),
                      ("connect", "new connection, resumed")):
        r = [label]
        for car in ("plain", "ideal", "tlsshim"):
            for side in ("client", "server"):
                v, why = res.one("syscalls", "free", wl, car, f"{side}_per_op")
                r.append(fmt(v) if v is not None else "n/a")
        rows.append(r)
    return md_table(["syscalls (strace -f -c)", "plain client", "plain server", "ideal client",
                     "ideal server", "tlsshim client", "tlsshim server"], rows)


def notes_of(rows, section):
    out = []
    for r in rows:
        if r["section"] == section and r["status"] == "ok":
            out.append(f"- {r['workload']} {r['carrier']} {r['metric']}: {r['value']} {r['unit']}"
                       f" ({r['note']})")
    return out


def write_dat(res, path):
    """Chart data: per workload, each carrier relative to the ideal pair
    (median, min, max), one-CPU placement; redis relative to native TLS."""
    with open(path, "w") as f:
        f.write("# label " + " ".join(f"{c}_med {c}_min {c}_max" for c in CARRIERS) + "\n")
        labels = {"bulk": "bulk", "pingpong": "ping-pong", "conn_full": "conn-full",
                  "conn_resumed": "conn-resumed"}
        for wl, _ in WORKLOADS:
            base, _ = res.stat("throughput", "pinned", wl, "ideal")
            cols = []
            for car in CARRIERS:
                w = wl
                if wl == "conn_resumed" and car in ("plain", "socat"):
                    w = "conn_full"
                s, _ = res.stat("throughput", "pinned", w, car)
                if s and base:
                    cols += [f"{x / base[0]:.4f}" for x in s]
                else:
                    cols += ["NaN"] * 3
            f.write(f"{labels[wl]} " + " ".join(cols) + "\n")
        for t in ("SET", "GET"):
            base, _ = res.stat("redis", "pinned", t, "native")
            cols = []
            for car in CARRIERS:
                rc = {"ideal": "native"}.get(car, car)
                s, _ = res.stat("redis", "pinned", t, rc) if rc in REDIS_CARRIERS else (None, None)
                cols += [f"{x / base[0]:.4f}" for x in s] if s and base else ["NaN"] * 3
            f.write(f"redis-{t} " + " ".join(cols) + "\n")


def main():
    csv_path, meta_path, outdir = sys.argv[1:4]
    rows, meta = load(csv_path, meta_path)
    res = Results(rows)
    goals = goal_rows(res, meta)
    md = []
    md.append("# tlsshim benchmark: latest run\n")
    if meta.get("only", "all") != "all":
        md.append(f"- only these sections ran (BENCH_ONLY): {meta['only']}")
    md.append(f"- date: {meta.get('date')}, commit {meta.get('commit')}, "
              f"{meta.get('reps')} interleaved repetitions, {meta.get('elapsed_s')} s in all")
    md.append(f"- machine: {meta.get('nproc')} CPUs, {meta.get('cpu')}, {meta.get('kernel')}, "
              f"{meta.get('openssl')}")
    md.append(f"- {meta.get('ktls')}")
    md.append(f"- tlsshim: {meta.get('tlsshim')}"
              + (f"; suites seen in its log: {meta['tlsshim_suites']}" if "tlsshim_suites" in meta else ""))
    md.append("- every carrier: TLS 1.3, TLS_AES_256_GCM_SHA384, ECDSA P-256 certificate; "
              "cells are median (min..max); ratios are ratios of medians\n")
    md.append("## Goals (issue 5)\n")
    md.append(md_table(["ratio", "goal", "measured", "verdict"], goals))
    md.append("\nPlacement: all processes on CPU 0 (`taskset -c 0`) unless the row says free.\n")
    for pl, title in (("pinned", "all processes on CPU 0"), ("free", "free placement")):
        md.append(f"## Throughput, {title}\n")
        md.append(throughput_table(res, pl))
        md.append("")
        md.append(ratio_table(res, pl))
        md.append("")
        if res.stat("throughput", pl, "conn_full", "tlsshim_cli")[0]:
            md.append(sides_table(res, pl))
            md.append("")
    md.append("stunnel's client resumes sessions (sessionResume = yes, its default) in the "
              "resumed row and runs with sessionResume = no in the full row. socat copies in "
              "8 KiB chunks (`-b 8192`), so its records are 8 KiB.\n")
    for pl, title in (("free", "free placement"), ("pinned", "all processes on CPU 0")):
        md.append(f"## redis, {title}\n")
        md.append(redis_table(res, pl))
        md.append("")
    md.append("## Scale: redis-server (epoll) with idle TLS connections, all on CPU 0\n")
    md.append(scale_table(res, meta))
    md.append("")
    md.append("## Memory per idle connection (1,000 connections, growth from the first to the last)\n")
    md.append(memory_table(res))
    md.append("")
    md.append("## Who resumes (the ideal server counts resumed handshakes)\n")
    md.extend(notes_of(rows, "resumption") or ["- not measured"])
    md.append("\n## Pass-through and start-up\n")
    md.extend(notes_of(rows, "passthrough") + notes_of(rows, "startup") or ["- not measured"])
    md.append("\n## Syscalls per operation\n")
    md.append(syscall_table(res))
    tops = [f"- {r['workload']} {r['carrier']} {r['metric']}: {r['note']}" for r in rows
            if r["section"] == "syscalls" and r["status"] == "ok"]
    if tops:
        md.append("\nMost frequent calls (name:count):\n")
        md.extend(tops)
    md.append("\n## Profile: user-space instructions per ping-pong round trip, client side\n")
    prof = [r for r in rows if r["section"] == "profile"]
    if prof and all(r["status"] == "ok" for r in prof):
        tot = {r["carrier"]: r["value"] for r in prof if r["metric"] == "total_per_rt"}
        md.append(f"callgrind, the growth from a 1 s to a 3 s run per extra round trip: ideal client "
                  f"{tot.get('ideal')}, plain client under tlsshim {tot.get('tlsshim')}. "
                  "Functions where tlsshim spends more (self cost per round trip):\n")
        md.append(md_table(["function", "extra instructions per round trip", "ideal → tlsshim"],
                           [[r["metric"][len("extra:"):], r["value"],
                             r["note"].split("(", 1)[-1].rstrip(")").replace("; ", " → ")]
                            for r in prof if r["metric"].startswith("extra:")]))
    else:
        md.extend(f"- n/a ({r['note']})" for r in prof if r["status"] != "ok")
        if not prof:
            md.append("- not measured")
    fails = [f"- {r['section']} {r['placement']} {r['workload']} {r['carrier']} rep {r['rep']}: {r['note']}"
             for r in rows if r["status"] == "fail"]
    if fails:
        md.append("\n## Failed measurements\n")
        md.extend(fails)
    md.append("\nEvery repetition: latest.csv. Chart: latest.png.\n")
    with open(f"{outdir}/latest.md", "w") as f:
        f.write("\n".join(md))
    write_dat(res, f"{outdir}/latest.dat")


if __name__ == "__main__":
    main()
