// The first of GraphiQL's example tabs (examples/01-open-high-priority-tickets.graphql holds the same text; a test keeps
// them equal), and the one GraphiQL opens with when examples/ is missing: filters, paging and the voice-ready fields.
export const EXAMPLE_QUERY = `# Open high-priority tickets, with what a voice would say about them.
query OpenHighPriorityTickets {
  tickets(filter: { status: OPEN, priority: HIGH }, first: 5) {
    totalCount
    voiceSummary
    metadata { queryContext voiceHint dataFreshness dataType totalPages }
    nodes { ticketId subject priority status createdAt customer { name email } }
    pageInfo { hasNextPage endCursor }
  }
  metricSummary(metric: "daily_active_users", lastDays: 7) {
    average trend latestValue voiceSummary
  }
}
`;
