import { Param, type PipeTransform } from '@nestjs/common';
import { z } from 'zod';
import { GantryError } from '#contracts';

const Uuid = z.uuid();

/** An id in the path that is not a UUID names nothing: 404, like an unknown one. */
class UuidPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!Uuid.safeParse(value).success) throw new GantryError('not_found', 'no such resource');
    return value;
  }
}

export const IdParam = (name = 'id') => Param(name, new UuidPipe());

/**
 * A path parameter that must match `schema`. Reading: anything else names nothing (404). Creating
 * (`invalid: 'invalid_request'`): 400 naming the parameter and the rule.
 */
class SchemaPipe implements PipeTransform<string, string> {
  constructor(
    private readonly name: string,
    private readonly schema: z.ZodType<string>,
    private readonly invalid: 'not_found' | 'invalid_request',
  ) {}
  transform(value: string): string {
    const parsed = this.schema.safeParse(value);
    if (parsed.success) return value;
    if (this.invalid === 'not_found') throw new GantryError('not_found', 'no such resource');
    throw new GantryError('invalid_request', `${this.name}: ${parsed.error.issues[0].message}`, this.name);
  }
}

export const ParsedParam = (name: string, schema: z.ZodType<string>, invalid: 'not_found' | 'invalid_request' = 'not_found') =>
  Param(name, new SchemaPipe(name, schema, invalid));
