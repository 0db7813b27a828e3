"""Kernel latency benchmark: flow-edge kernel vs ipykernel + ipywidgets, side by side in one run.

Measures, for each kernel:
  * start: launching the kernel process until its kernel_info_reply arrives;
  * execute: round trip of a trivial execute_request (request sent -> status idle), median of N;
  * click: a widget button click (comm_msg in -> the HTML widget's state update out -> idle),
    p50 and p95 over --clicks clicks.

Usage: .venv/bin/python bench/kernel_bench.py [--clicks 200] [--executes 20]
Both kernelspecs must be installed in the venv (`flow-edge` and `python3`).
"""

import argparse
import statistics
import time

from jupyter_client.manager import KernelManager

RUST_SETUP = [
    ":dep flow_edge_widgets",
    """
use flow_edge_widgets::{Button, Html, VBox};
let bench_html = Html::new("0");
let bench_button = Button::new("Click me");
{
    let html = bench_html.clone();
    let clicks = std::sync::atomic::AtomicUsize::new(0);
    bench_button.on_click(move |_| {
        let n = clicks.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        html.set_value(format!("{n}"));
    });
}
VBox::new([bench_button.widget(), bench_html.widget()])
""",
]

PYTHON_SETUP = [
    """
import ipywidgets as w
bench_html = w.HTML("0")
bench_button = w.Button(description="Click me")
clicks = [0]
def on_click(_):
    clicks[0] += 1
    bench_html.value = str(clicks[0])
bench_button.on_click(on_click)
w.VBox([bench_button, bench_html])
""",
]


def percentile(values, fraction):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def wait_idle(kc, parent_id, timeout=300):
    """Reads iopub until the kernel reports idle for `parent_id`; returns the messages seen."""
    seen = []
    deadline = time.monotonic() + timeout
    while True:
        msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") != parent_id:
            continue
        seen.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return seen


def execute(kc, code, timeout=300):
    msg_id = kc.execute(code)
    seen = wait_idle(kc, msg_id, timeout)
    reply = kc.get_shell_msg(timeout=timeout)
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"cell failed: {reply['content']}\n{code}")
    return seen


def measure(kernel_name, setup, clicks, executes):
    started = time.monotonic()
    km = KernelManager(kernel_name=kernel_name)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=120)
    start_s = time.monotonic() - started
    try:
        execute(kc, "1")  # warm-up: the first cell compiles the evaluation context
        exec_times = []
        for _ in range(executes):
            t0 = time.perf_counter()
            execute(kc, "1")
            exec_times.append(time.perf_counter() - t0)

        comms = {}
        for code in setup:
            for msg in execute(kc, code):
                if msg["msg_type"] == "comm_open":
                    state = msg["content"]["data"]["state"]
                    comms[msg["content"]["comm_id"]] = state.get("_model_name")
        button_id = next(c for c, name in comms.items() if name == "ButtonModel")
        html_id = next(c for c, name in comms.items() if name == "HTMLModel")

        click_times = []
        for i in range(clicks):
            msg = kc.session.msg(
                "comm_msg",
                {"comm_id": button_id, "data": {"method": "custom", "content": {"event": "click"}}},
            )
            t0 = time.perf_counter()
            kc.shell_channel.send(msg)
            seen = wait_idle(kc, msg["header"]["msg_id"])
            elapsed = time.perf_counter() - t0
            updates = [
                m for m in seen
                if m["msg_type"] == "comm_msg" and m["content"]["comm_id"] == html_id
                and m["content"]["data"].get("state", {}).get("value") == str(i + 1)
            ]
            if not updates:
                raise RuntimeError(f"click {i + 1}: no HTML update before idle: {seen}")
            click_times.append(elapsed)
        return {
            "start_s": start_s,
            "execute_ms": statistics.median(exec_times) * 1000,
            "click_p50_ms": percentile(click_times, 0.50) * 1000,
            "click_p95_ms": percentile(click_times, 0.95) * 1000,
        }
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=200)
    parser.add_argument("--executes", type=int, default=20)
    args = parser.parse_args()
    rows = [
        ("flow-edge (Rust)", measure("flow-edge", RUST_SETUP, args.clicks, args.executes)),
        ("ipykernel + ipywidgets", measure("python3", PYTHON_SETUP, args.clicks, args.executes)),
    ]
    print(f"| kernel | start to kernel_info (s) | trivial execute p50 (ms) | click p50 (ms) | click p95 (ms) |")
    print("|---|---:|---:|---:|---:|")
    for name, r in rows:
        print(
            f"| {name} | {r['start_s']:.2f} | {r['execute_ms']:.1f} | {r['click_p50_ms']:.2f} | {r['click_p95_ms']:.2f} |"
        )


if __name__ == "__main__":
    main()
