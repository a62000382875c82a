// Preload (`node --import .../loopback.js app.js`) that keeps a third-party server on loopback.
// Portkey's start-server calls `server.listen(port)` with no host, i.e. on every interface; the
// benchmark must only ever listen on 127.0.0.1, so any listen() without a loopback host is
// rewritten to 127.0.0.1. Unix sockets and inherited handles are left alone.
import net from 'node:net';

const LOOPBACK = '127.0.0.1';
const isLoopback = (host: unknown): boolean => host === LOOPBACK || host === 'localhost' || host === '::1';
const isPort = (v: unknown): boolean => typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v));

const originalListen = net.Server.prototype.listen as (...args: unknown[]) => net.Server;

function loopbackListen(this: net.Server, ...args: unknown[]): net.Server {
  const first = args[0];
  if (args.length === 0 || typeof first === 'function') {
    args.unshift(0, LOOPBACK);
  } else if (isPort(first) || first === null || first === undefined) {
    if (typeof args[1] === 'string') {
      if (!isLoopback(args[1])) args[1] = LOOPBACK;
    } else if (args[1] === undefined || args[1] === null) {
      args[1] = LOOPBACK;
    } else {
      args.splice(1, 0, LOOPBACK);
    }
  } else if (typeof first === 'object' && first !== null && !('path' in first) && !('fd' in first) && !('_handle' in first)) {
    const options = first as net.ListenOptions;
    if (!isLoopback(options.host)) args[0] = { ...options, host: LOOPBACK };
  }
  return originalListen.apply(this, args);
}

net.Server.prototype.listen = loopbackListen as typeof net.Server.prototype.listen;
