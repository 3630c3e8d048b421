// Types of anchor-gate.mjs (plain JavaScript, shared with PostGraphile v5's process).
import type { IncomingMessage, ServerResponse } from 'node:http';

export function passesGate(req: IncomingMessage, res: ServerResponse, secret: string): boolean;
export function gateToken(secret: string): string;
