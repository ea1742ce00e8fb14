import net from 'node:net';

export interface ConnectionRecorder {
  port: number;
  /** How many TCP connections reached the listener so far. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * A TCP listener on 127.0.0.1 that records every connection and closes it at once: a test points
 * a would-be attacker's "database name" at it and then expects that nothing ever connected (a
 * libpq tool that read the name as connection settings would have sent it the password).
 */
export function connectionRecorder(): Promise<ConnectionRecorder> {
  return new Promise((resolve, reject) => {
    let count = 0;
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      count++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      socket.destroy();
    });
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (!address || typeof address !== 'object') {
        reject(new Error('could not read the port the OS assigned'));
        return;
      }
      resolve({
        port: address.port,
        connections: () => count,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
