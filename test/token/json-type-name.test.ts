import { describe, expect, it } from 'vitest';
import { jsonTypeName } from '../../src/core/token/json-type-name.ts';

describe('jsonTypeName', () => {
  it.each([
    [undefined, 'absent'],
    [null, 'null'],
    [['secret'], 'an array'],
    [{ secret: 1 }, 'an object'],
    ['secret', 'a string'],
    [42, 'a number'],
    [true, 'a boolean'],
  ])('names the type of %j as "%s" without its value', (value, expected) => {
    // Act
    const result = jsonTypeName(value);

    // Assert
    expect(result).toBe(expected);
  });
});
