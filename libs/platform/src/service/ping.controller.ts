import { Controller, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { PingResponse, RequestContract } from '#contracts';
import { Database } from '../db/database';
import { RpcHandler } from '../messaging/rpc-handler';

/** Anything the ping should check besides the service's own PostgreSQL (e.g. its S3 bucket). */
export interface HealthCheck {
  isUp(): Promise<boolean>;
}

/** A controller answering the service's health ping after checking its dependencies. */
export function pingController(service: string, contract: RequestContract, checks: Record<string, Type<HealthCheck>> = {}): Type {
  @Controller()
  class PingController {
    constructor(
      private readonly db: Database,
      private readonly moduleRef: ModuleRef,
    ) {}

    @RpcHandler(contract)
    async ping(): Promise<PingResponse> {
      const named: [string, HealthCheck][] = [['postgres', this.db], ...Object.entries(checks).map(([name, type]) => [name, this.moduleRef.get(type, { strict: false })] as [string, HealthCheck])];
      const results = await Promise.all(named.map(async ([name, check]) => [name, (await check.isUp()) ? 'up' : 'down'] as const));
      const status = results.every(([, state]) => state === 'up') ? 'ok' : 'degraded';
      return { service, status, checks: Object.fromEntries(results) };
    }
  }
  return PingController;
}
