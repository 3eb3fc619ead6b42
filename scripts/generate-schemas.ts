import { mkdirSync, writeFileSync } from 'node:fs';
import { eventJsonSchema } from '#contracts';

/** `npm run schemas`: writes schemas/events.schema.json from libs/contracts (a test keeps it current). */
mkdirSync('schemas', { recursive: true });
writeFileSync('schemas/events.schema.json', JSON.stringify(eventJsonSchema(), null, 2) + '\n');
console.log('wrote schemas/events.schema.json');
