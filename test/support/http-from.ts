import { request } from 'node:http';

export interface HttpAnswer {
  status: number;
  body: any;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * One JSON request as a given client: `from` is the local address the connection comes from (any
 * 127.x.y.z on Linux loopback), `forwardedFor` an X-Forwarded-For header — what a proxy, or a
 * client pretending to be one, would send. (fetch can set neither the source address nor, on its
 * own connection pool, keep them apart.)
 */
export function httpFrom(
  url: string,
  init: { method?: string; token?: string; body?: unknown; headers?: Record<string, string>; from?: string; forwardedFor?: string } = {},
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.forwardedFor) headers['x-forwarded-for'] = init.forwardedFor;
  const payload = init.body === undefined ? undefined : JSON.stringify(init.body);
  if (payload !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers, localAddress: init.from, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let body: any = text;
        try {
          body = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}
