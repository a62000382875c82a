import { randomBytes } from 'node:crypto';

/** A multipart/form-data body of text fields, and the content type that names its boundary. */
export interface MultipartBody {
  contentType: string;
  body: Uint8Array;
}

/**
 * Encodes text fields as multipart/form-data (RFC 7578): each part a `Content-Disposition: form-data;
 * name="…"` header and its UTF-8 value. Synchronous, so build() needs no async step; the field names
 * are the adapter's own constants (no quoting needed), and the boundary is random and, checked, in no value.
 */
export function multipartBody(fields: ReadonlyArray<readonly [name: string, value: string]>): MultipartBody {
  let boundary: string;
  do boundary = `----waygate-${randomBytes(12).toString('hex')}`;
  while (fields.some(([, v]) => v.includes(boundary)));
  let text = '';
  for (const [name, value] of fields) text += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  text += `--${boundary}--\r\n`;
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.from(text, 'utf8') };
}
