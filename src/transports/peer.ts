import type { Socket } from 'node:net';

/** 'tcp4:127.0.0.1:53122', 'tcp6:[::1]:53122' or 'unix', for TransportInfo.peer and logs. */
export function describePeer(socket: Socket): string {
  const address = socket.remoteAddress;
  if (!address) return 'unix';
  return socket.remoteFamily === 'IPv6' ? `tcp6:[${address}]:${socket.remotePort}` : `tcp4:${address}:${socket.remotePort}`;
}
