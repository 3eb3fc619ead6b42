import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { importJWK, SignJWT, type JWK } from 'jose';
import pg from 'pg';
import { WhoAmISchema } from '../../libs/contracts/src/principal';
import { generateToken } from '../../libs/contracts/src/tokens';
import { call, login, startGantry, type GantryStack } from '../support/gantry-stack';

describe('first slice: login → /api/v1/user through the real gateway', () => {
  let stack: GantryStack;
  let token: string;

  beforeAll(async () => {
    stack = await startGantry();
    token = await login(stack);
  });
  afterAll(async () => stack?.stop());

  const user = (headers: Record<string, string> = {}) => call(`${stack.url}/api/v1/user`, { headers });

  it('logs in and returns the caller at /api/v1/user', async () => {
    const response = await call(`${stack.url}/api/v1/user`, { token });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ kind: 'session', user: { username: 'admin', role: 'admin' } });
    expect(WhoAmISchema.parse(response.body)).toEqual(response.body); // exactly the contract, nothing more
    expect(response.body.scopes).toContain('users:admin');
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('login answers the documented shape', async () => {
    const response = await call(`${stack.url}/api/v1/auth/login`, { method: 'POST', body: { username: 'admin', password: stack.admin.password } });
    expect(response.status).toBe(200);
    expect(Object.keys(response.body).sort()).toEqual(['expiresAt', 'token', 'user']);
    expect(Object.keys(response.body.user).sort()).toEqual(['id', 'role', 'username']);
    expect(new Date(response.body.expiresAt).getTime()).toBeGreaterThan(Date.now() + 50 * 60 * 1000);
  });

  it('no token → 401 unauthenticated with the error envelope', async () => {
    const response = await user();
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: { code: 'unauthenticated', message: expect.any(String), requestId: response.headers.get('x-request-id') } });
  });

  it('wrong password and unknown user get the same 401 invalid_credentials', async () => {
    const wrong = await call(`${stack.url}/api/v1/auth/login`, { method: 'POST', body: { username: 'admin', password: 'not-the-password' } });
    const unknown = await call(`${stack.url}/api/v1/auth/login`, { method: 'POST', body: { username: 'nobody', password: 'not-the-password' } });
    for (const response of [wrong, unknown]) {
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('invalid_credentials');
    }
    expect(wrong.body.error.message).toBe(unknown.body.error.message);
  });

  it('malformed login bodies → 400 invalid_request naming the field', async () => {
    const missing = await call(`${stack.url}/api/v1/auth/login`, { method: 'POST', body: { username: 'admin' } });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: 'invalid_request', field: 'password' });
    const extra = await call(`${stack.url}/api/v1/auth/login`, { method: 'POST', body: { username: 'a', password: 'b', admin: true } });
    expect(extra.status).toBe(400);
    expect(extra.body.error).toMatchObject({ code: 'invalid_request', field: 'admin' });
    const notJson = await fetch(`${stack.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
  });

  describe('refused before any lookup', () => {
    let nc: NatsConnection;
    const seen: string[] = [];

    beforeAll(async () => {
      nc = await connect({ servers: stack.infra.nats.url, ...stack.infra.nats.admin });
      // Every service request subject: identity.*, assets.*, ci.* (not _INBOX or $JS traffic).
      for (const subject of ['identity.>', 'assets.>', 'ci.>']) nc.subscribe(subject, { callback: (_, msg) => void seen.push(msg.subject) });
      await nc.flush();
    });
    afterAll(async () => nc?.close());

    it('garbage and bad-checksum tokens → 401 with zero NATS requests', async () => {
      const valid = generateToken('pat');
      const badChecksum = valid.slice(0, -1) + (valid.endsWith('A') ? 'B' : 'A');
      const candidates = ['garbage', 'gtp_short', badChecksum, 'gtx_' + valid.slice(4), 'a.b', '', 'Bearer'];
      seen.length = 0;
      for (const candidate of candidates) {
        const response = await user({ authorization: `Bearer ${candidate}` });
        expect(response.status).toBe(401);
        expect(['invalid_token', 'unauthenticated']).toContain(response.body.error.code);
      }
      const keyHeader = await user({ 'x-gantry-key': badChecksum });
      expect(keyHeader.status).toBe(401);
      await nc.flush();
      expect(seen).toEqual([]);
    });
  });

  describe('session JWTs', () => {
    let signingKey: JWK;
    beforeAll(async () => {
      const client = new pg.Client({ connectionString: stack.infra.databaseUrl });
      await client.connect();
      signingKey = (await client.query('SELECT private_jwk FROM identity.signing_keys LIMIT 1')).rows[0].private_jwk;
      await client.end();
    });

    const sign = async (claims: Record<string, unknown>, exp: number) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'EdDSA', kid: signingKey.kid })
        .setIssuer('gantry-identity').setAudience('gantry').setSubject('00000000-0000-0000-0000-000000000000')
        .setJti('test-session').setIssuedAt(exp - 3600).setExpirationTime(exp)
        .sign(await importJWK(signingKey, 'EdDSA'));

    it('a tampered JWT → 401 invalid_token', async () => {
      const [header, payload, signature] = token.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      const forged = Buffer.from(JSON.stringify({ ...claims, username: 'mallory' })).toString('base64url');
      // A signature byte changed for certain (replacing the tail by 'AA' left it as it was when it already ended so).
      const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
      for (const tampered of [`${header}.${forged}.${signature}`, `${header}.${payload}.${flipped}`]) {
        const response = await user({ authorization: `Bearer ${tampered}` });
        expect(response.status).toBe(401);
        expect(response.body.error.code).toBe('invalid_token');
      }
    });

    it('an expired JWT signed with the real key → 401 token_expired', async () => {
      const expired = await sign({ username: 'admin', role: 'admin' }, Math.floor(Date.now() / 1000) - 60);
      const response = await user({ authorization: `Bearer ${expired}` });
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('token_expired');
    });

    it('a valid signature with an unknown kid → 401, not a pass', async () => {
      const fresh = await sign({ username: 'admin', role: 'admin' }, Math.floor(Date.now() / 1000) + 600);
      const [, payload, signature] = fresh.split('.');
      const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: 'unknown-kid' })).toString('base64url');
      const response = await user({ authorization: `Bearer ${header}.${payload}.${signature}` });
      expect(response.status).toBe(401);
    });

    it('the JWKS is served publicly and holds only public keys', async () => {
      const response = await call(`${stack.url}/.well-known/jwks.json`);
      expect(response.status).toBe(200);
      expect(response.body.keys).toHaveLength(1);
      expect(response.body.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', kid: signingKey.kid });
      expect(response.body.keys[0].d).toBeUndefined();
    });
  });
});
