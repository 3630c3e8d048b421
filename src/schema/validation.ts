// Argument rules shared by several types (plugin-zod constraint objects), and how a global Node id is decoded.
import type { NumberValidationOptions, StringValidationOptions } from '@pothos/plugin-zod';
import { GraphQLError, type GraphQLSchema, isObjectType } from 'graphql';

/** PostgreSQL text cannot hold the NUL character: refuse it here rather than fail in SQL (found by test/fuzz.test.ts). */
export const noNulCharacter: [RegExp, { message: string }] = [/^[^\u0000]*$/, { message: 'must not contain the NUL character (\\u0000)' }];

export const searchValidation: StringValidationOptions = {
  minLength: [1, { message: 'must be 1 to 200 characters' }],
  maxLength: [200, { message: 'must be 1 to 200 characters' }],
  regex: noNulCharacter,
};

export const lastDaysValidation: NumberValidationOptions = {
  int: true,
  min: [1, { message: 'must be between 1 and 3650' }],
  max: [3650, { message: 'must be between 1 and 3650' }],
};

/** The largest key a node can have (the id columns are PostgreSQL integers). */
const MAX_INTEGER_KEY = 2_147_483_647;

/** A node id the API could never have returned: BAD_USER_INPUT naming the argument, what is wrong, and what to pass. */
function badNodeId(problem: string): GraphQLError {
  return new GraphQLError(`id: ${problem}; pass the id field of an object this API returned`, {
    extensions: { code: 'BAD_USER_INPUT', argument: 'id' },
  });
}

/** A client's value quoted in a message, shortened. */
function quoted(value: string, max = 60): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}

/**
 * The key inside a global Node id ("Customer:12" → 12). A key that is not a positive integer in the id columns' range
 * cannot name a node, so it is the client's mistake (BAD_USER_INPUT); a well-formed key that finds nothing gives null.
 */
export function parseIntegerId(id: string): number {
  const n = /^[1-9]\d{0,9}$/.test(id) ? Number(id) : Number.NaN;
  if (!(n <= MAX_INTEGER_KEY)) throw badNodeId(`its key ${quoted(id)} is not a whole number from 1 to ${MAX_INTEGER_KEY}`);
  return n;
}

const NODE_ID = /^([A-Z_a-z]\w*):(.+)$/s;

/**
 * Global Node ids are base64 of "Type:key" (Pothos' encoding). Pothos' own decoder throws "Invalid global ID" with no
 * code; this one says what is wrong with the id as BAD_USER_INPUT.
 */
export function decodeNodeId(globalID: string): { typename: string; id: string } {
  const text = /^[A-Za-z0-9+/_-]+={0,2}$/.test(globalID) ? Buffer.from(globalID, 'base64').toString('utf8') : '';
  const match = NODE_ID.exec(text);
  if (!match) throw badNodeId(`${quoted(globalID)} is not an id of this API (base64 of "Type:key")`);
  return { typename: match[1], id: match[2] };
}

/** A decoded id must name a type that implements Node; otherwise Pothos fails with "Foo has not been implemented". */
export function assertNodeType(typename: string, schema: GraphQLSchema): void {
  const type = schema.getType(typename);
  if (isObjectType(type) && type.getInterfaces().some((i) => i.name === 'Node')) return;
  const nodeTypes = Object.values(schema.getTypeMap()).filter((t) => isObjectType(t) && t.getInterfaces().some((i) => i.name === 'Node'));
  throw badNodeId(`it names the type ${quoted(typename)}, which has no ids; ids are of ${nodeTypes.map((t) => t.name).join(' or ')}`);
}
