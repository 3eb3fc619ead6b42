import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { ALL_EVENTS, eventJsonSchemas } from './json-schemas';

describe('published JSON Schemas of events', () => {
  it('schemas/events.schema.json matches the contracts (run `npm run schemas` after changing an event)', () => {
    const committed = JSON.parse(readFileSync('schemas/events.schema.json', 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(eventJsonSchemas())));
  });

  it('covers every event type, each on events.<type>', () => {
    const { events } = eventJsonSchemas();
    expect(Object.keys(events).sort()).toEqual(ALL_EVENTS.map((e) => e.type).sort());
    for (const [type, entry] of Object.entries(events)) expect(entry.subject).toBe(`events.${type}`);
  });
});
