import { applyDecorators, Injectable, Logger, SetMetadata, UseInterceptors, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { MessagePattern, RpcException, type NatsContext } from '@nestjs/microservices';
import { catchError, map, throwError, type Observable } from 'rxjs';
import { GantryError, type RequestContract } from '#contracts';
import { isDatabaseUnavailable } from '../db/database';
import { DeadlineExceededError, deadlineOf, withDeadline } from './deadline';

const RPC_CONTRACT = Symbol('gantry:rpc-contract');

/**
 * Serves a request contract over the Nest NATS transport: the payload is parsed with the
 * contract's schema before the handler sees it, the reply is checked against the reply schema, and
 * domain errors cross the wire as `{code, message, field}` (the only shape RpcException keeps).
 * A request whose caller has stopped waiting (its `Gantry-Deadline` passed) is not started, and
 * the handler runs under that deadline (see deadline.ts). A database that is down is a dependency
 * failure: `service_unavailable`, logged once per outage, not a 500 with a stack per request.
 */
export function RpcHandler(contract: RequestContract): MethodDecorator {
  return applyDecorators(MessagePattern(contract.subject), SetMetadata(RPC_CONTRACT, contract), UseInterceptors(RpcContractInterceptor));
}

@Injectable()
export class RpcContractInterceptor implements NestInterceptor {
  private readonly logger = new Logger('rpc');
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const contract = this.reflector.get<RequestContract>(RPC_CONTRACT, context.getHandler());
    const args = context.getArgs();
    const parsed = contract.request.safeParse(args[0]);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue.path.join('.') || undefined;
      const wire = new GantryError('invalid_request', field ? `${field}: ${issue.message}` : issue.message, field).toWire();
      return throwError(() => new RpcException(wire));
    }
    args[0] = parsed.data; // the handler receives the parsed value (defaults applied)
    const deadline = deadlineOf(context.switchToRpc().getContext<NatsContext>().getHeaders?.());
    if (deadline !== null && Date.now() >= deadline) {
      this.logger.debug?.(`${contract.subject}: dropped, the caller stopped waiting`);
      return throwError(() => new RpcException(new DeadlineExceededError(deadline).toWire()));
    }
    // handle() binds the handler's async context when called: inside withDeadline, it inherits it.
    return withDeadline(deadline, () => next.handle()).pipe(
      map((response) => contract.response.parse(response)),
      catchError((error: unknown) => throwError(() => this.toRpc(contract, error))),
    );
  }

  private toRpc(contract: RequestContract, error: unknown): RpcException {
    if (error instanceof GantryError) return new RpcException(error.toWire());
    // Logged once per outage by the Database itself, not once per request here.
    if (isDatabaseUnavailable(error)) return new RpcException(new GantryError('service_unavailable', 'the database is unavailable; retry shortly').toWire());
    this.logger.error(`${contract.subject} failed: ${error instanceof Error ? error.stack : String(error)}`);
    return new RpcException(new GantryError('internal_error', 'internal error').toWire());
  }
}

