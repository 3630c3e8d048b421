/* eslint-disable */
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
export type Maybe<T> = T | null;
export type InputMaybe<T> = T | null | undefined;
export type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
export type MakeOptional<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]?: Maybe<T[SubKey]> };
export type MakeMaybe<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]: Maybe<T[SubKey]> };
export type MakeEmpty<T extends { [key: string]: unknown }, K extends keyof T> = { [_ in K]?: never };
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** A calendar day, YYYY-MM-DD. */
  Date: { input: string; output: string; }
  /** An instant in ISO 8601, e.g. 2026-11-25T08:00:00.000Z (inputs without an offset are read as UTC). */
  DateTime: { input: string; output: string; }
};

/** Container of an uploaded recording. The offline (local) provider reads WAV only. */
export type AudioFormat =
  | 'FLAC'
  | 'MP3'
  | 'OGG'
  | 'WAV'
  | 'WEBM';

export type CustomerFilter = {
  /** Created at or after this instant. */
  createdAfter?: InputMaybe<Scalars['DateTime']['input']>;
  /** Created before this instant. */
  createdBefore?: InputMaybe<Scalars['DateTime']['input']>;
  /** Case-insensitive substring of name or email, 1 to 200 characters. */
  search?: InputMaybe<Scalars['String']['input']>;
  status?: InputMaybe<CustomerStatus>;
};

export type CustomerOrder =
  | 'CUSTOMER_ID_ASC'
  | 'CUSTOMER_ID_DESC'
  | 'NAME_ASC'
  | 'NAME_DESC'
  | 'NEWEST_FIRST'
  | 'OLDEST_FIRST';

export type CustomerStatus =
  | 'ACTIVE'
  | 'INACTIVE';

/** What kind of result a page is, so a voice or screen can choose how to present it. */
export type DataType =
  | 'EMPTY'
  | 'HIERARCHICAL'
  | 'SUMMARY'
  | 'TABULAR'
  | 'TIME_SERIES';

export type MetricFilter = {
  /** First day, inclusive. */
  from?: InputMaybe<Scalars['Date']['input']>;
  /** The N days ending today (UTC), 1 to 3650; not with from/to. */
  lastDays?: InputMaybe<Scalars['Int']['input']>;
  /** One metric by name (see metricNames). */
  metric?: InputMaybe<Scalars['String']['input']>;
  /** Last day, inclusive. */
  to?: InputMaybe<Scalars['Date']['input']>;
};

export type TicketFilter = {
  /** Created at or after this instant. */
  createdAfter?: InputMaybe<Scalars['DateTime']['input']>;
  /** Created before this instant. */
  createdBefore?: InputMaybe<Scalars['DateTime']['input']>;
  /** Only this customer’s tickets (ignored under Customer.tickets, which is already one customer). */
  customerId?: InputMaybe<Scalars['Int']['input']>;
  priority?: InputMaybe<TicketPriority>;
  /** Case-insensitive substring of the subject, 1 to 200 characters. */
  search?: InputMaybe<Scalars['String']['input']>;
  status?: InputMaybe<TicketStatus>;
};

/** PRIORITY (default): HIGH, then MEDIUM, then LOW; newest first within a priority. */
export type TicketOrder =
  | 'NEWEST_FIRST'
  | 'OLDEST_FIRST'
  | 'PRIORITY'
  | 'TICKET_ID_ASC'
  | 'TICKET_ID_DESC';

export type TicketPriority =
  | 'HIGH'
  | 'LOW'
  | 'MEDIUM';

export type TicketStatus =
  | 'CLOSED'
  | 'OPEN';

/** The newer half of a period's average against the older half's (±5% counts as FLAT). */
export type Trend =
  | 'DOWN'
  | 'FLAT'
  | 'UP';

/** Why a turn ended without an answer. */
export type VoiceErrorCode =
  /** Not base64, empty, not the declared format, undecodable, or no speech recognised. */
  | 'BAD_AUDIO'
  /** Cancelled with Mutation.cancelVoiceTurn. */
  | 'CANCELLED'
  /** A server-side failure; it has been logged. */
  | 'INTERNAL'
  /** A newer turn on the same session started (barge-in), or the server is shutting down. */
  | 'INTERRUPTED'
  /** Speech was heard, but the recogniser is not sure what was asked ("Sorry, I didn’t catch that"); say it again. */
  | 'NOT_UNDERSTOOD'
  /** The provider rejected the API key. */
  | 'PROVIDER_AUTH'
  /** The provider rejected the request (4xx). */
  | 'PROVIDER_REJECTED'
  /** The provider did not answer within GROQ_TIMEOUT_MS. */
  | 'PROVIDER_TIMEOUT'
  /** The provider failed (5xx or network) after the retries. */
  | 'PROVIDER_UNAVAILABLE'
  /** The provider kept answering 429 after the retries. */
  | 'RATE_LIMITED'
  /** Audio sent to a server without speech-to-text (the message says what to install). */
  | 'STT_UNAVAILABLE';

export type VoiceInputKind =
  | 'AUDIO'
  | 'TEXT';

/** One spoken or typed question. Give exactly one of text or audio. */
export type VoiceTurnInput = {
  /** The recording, base64-encoded; at most 25 MB once decoded. */
  audio?: InputMaybe<Scalars['String']['input']>;
  /** Container of audio; WAV when left out. */
  audioFormat?: InputMaybe<AudioFormat>;
  /** Continue this session (its conversation memory); leave out to start a new one. */
  sessionId?: InputMaybe<Scalars['ID']['input']>;
  /** The question as text (skips speech-to-text). */
  text?: InputMaybe<Scalars['String']['input']>;
  /** Text-to-speech voice (Groq Orpheus: autumn, diana, hannah, austin, daniel, troy; local: an espeak-ng voice such as en-us). */
  voice?: InputMaybe<Scalars['String']['input']>;
};

export type VoiceTurnStatus =
  /** Ended with TurnCompletedEvent. */
  | 'COMPLETED'
  /** Ended with TurnFailedEvent (see errorCode). */
  | 'FAILED'
  /** Ended before its answer: by a newer turn on the same session (barge-in), by cancelVoiceTurn (errorCode CANCELLED) or by shutdown. */
  | 'INTERRUPTED'
  /** Started; events are being produced. */
  | 'RUNNING';

export type OpenHighPriorityTicketsQueryVariables = Exact<{ [key: string]: never; }>;


export type OpenHighPriorityTicketsQuery = { tickets: { __typename: 'TicketConnection', totalCount: number, voiceSummary: string, metadata: { __typename: 'ResultMetadata', queryContext: string, voiceHint: string | null, dataFreshness: string, dataType: DataType, totalPages: number }, nodes: Array<{ __typename: 'Ticket', ticketId: number, subject: string, priority: TicketPriority, status: TicketStatus, createdAt: string, customer: { __typename: 'Customer', name: string, email: string } | null }>, pageInfo: { __typename: 'PageInfo', hasNextPage: boolean, endCursor: string | null } }, metricSummary: { __typename: 'MetricSummary', average: number | null, trend: Trend, latestValue: number | null, voiceSummary: string } };

export type ActiveCustomersQueryVariables = Exact<{ [key: string]: never; }>;


export type ActiveCustomersQuery = { customers: { __typename: 'CustomerConnection', totalCount: number, voiceSummary: string, metadata: { __typename: 'ResultMetadata', page: number | null, totalPages: number, voiceHint: string | null }, nodes: Array<{ __typename: 'Customer', customerId: number, name: string, email: string, createdAt: string, tickets: { __typename: 'TicketConnection', totalCount: number, nodes: Array<{ __typename: 'Ticket', ticketId: number, subject: string, priority: TicketPriority }> } }> } };

export type CustomerWithTicketsQueryVariables = Exact<{
  customerId?: Scalars['Int']['input'];
}>;


export type CustomerWithTicketsQuery = { customer: { __typename: 'Customer', customerId: number, name: string, email: string, status: CustomerStatus, createdAt: string, tickets: { __typename: 'TicketConnection', totalCount: number, voiceSummary: string, nodes: Array<{ __typename: 'Ticket', ticketId: number, subject: string, priority: TicketPriority, status: TicketStatus, createdAt: string }>, pageInfo: { __typename: 'PageInfo', hasNextPage: boolean, endCursor: string | null } } } | null };

export type MetricOverviewQueryVariables = Exact<{ [key: string]: never; }>;


export type MetricOverviewQuery = { metricNames: Array<string>, metricSummary: { __typename: 'MetricSummary', metric: string, from: string | null, to: string | null, dataPoints: number, average: number | null, min: number | null, max: number | null, latestValue: number | null, latestDate: string | null, trend: Trend, voiceSummary: string }, metrics: { __typename: 'MetricConnection', totalCount: number, nodes: Array<{ __typename: 'MetricPoint', date: string, value: number }>, pageInfo: { __typename: 'PageInfo', hasNextPage: boolean, endCursor: string | null } } };

export type AskByVoiceMutationVariables = Exact<{ [key: string]: never; }>;


export type AskByVoiceMutation = { voiceTurn: { __typename: 'VoiceTurn', id: string, sessionId: string, status: VoiceTurnStatus } };

export type VoiceEventsSubscriptionVariables = Exact<{
  sessionId: Scalars['ID']['input'];
  turnId?: InputMaybe<Scalars['ID']['input']>;
}>;


export type VoiceEventsSubscription = { voiceEvents:
    | { __typename: 'AudioChunkEvent', index: number, mimeType: string, sampleRate: number, text: string, seq: number, at: string }
    | { __typename: 'ResponseTextEvent', text: string, seq: number, at: string }
    | { __typename: 'ToolCallEvent', tool: string, arguments: string, seq: number, at: string }
    | { __typename: 'ToolResultEvent', tool: string, summary: string, seq: number, at: string }
    | { __typename: 'TranscriptEvent', text: string, seq: number, at: string }
    | { __typename: 'TurnCompletedEvent', responseText: string, seq: number, at: string, timings: { __typename: 'TurnTimings', sttMs: number | null, agentMs: number | null, firstAudioMs: number | null, totalMs: number } }
    | { __typename: 'TurnFailedEvent', code: VoiceErrorCode, message: string, retryable: boolean, seq: number, at: string }
   };

export type MetricsPageQueryVariables = Exact<{
  filter?: InputMaybe<MetricFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
}>;


export type MetricsPageQuery = { metrics: { __typename: 'MetricConnection', totalCount: number, edges: Array<{ __typename: 'MetricEdge', cursor: string, node: { __typename: 'MetricPoint', id: string, metric: string, date: string, value: number } }>, pageInfo: { __typename: 'PageInfo', hasNextPage: boolean, endCursor: string | null } } };

export type MetricSummaryCardQueryVariables = Exact<{
  metric: Scalars['String']['input'];
  lastDays?: InputMaybe<Scalars['Int']['input']>;
  from?: InputMaybe<Scalars['Date']['input']>;
  to?: InputMaybe<Scalars['Date']['input']>;
}>;


export type MetricSummaryCardQuery = { metricSummary: { __typename: 'MetricSummary', id: string, metric: string, from: string | null, to: string | null, dataPoints: number, average: number | null, min: number | null, max: number | null, latestValue: number | null, latestDate: string | null, trend: Trend, voiceSummary: string } };

export type TicketsPageQueryVariables = Exact<{
  filter?: InputMaybe<TicketFilter>;
  orderBy?: InputMaybe<TicketOrder>;
  first?: InputMaybe<Scalars['Int']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
}>;


export type TicketsPageQuery = { tickets: { __typename: 'TicketConnection', totalCount: number, voiceSummary: string, metadata: { __typename: 'ResultMetadata', totalResults: number, totalPages: number, dataType: DataType, dataFreshness: string, queryContext: string }, edges: Array<{ __typename: 'TicketEdge', cursor: string, node: { __typename: 'Ticket', id: string, ticketId: number, subject: string, priority: TicketPriority, status: TicketStatus, createdAt: string, customer: { __typename: 'Customer', id: string, customerId: number, name: string } | null } }>, pageInfo: { __typename: 'PageInfo', hasNextPage: boolean, endCursor: string | null } } };

export type AskVoiceMutationVariables = Exact<{
  input: VoiceTurnInput;
}>;


export type AskVoiceMutation = { voiceTurn: { __typename: 'VoiceTurn', id: string, sessionId: string, status: VoiceTurnStatus, inputKind: VoiceInputKind } };

export type FollowVoiceTurnSubscriptionVariables = Exact<{
  sessionId: Scalars['ID']['input'];
  turnId?: InputMaybe<Scalars['ID']['input']>;
}>;


export type FollowVoiceTurnSubscription = { voiceEvents:
    | { __typename: 'AudioChunkEvent', index: number, mimeType: string, sampleRate: number, data: string, text: string, id: string, sessionId: string, turnId: string, seq: number, at: string }
    | { __typename: 'ResponseTextEvent', text: string, id: string, sessionId: string, turnId: string, seq: number, at: string }
    | { __typename: 'ToolCallEvent', tool: string, arguments: string, id: string, sessionId: string, turnId: string, seq: number, at: string }
    | { __typename: 'ToolResultEvent', tool: string, summary: string, id: string, sessionId: string, turnId: string, seq: number, at: string }
    | { __typename: 'TranscriptEvent', text: string, id: string, sessionId: string, turnId: string, seq: number, at: string }
    | { __typename: 'TurnCompletedEvent', responseText: string, id: string, sessionId: string, turnId: string, seq: number, at: string, timings: { __typename: 'TurnTimings', sttMs: number | null, agentMs: number | null, firstAudioMs: number | null, totalMs: number } }
    | { __typename: 'TurnFailedEvent', code: VoiceErrorCode, message: string, retryable: boolean, id: string, sessionId: string, turnId: string, seq: number, at: string }
   };

export type VoiceSessionHistoryQueryVariables = Exact<{
  sessionId: Scalars['ID']['input'];
}>;


export type VoiceSessionHistoryQuery = { voiceSession: { __typename: 'VoiceSession', id: string, createdAt: string, updatedAt: string, turns: Array<{ __typename: 'VoiceTurn', id: string, sessionId: string, status: VoiceTurnStatus, inputKind: VoiceInputKind, transcript: string | null, responseText: string | null, errorCode: VoiceErrorCode | null, startedAt: string, finishedAt: string | null }> } | null };


export const OpenHighPriorityTicketsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"OpenHighPriorityTickets"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"tickets"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"status"},"value":{"kind":"EnumValue","value":"OPEN"}},{"kind":"ObjectField","name":{"kind":"Name","value":"priority"},"value":{"kind":"EnumValue","value":"HIGH"}}]}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"5"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"voiceSummary"}},{"kind":"Field","name":{"kind":"Name","value":"metadata"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"queryContext"}},{"kind":"Field","name":{"kind":"Name","value":"voiceHint"}},{"kind":"Field","name":{"kind":"Name","value":"dataFreshness"}},{"kind":"Field","name":{"kind":"Name","value":"dataType"}},{"kind":"Field","name":{"kind":"Name","value":"totalPages"}}]}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"ticketId"}},{"kind":"Field","name":{"kind":"Name","value":"subject"}},{"kind":"Field","name":{"kind":"Name","value":"priority"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"customer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"email"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"metricSummary"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"metric"},"value":{"kind":"StringValue","value":"daily_active_users","block":false}},{"kind":"Argument","name":{"kind":"Name","value":"lastDays"},"value":{"kind":"IntValue","value":"7"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"average"}},{"kind":"Field","name":{"kind":"Name","value":"trend"}},{"kind":"Field","name":{"kind":"Name","value":"latestValue"}},{"kind":"Field","name":{"kind":"Name","value":"voiceSummary"}}]}}]}}]} as unknown as DocumentNode<OpenHighPriorityTicketsQuery, OpenHighPriorityTicketsQueryVariables>;
export const ActiveCustomersDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ActiveCustomers"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"customers"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"status"},"value":{"kind":"EnumValue","value":"ACTIVE"}}]}},{"kind":"Argument","name":{"kind":"Name","value":"orderBy"},"value":{"kind":"EnumValue","value":"NEWEST_FIRST"}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"10"}},{"kind":"Argument","name":{"kind":"Name","value":"page"},"value":{"kind":"IntValue","value":"1"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"voiceSummary"}},{"kind":"Field","name":{"kind":"Name","value":"metadata"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"page"}},{"kind":"Field","name":{"kind":"Name","value":"totalPages"}},{"kind":"Field","name":{"kind":"Name","value":"voiceHint"}}]}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"customerId"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"email"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"tickets"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"status"},"value":{"kind":"EnumValue","value":"OPEN"}}]}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"3"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"ticketId"}},{"kind":"Field","name":{"kind":"Name","value":"subject"}},{"kind":"Field","name":{"kind":"Name","value":"priority"}}]}}]}}]}}]}}]}}]} as unknown as DocumentNode<ActiveCustomersQuery, ActiveCustomersQueryVariables>;
export const CustomerWithTicketsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"CustomerWithTickets"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"customerId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},"defaultValue":{"kind":"IntValue","value":"1"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"customer"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"customerId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"customerId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"customerId"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"email"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"tickets"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"10"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"voiceSummary"}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"ticketId"}},{"kind":"Field","name":{"kind":"Name","value":"subject"}},{"kind":"Field","name":{"kind":"Name","value":"priority"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}}]}}]}}]}}]} as unknown as DocumentNode<CustomerWithTicketsQuery, CustomerWithTicketsQueryVariables>;
export const MetricOverviewDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"MetricOverview"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"metricNames"}},{"kind":"Field","name":{"kind":"Name","value":"metricSummary"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"metric"},"value":{"kind":"StringValue","value":"daily_active_users","block":false}},{"kind":"Argument","name":{"kind":"Name","value":"lastDays"},"value":{"kind":"IntValue","value":"30"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"metric"}},{"kind":"Field","name":{"kind":"Name","value":"from"}},{"kind":"Field","name":{"kind":"Name","value":"to"}},{"kind":"Field","name":{"kind":"Name","value":"dataPoints"}},{"kind":"Field","name":{"kind":"Name","value":"average"}},{"kind":"Field","name":{"kind":"Name","value":"min"}},{"kind":"Field","name":{"kind":"Name","value":"max"}},{"kind":"Field","name":{"kind":"Name","value":"latestValue"}},{"kind":"Field","name":{"kind":"Name","value":"latestDate"}},{"kind":"Field","name":{"kind":"Name","value":"trend"}},{"kind":"Field","name":{"kind":"Name","value":"voiceSummary"}}]}},{"kind":"Field","name":{"kind":"Name","value":"metrics"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"metric"},"value":{"kind":"StringValue","value":"revenue","block":false}},{"kind":"ObjectField","name":{"kind":"Name","value":"lastDays"},"value":{"kind":"IntValue","value":"30"}}]}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"7"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"date"}},{"kind":"Field","name":{"kind":"Name","value":"value"}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}}]}}]}}]} as unknown as DocumentNode<MetricOverviewQuery, MetricOverviewQueryVariables>;
export const AskByVoiceDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"AskByVoice"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"voiceTurn"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"text"},"value":{"kind":"StringValue","value":"How many open high-priority tickets do we have?","block":false}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"sessionId"}},{"kind":"Field","name":{"kind":"Name","value":"status"}}]}}]}}]} as unknown as DocumentNode<AskByVoiceMutation, AskByVoiceMutationVariables>;
export const VoiceEventsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"VoiceEvents"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"sessionId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"turnId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"voiceEvents"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"sessionId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"sessionId"}}},{"kind":"Argument","name":{"kind":"Name","value":"turnId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"turnId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"seq"}},{"kind":"Field","name":{"kind":"Name","value":"at"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"TranscriptEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"text"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ToolCallEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"tool"}},{"kind":"Field","name":{"kind":"Name","value":"arguments"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ToolResultEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"tool"}},{"kind":"Field","name":{"kind":"Name","value":"summary"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResponseTextEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"text"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"AudioChunkEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"index"}},{"kind":"Field","name":{"kind":"Name","value":"mimeType"}},{"kind":"Field","name":{"kind":"Name","value":"sampleRate"}},{"kind":"Field","name":{"kind":"Name","value":"text"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"TurnCompletedEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"responseText"}},{"kind":"Field","name":{"kind":"Name","value":"timings"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"sttMs"}},{"kind":"Field","name":{"kind":"Name","value":"agentMs"}},{"kind":"Field","name":{"kind":"Name","value":"firstAudioMs"}},{"kind":"Field","name":{"kind":"Name","value":"totalMs"}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"TurnFailedEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"retryable"}}]}}]}}]}}]} as unknown as DocumentNode<VoiceEventsSubscription, VoiceEventsSubscriptionVariables>;
export const MetricsPageDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"MetricsPage"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"filter"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"MetricFilter"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}},"defaultValue":{"kind":"IntValue","value":"10"}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"metrics"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"Variable","name":{"kind":"Name","value":"filter"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"metric"}},{"kind":"Field","name":{"kind":"Name","value":"date"}},{"kind":"Field","name":{"kind":"Name","value":"value"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}}]}}]}}]} as unknown as DocumentNode<MetricsPageQuery, MetricsPageQueryVariables>;
export const MetricSummaryCardDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"MetricSummaryCard"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"metric"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"lastDays"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"from"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Date"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"to"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Date"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"metricSummary"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"metric"},"value":{"kind":"Variable","name":{"kind":"Name","value":"metric"}}},{"kind":"Argument","name":{"kind":"Name","value":"lastDays"},"value":{"kind":"Variable","name":{"kind":"Name","value":"lastDays"}}},{"kind":"Argument","name":{"kind":"Name","value":"from"},"value":{"kind":"Variable","name":{"kind":"Name","value":"from"}}},{"kind":"Argument","name":{"kind":"Name","value":"to"},"value":{"kind":"Variable","name":{"kind":"Name","value":"to"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"metric"}},{"kind":"Field","name":{"kind":"Name","value":"from"}},{"kind":"Field","name":{"kind":"Name","value":"to"}},{"kind":"Field","name":{"kind":"Name","value":"dataPoints"}},{"kind":"Field","name":{"kind":"Name","value":"average"}},{"kind":"Field","name":{"kind":"Name","value":"min"}},{"kind":"Field","name":{"kind":"Name","value":"max"}},{"kind":"Field","name":{"kind":"Name","value":"latestValue"}},{"kind":"Field","name":{"kind":"Name","value":"latestDate"}},{"kind":"Field","name":{"kind":"Name","value":"trend"}},{"kind":"Field","name":{"kind":"Name","value":"voiceSummary"}}]}}]}}]} as unknown as DocumentNode<MetricSummaryCardQuery, MetricSummaryCardQueryVariables>;
export const TicketsPageDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"TicketsPage"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"filter"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"TicketFilter"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"orderBy"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"TicketOrder"}},"defaultValue":{"kind":"EnumValue","value":"PRIORITY"}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}},"defaultValue":{"kind":"IntValue","value":"10"}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"tickets"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"Variable","name":{"kind":"Name","value":"filter"}}},{"kind":"Argument","name":{"kind":"Name","value":"orderBy"},"value":{"kind":"Variable","name":{"kind":"Name","value":"orderBy"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"voiceSummary"}},{"kind":"Field","name":{"kind":"Name","value":"metadata"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalResults"}},{"kind":"Field","name":{"kind":"Name","value":"totalPages"}},{"kind":"Field","name":{"kind":"Name","value":"dataType"}},{"kind":"Field","name":{"kind":"Name","value":"dataFreshness"}},{"kind":"Field","name":{"kind":"Name","value":"queryContext"}}]}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"ticketId"}},{"kind":"Field","name":{"kind":"Name","value":"subject"}},{"kind":"Field","name":{"kind":"Name","value":"priority"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"customer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"customerId"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}}]}}]}}]} as unknown as DocumentNode<TicketsPageQuery, TicketsPageQueryVariables>;
export const AskVoiceDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"AskVoice"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"VoiceTurnInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"voiceTurn"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"sessionId"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"inputKind"}}]}}]}}]} as unknown as DocumentNode<AskVoiceMutation, AskVoiceMutationVariables>;
export const FollowVoiceTurnDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"FollowVoiceTurn"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"sessionId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"turnId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"voiceEvents"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"sessionId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"sessionId"}}},{"kind":"Argument","name":{"kind":"Name","value":"turnId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"turnId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"sessionId"}},{"kind":"Field","name":{"kind":"Name","value":"turnId"}},{"kind":"Field","name":{"kind":"Name","value":"seq"}},{"kind":"Field","name":{"kind":"Name","value":"at"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"TranscriptEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"text"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ToolCallEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"tool"}},{"kind":"Field","name":{"kind":"Name","value":"arguments"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ToolResultEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"tool"}},{"kind":"Field","name":{"kind":"Name","value":"summary"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ResponseTextEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"text"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"AudioChunkEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"index"}},{"kind":"Field","name":{"kind":"Name","value":"mimeType"}},{"kind":"Field","name":{"kind":"Name","value":"sampleRate"}},{"kind":"Field","name":{"kind":"Name","value":"data"}},{"kind":"Field","name":{"kind":"Name","value":"text"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"TurnCompletedEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"responseText"}},{"kind":"Field","name":{"kind":"Name","value":"timings"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"sttMs"}},{"kind":"Field","name":{"kind":"Name","value":"agentMs"}},{"kind":"Field","name":{"kind":"Name","value":"firstAudioMs"}},{"kind":"Field","name":{"kind":"Name","value":"totalMs"}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"TurnFailedEvent"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"retryable"}}]}}]}}]}}]} as unknown as DocumentNode<FollowVoiceTurnSubscription, FollowVoiceTurnSubscriptionVariables>;
export const VoiceSessionHistoryDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"VoiceSessionHistory"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"sessionId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"voiceSession"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"sessionId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"sessionId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}},{"kind":"Field","name":{"kind":"Name","value":"turns"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"sessionId"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"inputKind"}},{"kind":"Field","name":{"kind":"Name","value":"transcript"}},{"kind":"Field","name":{"kind":"Name","value":"responseText"}},{"kind":"Field","name":{"kind":"Name","value":"errorCode"}},{"kind":"Field","name":{"kind":"Name","value":"startedAt"}},{"kind":"Field","name":{"kind":"Name","value":"finishedAt"}}]}}]}}]}}]} as unknown as DocumentNode<VoiceSessionHistoryQuery, VoiceSessionHistoryQueryVariables>;