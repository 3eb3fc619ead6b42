import { Injectable, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { GantryError } from '#contracts';

/** Parses a body (or query) with a contract schema; the first problem becomes a 400 naming the field. */
@Injectable()
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.infer<S> {
    const result = this.schema.safeParse(value ?? {});
    if (result.success) return result.data;
    const issue = result.error.issues[0];
    const field = issue.path.join('.') || undefined;
    const detail = issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message;
    const name = issue.code === 'unrecognized_keys' ? issue.keys[0] : field;
    throw new GantryError('invalid_request', name && issue.code !== 'unrecognized_keys' ? `${name}: ${detail}` : detail, name);
  }
}
