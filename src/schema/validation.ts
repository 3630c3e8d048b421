// Argument rules shared by several types (plugin-zod constraint objects).
import type { NumberValidationOptions, StringValidationOptions } from '@pothos/plugin-zod';

export const searchValidation: StringValidationOptions = {
  minLength: [1, { message: 'must be 1 to 200 characters' }],
  maxLength: [200, { message: 'must be 1 to 200 characters' }],
};

export const lastDaysValidation: NumberValidationOptions = {
  int: true,
  min: [1, { message: 'must be between 1 and 3650' }],
  max: [3650, { message: 'must be between 1 and 3650' }],
};

/** The key inside a global Node id ("Customer:12" → 12); an unusable key finds nothing rather than failing. */
export function parseIntegerId(id: string): number {
  const n = Number(id);
  return Number.isSafeInteger(n) && n > 0 ? n : -1;
}
