/**
 * Messages from schemas and the server are written as clauses ("give the style a name");
 * people read them as sentences: capitalised, with a full stop.
 */
export function sentenceCase(message: string): string {
  const text = message.trim();
  if (!text) return text;
  const capitalised = text[0]!.toUpperCase() + text.slice(1);
  return /[.!?…]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}
