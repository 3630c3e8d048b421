// Voice-ready metadata, as pure functions: spoken summaries, hints, query context, data type, freshness, trend.
export * from './metadata';
export * from './summaries';
export * from './freshness';
export * from './trend';
