"""Hostile peers on the kernel's ports, through jupyter_client as Jupyter starts the kernel.

Runs against the installed `flow-edge` kernelspec by default; `KERNEL_UNDER_TEST=python3` runs the
same checks against ipykernel, which passes them too (libzmq refuses the huge frame, and
jupyter_client's Session refuses the replayed signature).
"""

import os
import socket
import struct
import time

import pytest
import zmq
from jupyter_client.manager import start_new_kernel

KERNEL = os.environ.get("KERNEL_UNDER_TEST", "flow-edge")
TIMEOUT = 60


@pytest.fixture
def kernel():
    manager, client = start_new_kernel(kernel_name=KERNEL, startup_timeout=TIMEOUT)
    try:
        yield manager, client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def zmtp_greeting():
    """ZMTP 3.0, NULL mechanism, as client."""
    return b"\xff" + b"\0" * 8 + b"\x7f" + b"\x03\x00" + b"NULL".ljust(20, b"\0") + b"\x00" + b"\0" * 31


def zmtp_ready(socket_type):
    body = b"\x05READY" + b"\x0bSocket-Type" + struct.pack(">I", len(socket_type)) + socket_type
    return bytes([0x04, len(body)]) + body


HUGE_FRAME = b"\x02" + struct.pack(">Q", 1 << 62)


def test_a_huge_frame_announced_on_every_port_leaves_the_kernel_answering(kernel):
    manager, client = kernel
    info = manager.get_connection_info()
    ports = [
        (info["shell_port"], b"DEALER"),
        (info["control_port"], b"DEALER"),
        (info["stdin_port"], b"DEALER"),
        (info["iopub_port"], b"SUB"),
        (info["hb_port"], b"REQ"),
    ]
    peers = []
    for port, peer_type in ports:
        for payload in (zmtp_greeting() + HUGE_FRAME, zmtp_greeting() + zmtp_ready(peer_type) + HUGE_FRAME):
            peer = socket.create_connection((info["ip"], port), timeout=5)
            try:
                peer.sendall(payload)
            except OSError:
                pass  # the kernel may cut the peer at once
            peers.append(peer)
    time.sleep(0.5)
    assert manager.is_alive()
    reply = client.kernel_info(reply=True, timeout=10)
    assert reply["content"]["status"] == "ok"
    for peer in peers:
        peer.close()


def test_a_replayed_signed_request_is_executed_once(kernel):
    manager, client = kernel
    info = manager.get_connection_info()
    session = client.session
    request = session.msg("execute_request", {"code": "1 + 1", "silent": False, "store_history": False,
                                              "user_expressions": {}, "allow_stdin": False})
    frames = session.serialize(request)
    context = zmq.Context.instance()
    raw = context.socket(zmq.DEALER)
    raw.linger = 0
    raw.connect(f"tcp://{info['ip']}:{info['shell_port']}")
    try:
        raw.send_multipart(frames)
        raw.send_multipart(frames)
        probe = session.msg("kernel_info_request", {})
        raw.send_multipart(session.serialize(probe))
        replies_to_cell = 0
        deadline = time.monotonic() + TIMEOUT
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, "the probe was not answered in time"
            assert raw.poll(int(remaining * 1000)), "the probe was not answered in time"
            _, parts = session.feed_identities(raw.recv_multipart())
            reply = session.deserialize(parts)
            parent = reply["parent_header"].get("msg_id")
            if parent == request["header"]["msg_id"]:
                replies_to_cell += 1
            elif parent == probe["header"]["msg_id"]:
                break
        assert replies_to_cell == 1
    finally:
        raw.close()
