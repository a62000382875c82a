/**
 * An embedding vector as OpenAI's `encoding_format: "base64"`: its values as little-endian float32,
 * base64-encoded. The `openai` SDK asks for base64 by default and decodes whatever comes back that
 * way, so adapters of providers that answer with float arrays must encode them when asked.
 */
export function base64Embedding(vector: unknown): string {
  const v: unknown[] = Array.isArray(vector) ? vector : [];
  const buf = Buffer.alloc(v.length * 4);
  for (let i = 0; i < v.length; i++) buf.writeFloatLE(Number(v[i]), i * 4);
  return buf.toString('base64');
}
