// The agent: a LangGraph state graph (model ⇄ tools) built by a factory from injected parts; nothing compiles at import.
// Its nodes report what happens as it happens (text as the model writes it, tool calls, tool results) to a function the
// caller passes in the run's configurable (AGENT_EVENTS_KEY), called in place. Only the model call carries a callback
// handler.
// A run may start before the question is known (speech still being transcribed): its first model step waits for it.
import { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import type { CallbackManager } from '@langchain/core/callbacks/manager';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage, type BaseMessage, HumanMessage, SystemMessage, ToolMessage } from '@langchain/core/messages';
import type { StructuredToolInterface } from '@langchain/core/tools';
import { type BaseCheckpointSaver, END, type LangGraphRunnableConfig, MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';
import { ToolNode } from '@langchain/langgraph/prebuilt';
import { SYSTEM_PROMPT } from './prompt';
import { toolResultSummary } from './tools';

/** What the agent's nodes report, in the order it happens. */
export type AgentEvent =
  | { type: 'text'; text: string }
  /** The model's message is complete: whatever text is buffered can be spoken now, before the graph saves its step. */
  | { type: 'message-end' }
  | { type: 'tool-call'; tool: string; arguments: string }
  | { type: 'tool-result'; tool: string; summary: string };

/**
 * The run's configurable key for a question that is still on its way (a PendingQuestion). With it, the caller starts
 * the run (loading the conversation) while speech-to-text is still working, and passes no messages in the input; the
 * first model step waits for the text and stores the question with the model's answer, in one step. Without it, the
 * question comes in the input as usual.
 */
export const PENDING_QUESTION_KEY = 'pendingQuestion';

export interface PendingQuestion {
  /** The question message's id (the turn's id): how a later step, or rememberQuestion, knows it is already stored. */
  id: string;
  text: Promise<string>;
}

/**
 * The run's configurable key for a function that receives every AgentEvent synchronously, as it happens. A voice turn
 * uses it: a sentence reaches speech without a hop through the graph's output stream.
 */
export const AGENT_EVENTS_KEY = 'agentEvents';

/** The run's AgentEvent function; a run without one (a plain invoke) reports to nobody. */
function reporter(config: LangGraphRunnableConfig): (event: AgentEvent) => void {
  return (config.configurable?.[AGENT_EVENTS_KEY] as ((event: AgentEvent) => void) | undefined) ?? (() => {});
}

/**
 * Hands the model's text to the run's AgentEvent function token by token. It asks the model to stream
 * (lc_prefer_streaming) and is awaited inline (not queued in the background), so a token is out before the model reads
 * the next one. It is added to
 * the model call only, so the rest of the graph runs with no callback handler at all.
 */
class TextForwarder extends BaseCallbackHandler {
  name = 'agent_text_forwarder';
  lc_prefer_streaming = true;

  constructor(private readonly write: (event: AgentEvent) => void) {
    super({ _awaitHandler: true });
  }

  override handleLLMNewToken(token: string): void {
    if (token) this.write({ type: 'text', text: token });
  }
}

/** The run's callbacks (a manager, a list or none) plus one more handler, leaving the run's own untouched. */
function withHandler(callbacks: LangGraphRunnableConfig['callbacks'], handler: BaseCallbackHandler): LangGraphRunnableConfig['callbacks'] {
  if (callbacks === undefined) return [handler];
  if (Array.isArray(callbacks)) return [...callbacks, handler];
  const copy = (callbacks as CallbackManager).copy();
  copy.addHandler(handler, false);
  return copy;
}

export interface AgentGraphDeps {
  model: BaseChatModel;
  tools: StructuredToolInterface[];
  checkpointer: BaseCheckpointSaver;
  systemPrompt?: string;
  /** Tool rounds per question before the agent must answer (guards against loops). */
  maxToolRounds?: number;
}

/**
 * A turn that was interrupted (barge-in) can leave a tool call without its result in the checkpoint; providers reject
 * such a history. Drop unanswered tool calls from what the model sees; the stored history stays as it happened.
 */
export function repairHistory(messages: BaseMessage[]): BaseMessage[] {
  const answered = new Set(messages.filter((m) => ToolMessage.isInstance(m)).map((m) => (m as ToolMessage).tool_call_id));
  const out: BaseMessage[] = [];
  for (const m of messages) {
    if (AIMessage.isInstance(m) && m.tool_calls?.length) {
      const calls = m.tool_calls.filter((c) => c.id && answered.has(c.id));
      if (calls.length === m.tool_calls.length) out.push(m);
      else if (calls.length > 0 || (typeof m.content === 'string' && m.content.trim()))
        out.push(new AIMessage({ id: m.id, content: m.content, tool_calls: calls }));
      continue;
    }
    out.push(m);
  }
  return out;
}

export function createAgentGraph(deps: AgentGraphDeps) {
  const maybeBound = deps.model.bindTools?.(deps.tools);
  if (!maybeBound) throw new Error('internal: the chat model cannot bind tools');
  const bound = maybeBound;
  const system = new SystemMessage(deps.systemPrompt ?? SYSTEM_PROMPT);
  const maxToolRounds = deps.maxToolRounds ?? 4;

  async function callModel(state: typeof MessagesAnnotation.State, config: LangGraphRunnableConfig) {
    // The question on its way, if this run has one and has not stored it yet (a later round, after tools, has). Waiting
    // here rather than in a step of its own keeps a graph step off the time between the last word heard and the model.
    const pending = config.configurable?.[PENDING_QUESTION_KEY] as PendingQuestion | undefined;
    const heard = pending && !state.messages.some((m) => m.id === pending.id) ? [new HumanMessage({ id: pending.id, content: await pending.text })] : [];
    const history = repairHistory([...state.messages, ...heard]);
    // Tool rounds since the last question: past the limit, ask for an answer without tools.
    const lastHuman = history.findLastIndex((m) => m.getType() === 'human');
    const rounds = history.slice(lastHuman + 1).filter((m) => AIMessage.isInstance(m) && m.tool_calls?.length).length;
    const runnable = rounds >= maxToolRounds ? deps.model : bound;
    const write = reporter(config);
    const response = await runnable.invoke([system, ...history], { ...config, callbacks: withHandler(config.callbacks, new TextForwarder(write)) });
    write({ type: 'message-end' });
    for (const call of response.tool_calls ?? []) write({ type: 'tool-call', tool: call.name, arguments: JSON.stringify(call.args ?? {}) });
    // Let timers and I/O that are already due (the previous sentence's speech finishing) run before the graph's own
    // bookkeeping for this step, which would otherwise hold them for a millisecond or two.
    await new Promise((resolve) => setImmediate(resolve));
    return { messages: [...heard, response] };
  }

  const toolNode = new ToolNode(deps.tools);
  async function callTools(state: typeof MessagesAnnotation.State, config: LangGraphRunnableConfig) {
    const result = (await toolNode.invoke(state, config)) as { messages: BaseMessage[] };
    for (const m of result.messages) {
      if (ToolMessage.isInstance(m)) reporter(config)({ type: 'tool-result', tool: m.name ?? 'tool', summary: toolResultSummary(m.content) } satisfies AgentEvent);
    }
    return result;
  }

  function route(state: typeof MessagesAnnotation.State): 'tools' | typeof END {
    const last = state.messages[state.messages.length - 1];
    return AIMessage.isInstance(last) && last.tool_calls?.length ? 'tools' : END;
  }

  return new StateGraph(MessagesAnnotation)
    .addNode('agent', callModel)
    .addNode('tools', callTools)
    .addEdge(START, 'agent')
    .addConditionalEdges('agent', route, ['tools', END])
    .addEdge('tools', 'agent')
    .compile({ checkpointer: deps.checkpointer });
}

export type AgentGraph = ReturnType<typeof createAgentGraph>;

/**
 * After a run that failed or was interrupted once its question was heard: stores the question if the run did not (its
 * first model step stores question and answer together, so a run stopped inside that step stores neither). The next
 * turn's model then knows what was asked, as it would if the question had had a step of its own. Call it only once the
 * run has settled: the run's own last checkpoint is written before it rejects.
 */
export async function rememberQuestion(graph: AgentGraph, threadId: string, question: { id: string; text: string }): Promise<void> {
  const config = { configurable: { thread_id: threadId } };
  const state = await graph.getState(config);
  const messages = (state.values as Partial<typeof MessagesAnnotation.State>).messages ?? [];
  if (messages.some((m) => m.id === question.id)) return;
  await graph.updateState(config, { messages: [new HumanMessage({ id: question.id, content: question.text })] }, 'agent');
}
