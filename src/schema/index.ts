// The executable schema: every type file registers itself on the builder; this file puts them together.
import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder';
import './scalars';
import './enums';
import './connection';
import './customer';
import './ticket';
import './metric';
import './voice';

export function createSchema() {
  return builder.toSchema({ sortSchema: false });
}

/** The SDL committed as schema.graphql (sorted, so diffs stay readable). */
export function printSchemaSDL(): string {
  return `${printSchema(lexicographicSortSchema(createSchema()))}\n`;
}
