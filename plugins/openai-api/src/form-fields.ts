import busboy from 'busboy';
import { ErrorCode, badRequest } from '@waygate/core';

/** Bounds on what a form may hold besides its files: OpenAI's longest text field (an image edit's prompt) is 32,000 characters. */
const LIMITS = { fields: 100, fieldSize: 256 * 1024, parts: 1000, fieldNameSize: 200 };

const unreadable = (why: string) => badRequest(ErrorCode.INVALID_REQUEST, `The multipart/form-data body cannot be read: ${why}`);

/**
 * The text fields of a `multipart/form-data` body (its files are skipped, not copied): what the
 * gateway needs of an upload (the `model` it names, so a key's model rules apply) without changing
 * the bytes that go upstream. Undefined for any other content type. A form that is malformed, cut
 * short or past the bounds above is a 400. The first value of a repeated field counts.
 */
export function readFormFields(raw: Uint8Array, contentType: string): Promise<Record<string, string> | undefined> {
  if (!/^multipart\/form-data\s*;/i.test(contentType)) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    let form: busboy.Busboy;
    try {
      form = busboy({ headers: { 'content-type': contentType }, limits: LIMITS });
    } catch (err) {
      return reject(unreadable((err as Error).message));
    }
    const fields: Record<string, string> = Object.create(null) as Record<string, string>;
    form.on('field', (name, value, info) => {
      if (info.nameTruncated || info.valueTruncated) reject(unreadable(`a field is longer than ${LIMITS.fieldSize} bytes`));
      else if (!(name in fields)) fields[name] = value;
    });
    // A file's stream fails with the form (cut short): the form's own error answers, this one must not go unheard.
    form.on('file', (_name, file) => file.on('error', () => undefined).resume());
    form.on('fieldsLimit', () => reject(unreadable(`more than ${LIMITS.fields} fields`)));
    form.on('partsLimit', () => reject(unreadable(`more than ${LIMITS.parts} parts`)));
    form.on('error', (err: Error) => reject(unreadable(err.message)));
    form.on('close', () => resolve(fields));
    form.end(raw);
  });
}
