/** Interfaces and unions with their object types, for Apollo: `new InMemoryCache({ possibleTypes })` (urql Graphcache: use introspection.ts). */
export const possibleTypes: Record<string, string[]> = {
  "Node": [
    "Customer",
    "Ticket"
  ],
  "VoiceEvent": [
    "AudioChunkEvent",
    "ResponseTextEvent",
    "ToolCallEvent",
    "ToolResultEvent",
    "TranscriptEvent",
    "TurnCompletedEvent",
    "TurnFailedEvent"
  ]
};
