// The offline chat model: a LangChain BaseChatModel whose "reasoning" is the rule-based intent parser. It asks for one of
// the seven tools, then answers from the tool results' summaries, streaming the answer word by word like an LLM would.
import { randomUUID } from 'node:crypto';
import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import { BaseChatModel, type BaseChatModelParams, type BindToolsInput } from '@langchain/core/language_models/chat_models';
import { AIMessage, AIMessageChunk, type BaseMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { ChatGenerationChunk, type ChatResult } from '@langchain/core/outputs';
import { AsyncLocalStorageProviderSingleton } from '@langchain/core/singletons';
import { HELP_ANSWER, planToolCall } from './intents';
import { toolResultSummary } from './tools';

export interface LocalIntentModelFields extends BaseChatModelParams {
  /** Metric names the tenant has, so "daily active users" is understood (fetched per call). */
  metricNames?: (tenantId: string | undefined) => Promise<string[]>;
  /** Names of the bound tools; a plan for a tool that is not bound becomes the help answer. */
  toolNames?: string[];
}

const textOf = (m: BaseMessage) => (typeof m.content === 'string' ? m.content : m.content.map((c) => ('text' in c ? String(c.text) : '')).join(''));

export class LocalIntentModel extends BaseChatModel {
  private readonly fields: LocalIntentModelFields;

  constructor(fields: LocalIntentModelFields = {}) {
    super(fields);
    this.fields = fields;
  }

  _llmType(): string {
    return 'local-intent';
  }

  override bindTools(tools: BindToolsInput[]): LocalIntentModel {
    const toolNames = tools.map((t) => (t as { name?: string }).name ?? (t as { function?: { name?: string } }).function?.name ?? '').filter(Boolean);
    return new LocalIntentModel({ ...this.fields, toolNames });
  }

  /** Decides the next message: a tool call for a new question, or the answer once tool results are in. */
  private async decide(messages: BaseMessage[]): Promise<AIMessage> {
    const lastHuman = messages.findLastIndex((m) => HumanMessage.isInstance(m));
    const since = messages.slice(lastHuman + 1);
    const results = since.filter((m): m is ToolMessage => ToolMessage.isInstance(m));
    if (results.length > 0) {
      const answer = results
        .map((r) => (r.status === 'error' ? `Sorry, I could not get that: ${toolResultSummary(r.content)}` : toolResultSummary(r.content)))
        .join(' ');
      return new AIMessage({ id: randomUUID(), content: answer });
    }
    if (lastHuman < 0) return new AIMessage({ id: randomUUID(), content: HELP_ANSWER });
    const history = messages.slice(0, lastHuman).filter((m) => HumanMessage.isInstance(m)).map(textOf);
    // The run's tenant, from the LangGraph config the call runs under (the agent passes configurable.tenantId).
    const tenantId = AsyncLocalStorageProviderSingleton.getRunnableConfig()?.configurable?.tenantId as string | undefined;
    const metricNames = (await this.fields.metricNames?.(tenantId)) ?? [];
    const plan = planToolCall(textOf(messages[lastHuman]), history, metricNames);
    if (!plan || (this.fields.toolNames && !this.fields.toolNames.includes(plan.name))) {
      return new AIMessage({ id: randomUUID(), content: HELP_ANSWER });
    }
    return new AIMessage({
      id: randomUUID(),
      content: '',
      tool_calls: [{ id: `call_${randomUUID().slice(0, 8)}`, name: plan.name, args: plan.args, type: 'tool_call' }],
    });
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const message = await this.decide(messages);
    return { generations: [{ text: textOf(message), message }] };
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const message = await this.decide(messages);
    if (message.tool_calls?.length) {
      yield new ChatGenerationChunk({
        text: '',
        message: new AIMessageChunk({
          id: message.id,
          content: '',
          tool_call_chunks: message.tool_calls.map((c, index) => ({ id: c.id, name: c.name, args: JSON.stringify(c.args), index, type: 'tool_call_chunk' as const })),
        }),
      });
      return;
    }
    // Word by word, so the sentence splitter and TTS downstream see the same stream shape as with a real LLM.
    const words = textOf(message).split(/(?<=\s)/);
    for (const word of words) {
      options.signal?.throwIfAborted();
      const chunk = new ChatGenerationChunk({ text: word, message: new AIMessageChunk({ id: message.id, content: word }) });
      yield chunk;
      await runManager?.handleLLMNewToken(word, undefined, undefined, undefined, undefined, { chunk });
    }
  }
}
