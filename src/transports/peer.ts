import type { Socket } from 'node:net';

/**
 * 'tcp4:127.0.0.1:53122', 'tcp6:[::1]:53122' or 'unix', for TransportInfo.peer and logs. An IPv4
 * client of a dual-stack ('::') listener shows as tcp4, not as its IPv4-mapped IPv6 address.
 */
export function describePeer(socket: Pick<Socket, 'remoteAddress' | 'remoteFamily' | 'remotePort'>): string {
  const address = socket.remoteAddress;
  if (!address) return 'unix';
  if (socket.remoteFamily !== 'IPv6') return `tcp4:${address}:${socket.remotePort}`;
  if (address.startsWith('::ffff:') && address.includes('.')) return `tcp4:${address.slice(7)}:${socket.remotePort}`;
  return `tcp6:[${address}]:${socket.remotePort}`;
}
