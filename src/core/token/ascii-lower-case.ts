/**
 * ASCII-only case folding for protocol identifiers (media types, Entra tenant GUIDs). Unicode
 * `toLowerCase` is wrong here: it maps e.g. the Kelvin sign U+212A to `k`, letting a non-ASCII
 * value compare equal to an ASCII one.
 */

export function asciiLowerCase(value: string): string {
  return value.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}
