import Fastify from 'fastify';

/** The baseline every gateway number is compared with: bare Fastify answering a small JSON. */
async function main(): Promise<void> {
  const app = Fastify({ logger: false });
  app.get('/hello', async () => ({ hello: 'world' }));
  const address = await app.listen({ port: Number(process.argv[2] ?? 0), host: '127.0.0.1' });
  process.stdout.write(`${address}\n`);
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

void main();
