/**
 * vitest's asymmetric matchers (`expect.any`, `expect.stringMatching`, `expect.stringContaining`)
 * are typed `any`, so a matcher placed in an expected object is an `any` that the type-aware lint
 * refuses (no-unsafe-assignment) wherever that object has a shape. These are the same matchers,
 * typed `unknown`: a placeholder that matches, never a value of the field's type.
 */

import { expect } from 'vitest';

export const match = {
  any: (constructor: unknown): unknown => expect.any(constructor),
  stringMatching: (pattern: string | RegExp): unknown => expect.stringMatching(pattern),
  stringContaining: (text: string): unknown => expect.stringContaining(text),
};
