import { connect } from 'node:net';

/**
 * Sends raw bytes to host:port and returns what the server answered before closing (or before
 * `waitMs`). For what fetch cannot send: a body shorter than its Content-Length, a dropped upload.
 */
export function rawHttp(url: string, head: string, body: Buffer = Buffer.alloc(0), options: { closeAfterBody?: boolean; waitMs?: number } = {}): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let answer = '';
    const timer = setTimeout(() => socket.destroy(), options.waitMs ?? 3000);
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', (error) => (answer ? resolve(answer) : reject(error)));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.write(head.replace(/\n/g, '\r\n') + '\r\n\r\n');
    if (body.length > 0) socket.write(body);
    if (options.closeAfterBody) setTimeout(() => socket.destroy(), 200);
  });
}

/** The status code of a raw HTTP answer (0 when there was none). */
export const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
