import { applyDecorators, Injectable, Logger, SetMetadata, UseInterceptors, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { MessagePattern, RpcException } from '@nestjs/microservices';
import { catchError, map, throwError, type Observable } from 'rxjs';
import { GantryError, type RequestContract } from '#contracts';

const RPC_CONTRACT = Symbol('gantry:rpc-contract');

/**
 * Serves a request contract over the Nest NATS transport: the payload is parsed with the
 * contract's schema before the handler sees it, the reply is checked against the reply schema, and
 * domain errors cross the wire as `{code, message, field}` (the only shape RpcException keeps).
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
    return next.handle().pipe(
      map((response) => contract.response.parse(response)),
      catchError((error: unknown) => throwError(() => this.toRpc(contract, error))),
    );
  }

  private toRpc(contract: RequestContract, error: unknown): RpcException {
    if (error instanceof GantryError) return new RpcException(error.toWire());
    this.logger.error(`${contract.subject} failed: ${error instanceof Error ? error.stack : String(error)}`);
    return new RpcException(new GantryError('internal_error', 'internal error').toWire());
  }
}
