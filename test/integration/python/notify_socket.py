"""A stand-in for systemd's notification socket: binds a Unix datagram socket, prints each message
it receives on one line (newlines inside a message become spaces), and closes any file descriptors
that come with it (systemd-notify's BARRIER=1 waits for exactly that).

    notify_socket.py PATH
"""
import os
import socket
import sys

path = sys.argv[1]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
print("LISTENING", flush=True)
while True:
    data, ancdata, _flags, _addr = sock.recvmsg(4096, socket.CMSG_SPACE(16 * 4))
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            for i in range(0, len(payload) - len(payload) % 4, 4):
                os.close(int.from_bytes(payload[i:i + 4], sys.byteorder))
    print(data.decode("utf-8", "replace").strip().replace("\n", " "), flush=True)
