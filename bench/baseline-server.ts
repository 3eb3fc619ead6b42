import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';

/**
 * The baselines every gateway number is compared with: bare Fastify answering a small JSON
 * (`/hello`), and answering the very bytes the gateway's `GET /api/v1/user` answers, x-request-id
 * included (`/same`, body from BASELINE_SAME_BODY), which isolates the response's own cost.
 */
async function main(): Promise<void> {
  const app = Fastify({ logger: false });
  app.get('/hello', async () => ({ hello: 'world' }));
  const same = process.env.BASELINE_SAME_BODY ?? '{}';
  app.get('/same', async (_request, reply) => {
    void reply.header('x-request-id', randomUUID()).type('application/json; charset=utf-8');
    return same;
  });
  const address = await app.listen({ port: Number(process.argv[2] ?? 0), host: '127.0.0.1' });
  process.stdout.write(`${address}\n`);
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

void main();
