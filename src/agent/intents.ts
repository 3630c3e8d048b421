// Rule-based understanding of the common questions about tickets, customers and metrics (the local, offline "LLM"),
// and the JSGF grammar of the same phrases for offline speech recognition. Both come from one vocabulary here.
import type { ToolName } from './tools';

export interface ToolCallPlan {
  name: ToolName;
  args: Record<string, unknown>;
}

type Topic = 'tickets' | 'customers' | 'metrics';

interface Parsed {
  topic: Topic | null;
  ticketStatus?: 'open' | 'closed';
  priority?: 'high' | 'medium' | 'low';
  customerStatus?: 'active' | 'inactive';
  customerId?: number;
  ticketId?: number;
  search?: string;
  metric?: string;
  days?: number;
  wantsSummary?: boolean;
}

const ONES: Record<string, number> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9,
  ten: 10, eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18, nineteen: 19,
};
const TENS: Record<string, number> = { twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90 };

/** "customer forty two" → "customer 42"; "one hundred and five" → "105". */
export function wordsToDigits(text: string): string {
  const words = text.split(/\s+/);
  const out: string[] = [];
  let current: number | null = null;
  const flush = () => {
    if (current !== null) out.push(String(current));
    current = null;
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w === 'a' && words[i + 1] === 'hundred') {
      flush();
      current = 100;
      i++;
    } else if (w === 'hundred' && current !== null && current > 0 && current < 10) {
      current *= 100;
    } else if (w === 'and' && current !== null && current >= 100 && current % 100 === 0 && (words[i + 1] in ONES || words[i + 1] in TENS)) {
      // "one hundred and five": keep going
    } else if (w in TENS) {
      if (current !== null && current >= 100 && current % 100 === 0) current += TENS[w];
      else {
        flush();
        current = TENS[w];
      }
    } else if (w in ONES) {
      const tensOpen = current !== null && current % 100 >= 20 && current % 10 === 0 && ONES[w] < 10 && ONES[w] > 0;
      const hundredsOpen = current !== null && current >= 100 && current % 100 === 0;
      if (tensOpen || hundredsOpen) current = (current as number) + ONES[w];
      else {
        flush();
        current = ONES[w];
      }
    } else {
      flush();
      out.push(w);
    }
  }
  flush();
  return out.join(' ');
}

export function normalize(text: string): string {
  const lowered = text.toLowerCase().replace(/[’']/g, '').replace(/[^a-z0-9#\s_-]/g, ' ').replace(/#/g, ' ');
  return wordsToDigits(lowered.replace(/\s+/g, ' ').trim());
}

// How abbreviations and compound words in metric names are said (and spelled in the recogniser's dictionary).
const ABBREVIATIONS: Record<string, string> = {
  avg: 'average',
  num: 'number',
  pct: 'percent',
  qty: 'quantity',
  mins: 'minutes',
  hrs: 'hours',
  signups: 'sign ups',
  signup: 'sign up',
  logins: 'log ins',
};

/** How a metric name is said: "avg_response_time_hours" → ["avg response time hours", "average response time hours"]. */
export function spokenMetricForms(name: string): string[] {
  const plain = name.toLowerCase().replace(/[_-]+/g, ' ').replace(/[^a-z0-9 ]/g, '').trim();
  const expanded = plain.split(' ').map((w) => ABBREVIATIONS[w] ?? w).join(' ');
  return [...new Set([plain, expanded])];
}

function parse(text: string, metricNames: string[]): Parsed {
  const t = ` ${normalize(text)} `;
  const parsed: Parsed = { topic: null };
  // Metrics first: "daily active users" must not read as customers.
  for (const name of metricNames) {
    if (spokenMetricForms(name).some((spoken) => t.includes(` ${spoken} `)) || t.includes(` ${name.toLowerCase()} `)) {
      parsed.topic = 'metrics';
      parsed.metric = name;
    }
  }
  const daysMatch = / (?:last|past) (\d+) days? /.exec(t);
  if (daysMatch) parsed.days = Number(daysMatch[1]);
  else if (/ (?:last|past) week /.test(t)) parsed.days = 7;
  else if (/ (?:last|past) 2 weeks /.test(t)) parsed.days = 14;
  else if (/ (?:last|past) day /.test(t)) parsed.days = 1;
  else if (/ (?:last|past) month /.test(t)) parsed.days = 30;
  else if (/ (?:last|past) year /.test(t)) parsed.days = 365;
  else if (/ today /.test(t)) parsed.days = 1;

  const ticketId = / tickets? (?:number |id |no )?(\d+) /.exec(t);
  const customerId = / customers? (?:number |id |no )?(\d+) /.exec(t);
  if (!parsed.topic && / (metrics?|analytics|trend|trending|average|averaged) /.test(t)) parsed.topic = 'metrics';
  if (ticketId) {
    parsed.topic = 'tickets';
    parsed.ticketId = Number(ticketId[1]);
  } else if (!parsed.topic && / tickets? | issues? | requests? /.test(t)) parsed.topic = 'tickets';
  if (customerId && !ticketId && !/ tickets? /.test(t)) {
    parsed.topic = 'customers';
    parsed.customerId = Number(customerId[1]);
  } else if (customerId && / tickets? /.test(t) && !ticketId) {
    parsed.customerId = Number(customerId[1]); // "tickets of customer 12"
  }
  if (!parsed.topic && / (customers?|clients?|accounts?|users?) /.test(t)) parsed.topic = 'customers';

  const search = / (?:search|find|look up|lookup)(?: for)? (?:the )?(?:customers? |clients? )?(?:named |called |matching |with )?(.+?) $/.exec(t);
  if (search && (parsed.topic === 'customers' || parsed.topic === null) && parsed.customerId === undefined) {
    const q = search[1].replace(/^(customers?|clients?) (named |called |matching )?/, '').trim();
    if (q && !/^(all|the|every)( |$)/.test(q) && !/^(customers?|clients?)$/.test(q)) {
      parsed.topic = 'customers';
      parsed.search = q;
    }
  }

  if (/ open /.test(t)) parsed.ticketStatus = 'open';
  if (/ (closed|resolved|solved|done) /.test(t)) parsed.ticketStatus = 'closed';
  if (/ (high|urgent|critical) /.test(t)) parsed.priority = 'high';
  else if (/ medium /.test(t)) parsed.priority = 'medium';
  else if (/ low /.test(t)) parsed.priority = 'low';
  if (/ inactive /.test(t)) parsed.customerStatus = 'inactive';
  else if (/ active /.test(t) && parsed.topic !== 'metrics') parsed.customerStatus = 'active';
  parsed.wantsSummary = / (summary|summarize|summarise|average|averaged|trend|trending|overall|doing|how (?:is|are|has|have)) /.test(t);
  return parsed;
}

/**
 * The tool call for a question, using earlier questions of the conversation for follow-ups ("what about closed ones?").
 * Null when the question is about none of the three sources.
 */
export function planToolCall(question: string, history: string[], metricNames: string[]): ToolCallPlan | null {
  let p = parse(question, metricNames);
  const refines = p.ticketStatus || p.priority || p.customerStatus || p.days || /^(what|how) about |^and /.test(normalize(question));
  if (!p.topic && refines) {
    // A follow-up: take the topic (and its filters) from the latest earlier question that had one, then apply this one's.
    for (let i = history.length - 1; i >= 0; i--) {
      const earlier = parse(history[i], metricNames);
      if (earlier.topic && earlier.ticketId === undefined && earlier.customerId === undefined) {
        const overrides = Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined && v !== null && v !== false));
        p = { ...earlier, ...overrides, topic: earlier.topic };
        break;
      }
    }
  }
  switch (p.topic) {
    case 'tickets':
      if (p.ticketId !== undefined) return { name: 'get_ticket_by_id', args: { ticket_id: p.ticketId } };
      return {
        name: 'get_support_tickets',
        args: { ...(p.ticketStatus ? { status: p.ticketStatus } : {}), ...(p.priority ? { priority: p.priority } : {}), ...(p.customerId ? { customer_id: p.customerId } : {}) },
      };
    case 'customers':
      if (p.customerId !== undefined) return { name: 'get_customer_by_id', args: { customer_id: p.customerId } };
      if (p.search) return { name: 'search_customers', args: { query: p.search } };
      return { name: 'get_customers', args: p.customerStatus ? { status: p.customerStatus } : {} };
    case 'metrics': {
      const args = { ...(p.metric ? { metric: p.metric } : {}), ...(p.days ? { days: p.days } : {}) };
      return { name: p.wantsSummary || p.metric ? 'get_analytics_summary' : 'get_analytics', args };
    }
    default:
      return null;
  }
}

export const HELP_ANSWER =
  'I can answer questions about support tickets, customers and analytics metrics. For example, ask how many open tickets we have.';

/** The tenant's words the recogniser should know: metric names, and customer names for "find customers named …". */
export interface DomainVocabulary {
  metricNames: string[];
  customerNames?: string[];
}

/** At most this many spoken customer-name forms go into the grammar (a bigger grammar is slower and confuses more). */
export const MAX_GRAMMAR_NAMES = 500;

/** First words of a company name too generic to search for alone. */
const GENERIC_NAME_WORDS = new Set(['the', 'a', 'an', 'and', 'of', 'new', 'open', 'closed', 'high', 'low', 'medium', 'active', 'inactive']);

/**
 * How customer names can be said in a search, most general first: "Acme Analytics" → "acme", then "acme analytics".
 * Names with a word the dictionary does not know (or with digits or symbols) are left out.
 */
export function spokenNameForms(names: string[], knownWord: (word: string) => boolean = () => true, limit = MAX_GRAMMAR_NAMES): string[] {
  const wordLists = names
    .map((n) => n.toLowerCase().replace(/[’']/g, '').replace(/[-_&.,]+/g, ' ').trim().split(/\s+/))
    .filter((ws) => ws.length > 0 && ws.every((w) => /^[a-z]+$/.test(w) && knownWord(w)));
  const forms = new Set<string>();
  const longest = Math.max(0, ...wordLists.map((ws) => ws.length));
  for (let n = 1; n <= longest && forms.size < limit; n++) {
    for (const ws of wordLists) {
      if (ws.length < n) continue;
      // A first word alone only when it says something ("acme" of "Acme Analytics", not "the" of "The Home Depot").
      const form = ws.slice(0, n).join(' ');
      if (n === 1 && ws.length > 1 && GENERIC_NAME_WORDS.has(form)) continue;
      forms.add(form);
      if (forms.size >= limit) break;
    }
  }
  return [...forms];
}

/**
 * A JSGF grammar of the questions planToolCall understands, for pocketsphinx. Every word must be in the recogniser's
 * dictionary (it refuses the whole grammar otherwise), so metric and customer names with unknown words are left out.
 */
export function domainGrammar(vocabulary: string[] | DomainVocabulary, knownWord: (word: string) => boolean = () => true): string {
  const { metricNames, customerNames = [] } = Array.isArray(vocabulary) ? { metricNames: vocabulary } : vocabulary;
  const metrics = [...new Set(metricNames.flatMap(spokenMetricForms))].filter(
    (phrase) => phrase && phrase.split(' ').every((w) => /^[a-z]+$/.test(w) && knownWord(w)),
  );
  const metricRule = metrics.length ? metrics.join(' | ') : 'daily active users';
  const names = spokenNameForms(customerNames, knownWord);
  // Without names there is nothing to search for: the rule is left out (JSGF has no empty alternative).
  const searchRule = names.length
    ? `<search> = (find | look up | search for) [the] (customer [named | called] | customers (named | called)) <name>;\n<name> = ${names.join(' | ')};\n`
    : '';
  return `#JSGF V1.0;
grammar domain;
public <utterance> = <question> | <followup>;
<question> = <ticketcount> | <ticketlist> | <customercount> | <customerlist> | <byid> | <metricq> | <trendq> | <summaryq>${names.length ? ' | <search>' : ''};
${searchRule}<ticketcount> = how many [<ticketadj>] [<priority> priority] tickets [<customerref> [<countend>] | <countend>];
<countend> = do we have | are there | are open | are closed;
<ticketlist> = (show me | list | what are) [the] [<ticketadj>] [<priority> priority] tickets [<customerref>];
<customercount> = how many [<customeradj>] customers [do we have | are there];
<customerlist> = (show me | list | who are) [the] [<customeradj>] customers;
<byid> = (tell me about | what about | show me | who is | what is) (customer | ticket) [number] <number>;
<metricq> = (what is | what are | show me | how is | how are) [the] [average] <metric> [<period>];
<trendq> = how (is | are) [the] <metric> (trending | doing) [<period>];
<summaryq> = (give me | what is) [a | an | the] (summary | analytics summary) [of <metric> [<period>] | <period>] | summarize <metric> [<period>];
<followup> = (what about | and | how about) [the] (<ticketadj> | <priority> priority | <customeradj>) [ones | tickets | customers];
<customerref> = (for | of) customer [number] <number>;
<period> = (over | for | in) the (last | past) (<daycount> days | day | week | two weeks | month | year);
<daycount> = two | three | four | five | six | seven | ten | fourteen | twenty one | twenty eight | thirty | sixty | ninety | three hundred and sixty five;
<ticketadj> = open | closed;
<customeradj> = active | inactive;
<priority> = high | medium | low;
<metric> = ${metricRule};
<number> = <digit> | <teen> | <tens> [<digit>] | <digit> hundred [[and] (<digit> | <teen> | <tens> [<digit>])];
<digit> = one | two | three | four | five | six | seven | eight | nine;
<teen> = ten | eleven | twelve | thirteen | fourteen | fifteen | sixteen | seventeen | eighteen | nineteen;
<tens> = twenty | thirty | forty | fifty | sixty | seventy | eighty | ninety;
`;
}
