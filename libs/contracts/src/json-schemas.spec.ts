import { describe, expect, it } from '@jest/globals';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ALL_EVENTS, eventJsonSchema } from './json-schemas';
import { IdentityEvents } from './identity/events';

// ajv-formats is CommonJS with `exports.default`: under ESM the namespace default is the module.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as typeof addFormatsModule;

/** A subscriber in another language: the committed file, compiled by a strict validator. */
function compileEventSchema(schema: object = JSON.parse(readFileSync('schemas/events.schema.json', 'utf8'))) {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schema);
}

describe('published JSON Schema of events', () => {
  it('schemas/events.schema.json matches the contracts (run `npm run schemas` after changing an event)', () => {
    const committed = JSON.parse(readFileSync('schemas/events.schema.json', 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(eventJsonSchema())));
  });

  it('is one JSON Schema 2020-12 document: the envelope and a data schema for every registered event type', () => {
    const schema = eventJsonSchema();
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(Object.keys(schema.$defs).filter((key) => key !== 'envelope').sort()).toEqual(ALL_EVENTS.map((e) => e.type).sort());
    expect(schema.properties.type.enum.sort()).toEqual(ALL_EVENTS.map((e) => e.type).sort());
    expect((schema.$defs.envelope as { required?: string[] }).required).toEqual(expect.arrayContaining(['id', 'type', 'schemaVersion', 'stream', 'version', 'occurredAt', 'actor', 'subject', 'requestId', 'ip', 'data']));
    expect((schema.$defs.envelope as { required?: string[] }).required).not.toEqual(expect.arrayContaining(['service']));
    for (const event of ALL_EVENTS) expect(event.subject).toBe(`events.${event.type}`);
  });

  describe('compiled by ajv in strict mode', () => {
    const validate = compileEventSchema();
    const event = (overrides: Record<string, unknown> = {}) => ({
      id: randomUUID(), type: IdentityEvents.signingKeyCreated.type, schemaVersion: IdentityEvents.signingKeyCreated.schemaVersion,
      stream: 'signing-key-abc', version: 1, occurredAt: '2026-11-30T08:00:00.000Z',
      actor: { kind: 'system', id: 'system', name: 'system' }, subject: { kind: 'signing_key', id: 'abc' }, requestId: null, ip: null,
      data: { kid: 'abc', alg: 'EdDSA' }, service: 'identity', seq: 1, prevHash: 'a'.repeat(64), hash: 'b'.repeat(64),
      ...overrides,
    });
    const errors = (message: object) => (validate(message) ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message}`));

    it('accepts a whole event in one call, with or without the chain fields', () => {
      expect(errors(event())).toEqual([]);
      const { service: _s, seq: _q, prevHash: _p, hash: _h, ...unchained } = event();
      expect(errors(unchained)).toEqual([]);
    });

    it('chooses the data schema by type', () => {
      expect(errors(event({ data: { kid: 'abc' } }))).toContain("/data must have required property 'alg'");
      expect(errors(event({ data: { kid: 'abc', alg: 'EdDSA', extra: 1 } }))).toContain('/data must NOT have additional properties');
      // The same data under another type is judged by that type's schema.
      expect(errors(event({ type: IdentityEvents.userCreated.type }))).not.toEqual([]);
    });

    it('refuses unknown types, another schemaVersion, a missing ip and unknown envelope fields', () => {
      expect(errors(event({ type: 'identity.nothing.happened' }))).toContain('/type must be equal to one of the allowed values');
      expect(errors(event({ schemaVersion: 99 }))).toContain('/schemaVersion must be equal to constant');
      const { ip: _ip, ...withoutIp } = event();
      expect(errors(withoutIp)).toContain(" must have required property 'ip'");
      expect(errors(event({ extra: true }))).toContain(' must NOT have additional properties');
    });
  });
});
