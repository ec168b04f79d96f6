import { describe, expect, it } from 'vitest';
import { asciiLowerCase } from '../../src/core/token/ascii-lower-case.ts';

describe('asciiLowerCase', () => {
  it('lower-cases ASCII letters and keeps everything else', () => {
    // Act
    const result = asciiLowerCase('Application/AT+JWT 72F988BF-86F1');

    // Assert
    expect(result).toBe('application/at+jwt 72f988bf-86f1');
  });

  it.each([
    ['the Kelvin sign', '\u212A'],
    ['a dotted capital I', '\u0130'],
    ['fullwidth capitals', '\uFF21\uFF22'],
  ])('leaves %s unchanged, unlike toLowerCase', (_name, text) => {
    // Act
    const result = asciiLowerCase(text);

    // Assert
    expect(result).toBe(text);
    expect(text.toLowerCase()).not.toBe(text);
  });
});
