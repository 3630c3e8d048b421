// Types of anchor-process.mjs (plain JavaScript, shared with PostGraphile v5's process).
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface AnchorOptions {
  url: string;
  mode: 'gate' | 'jwt' | 'none';
  secret: string;
}

export function anchorOptions(): AnchorOptions;
export function serveAnchor(anchor: {
  name: string;
  options: AnchorOptions;
  handle: (req: IncomingMessage, res: ServerResponse) => void;
  release: () => Promise<void>;
}): Promise<void>;
