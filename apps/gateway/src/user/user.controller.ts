import { Controller, Get } from '@nestjs/common';
import type { Principal } from '#contracts';
import { CurrentPrincipal } from '../auth/principal';

@Controller()
export class UserController {
  /** The caller as the gateway authenticated them. */
  @Get('/api/v1/user')
  whoami(@CurrentPrincipal() principal: Principal) {
    return {
      kind: principal.kind,
      user: principal.userId ? { id: principal.userId, username: principal.username, role: principal.role } : null,
      repoId: principal.repoId,
      runId: principal.runId,
      scopes: principal.scopes,
      expiresAt: principal.expiresAt === null ? null : new Date(principal.expiresAt * 1000).toISOString(),
    };
  }
}
