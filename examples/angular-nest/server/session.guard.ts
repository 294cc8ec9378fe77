/**
 * The application's own authentication, run once per gateway connection: a browser cannot set
 * headers on a WebSocket, but it sends the application's session cookie with the upgrade request.
 */
import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';

/** Replace with the application's session store. */
const SESSIONS = new Set((process.env['DEMO_SESSIONS'] ?? 'demo-session').split(','));

@Injectable()
export class SessionGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<IncomingMessage>();
    const cookie = request.headers.cookie ?? '';
    const session = /(?:^|;\s*)session=([^;]+)/.exec(cookie)?.[1];
    if (session === undefined || !SESSIONS.has(session)) throw new UnauthorizedException();
    return true;
  }
}
