// The agent: a LangGraph state graph (model ⇄ tools) built by a factory from injected parts; nothing compiles at import.
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage, type BaseMessage, SystemMessage, ToolMessage } from '@langchain/core/messages';
import type { StructuredToolInterface } from '@langchain/core/tools';
import { type BaseCheckpointSaver, END, MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';
import { ToolNode } from '@langchain/langgraph/prebuilt';
import { SYSTEM_PROMPT } from './prompt';

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

  async function callModel(state: typeof MessagesAnnotation.State, config: Parameters<typeof bound.invoke>[1]) {
    const history = repairHistory(state.messages);
    // Tool rounds since the last question: past the limit, ask for an answer without tools.
    const lastHuman = history.findLastIndex((m) => m.getType() === 'human');
    const rounds = history.slice(lastHuman + 1).filter((m) => AIMessage.isInstance(m) && m.tool_calls?.length).length;
    const runnable = rounds >= maxToolRounds ? deps.model : bound;
    const response = await runnable.invoke([system, ...history], config);
    return { messages: [response] };
  }

  function route(state: typeof MessagesAnnotation.State): 'tools' | typeof END {
    const last = state.messages[state.messages.length - 1];
    return AIMessage.isInstance(last) && last.tool_calls?.length ? 'tools' : END;
  }

  return new StateGraph(MessagesAnnotation)
    .addNode('agent', callModel)
    .addNode('tools', new ToolNode(deps.tools))
    .addEdge(START, 'agent')
    .addConditionalEdges('agent', route, ['tools', END])
    .addEdge('tools', 'agent')
    .compile({ checkpointer: deps.checkpointer });
}

export type AgentGraph = ReturnType<typeof createAgentGraph>;
