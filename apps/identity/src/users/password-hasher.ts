import { Injectable } from '@nestjs/common';
import { hash, verify } from '@node-rs/argon2';

// Algorithm is an ambient const enum (unusable with isolatedModules): 2 = Argon2id.
const ARGON2ID = 2;

/** argon2id with the OWASP-recommended parameters (19 MiB, 2 passes). */
@Injectable()
export class PasswordHasher {
  private readonly options = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 };
  // Verified against when the user does not exist, so both paths cost the same.
  private readonly dummy = hash('gantry-dummy-password', this.options);

  hash(password: string): Promise<string> {
    return hash(password, this.options);
  }

  async verify(passwordHash: string | null, password: string): Promise<boolean> {
    const target = passwordHash ?? (await this.dummy);
    const ok = await verify(target, password).catch(() => false);
    return ok && passwordHash !== null;
  }
}
