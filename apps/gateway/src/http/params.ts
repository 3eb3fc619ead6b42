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
