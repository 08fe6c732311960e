#!/usr/bin/env python3
"""Prints README.md's result tables from a run's results.json, so every figure quoted
there comes from one file:
`python3 scripts/readme-tables.py RESULTS.json [scenario:clients ...]`
(with no selection, every closed-loop scenario and concurrency on the loopback link).

One markdown table per (scenario, concurrency) of the closed-loop loopback runs, floors
first: ops/s, p50 and p99 latency, socket bytes per op each way, server and client CPU
per op. `watch` selects the live-updates table (one row per protocol and subscriber
count). `--links` prints instead one table per scenario of the runs made over emulated
links (`quartet bench --link ... --compression ...`): a row per protocol and compression,
p50/p99 per link profile, bytes received per op and round trips per task.
"""
import json
import sys

FLOORS = ["tcp-floor", "http1-floor", "h2-floor", "graphql-floor"]
APIS = ["rest", "graphql", "grpc", "wire"]
SCENARIOS = ["get_event", "list_events", "search_events", "event_detail", "seat_map",
             "browse", "browse_calls", "hold_cancel", "contended_hold"]


def number(x, digits=0):
    if x is None:
        return "-"
    return f"{x:,.{digits}f}"


def order_key(r):
    order = {p: i for i, p in enumerate(FLOORS + APIS)}
    return order.get(r["protocol"], 99)


def received(r):
    b = r["bytes_per_op"]
    return b.get("socket_received", b.get("wire_received"))


def ms(us):
    return "-" if us is None else f"{us / 1000:,.1f}"


def links(results):
    """One table per scenario of the runs over emulated links."""
    runs = [r for r in results["runs"]
            if r.get("link") not in (None, "loopback") and r.get("mode", "closed") == "closed"]
    profiles = []
    for r in runs:
        if r["link"] not in profiles:
            profiles.append(r["link"])
    for scenario in SCENARIOS:
        rows = [r for r in runs if r["scenario"] == scenario]
        if not rows:
            continue
        keys = []
        for r in sorted(rows, key=order_key):
            key = (r["protocol"], r.get("compression") or "none", r["concurrency"])
            if key not in keys:
                keys.append(key)
        print(f"**{scenario}**\n")
        head = "| protocol | compression | clients | round trips/task |"
        rule = "|---|---|---:|---:|"
        for p in profiles:
            head += f" {p} p50 / p99 ms |"
            rule += "---:|"
        head += " socket B/op received |"
        rule += "---:|"
        print(head)
        print(rule)
        for protocol, compression, c in keys:
            same = [r for r in rows if r["protocol"] == protocol
                    and (r.get("compression") or "none") == compression and r["concurrency"] == c]
            trips = same[0].get("round_trips_per_op")
            line = f"| {protocol} | {compression} | {c} | {number(trips, 1)} |"
            for p in profiles:
                at = [r for r in same if r["link"] == p]
                if at:
                    lat = at[0]["latency_us"]
                    flag = "" if at[0]["errors"] == 0 else f" ({at[0]['errors']} errors)"
                    line += f" {ms(lat['p50'])} / {ms(lat['p99'])}{flag} |"
                else:
                    line += " not run |"
            line += f" {number(received(same[0]))} |"
            print(line)
        print()


def watch(results):
    """The live-updates table: one row per protocol and subscriber count."""
    runs = sorted((r for r in results["runs"] if r.get("watch")),
                  key=lambda r: (r["concurrency"], order_key(r)))
    if not runs:
        return
    print("**watch: live availability, one writer**\n")
    print("| protocol | subscribers | writer changes/s | delivered/s | p50 ms | p99 ms "
          "| p99.9 ms | resyncs | gaps | socket B/msg received | server CPU µs/msg |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in runs:
        w = r["watch"]
        b = r["bytes_per_op"]
        lat = r["latency_us"]
        flag = " (client-bound)" if r.get("client_bound") else ""
        print(f"| {r['protocol']}{flag} | {r['concurrency']} | {number(w['write_rate_achieved'])} "
              f"| {number(r['throughput_ops_s'])} | {ms(lat['p50'])} | {ms(lat['p99'])} "
              f"| {ms(lat.get('p999'))} | {w['resyncs']} | {w['gaps']} "
              f"| {number(received(r))} | {number(r.get('server_cpu_us_per_op'), 1)} |")
    print()


def main(path, selection):
    with open(path) as f:
        results = json.load(f)
    if "--links" in selection:
        links(results)
        return
    if not selection or "watch" in selection:
        watch(results)
    runs = [r for r in results["runs"] if r.get("mode", "closed") == "closed"
            and r.get("link") in (None, "loopback") and not r.get("watch")]
    shapes = sorted({r["concurrency"] for r in runs})
    for scenario in SCENARIOS:
        for c in shapes:
            if selection and f"{scenario}:{c}" not in selection:
                continue
            rows = [r for r in runs if r["scenario"] == scenario and r["concurrency"] == c]
            if not rows:
                continue
            rows.sort(key=order_key)
            clients = "client" if c == 1 else "clients"
            print(f"**{scenario}, {c} {clients}**\n")
            print("| protocol | ops/s | p50 µs | p99 µs | socket B/op sent / received "
                  "| server CPU µs/op | client CPU µs/op |")
            print("|---|---:|---:|---:|---:|---:|---:|")
            for r in rows:
                b = r["bytes_per_op"]
                sent = b.get("socket_sent", b.get("wire_sent"))
                received = b.get("socket_received", b.get("wire_received"))
                flag = " (client-bound)" if r.get("client_bound") else ""
                print(f"| {r['protocol']}{flag} | {number(r['throughput_ops_s'])} "
                      f"| {number(r['latency_us']['p50'])} | {number(r['latency_us']['p99'])} "
                      f"| {number(sent)} / {number(received)} "
                      f"| {number(r.get('server_cpu_us_per_op'), 1)} "
                      f"| {number(r.get('client_cpu_us_per_op'), 1)} |")
            print()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/sample-run/results.json",
         set(sys.argv[2:]))
