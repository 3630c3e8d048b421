// The per-request GraphQL context: who is asking (tenant), a request id for logs, and the app's services.
import type { Connectors } from '../connectors';
import type { VoiceService } from '../voice/service';
import type { Logger } from './logger';

/** What the app holds for every request; built once in buildApp. */
export interface AppServices {
  connectors: Connectors;
  log: Logger;
  tenantId: string;
  /** The voice pipeline (src/voice); absent when the app runs without it. */
  voice?: VoiceService;
}

export interface GraphQLContext extends AppServices {
  requestId: string;
}
