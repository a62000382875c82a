// The text fields of a multipart upload, read without its files: what makes an upload's model the
// request's (a key's model rules, per-model limits). Bodies are built as OpenAI's SDKs send them.
import { expect } from 'chai';
import { GatewayError } from '@waygate/core';
import { readFormFields } from '../src/form-fields.js';
import { MEDIA_ENDPOINTS } from '../src/media-endpoints.js';

const BOUNDARY = '----waygate-form-0123456789';
const TYPE = `multipart/form-data; boundary=${BOUNDARY}`;

function form(parts: Array<{ name: string; value: string | Buffer; filename?: string }>, end = true): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}`;
    const type = p.filename ? 'Content-Type: audio/wav\r\n' : '';
    chunks.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`), Buffer.from(p.value), Buffer.from('\r\n'));
  }
  if (end) chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

async function refusal(body: Buffer, type = TYPE): Promise<GatewayError> {
  try {
    await readFormFields(body, type);
  } catch (err) {
    return err as GatewayError;
  }
  throw new Error('the form was read');
}

describe('@waygate/openai-api: multipart form fields', () => {
  it('reads the text fields and skips the file', async () => {
    const body = form([
      { name: 'file', value: Buffer.alloc(4096, 7), filename: 'clip.wav' },
      { name: 'model', value: 'whisper-1' },
      { name: 'response_format', value: 'text' },
    ]);
    expect({ ...(await readFormFields(body, TYPE)) }).to.deep.equal({ model: 'whisper-1', response_format: 'text' });
  });

  it('keeps the first of a repeated field; a field named __proto__ is only a field', async () => {
    const fields = await readFormFields(
      form([
        { name: 'model', value: 'whisper-1' },
        { name: 'model', value: 'gpt-4o-transcribe' },
        { name: '__proto__', value: 'x' },
      ]),
      TYPE,
    );
    expect(fields!.model).to.equal('whisper-1');
    expect(fields!.__proto__).to.equal('x');
    expect(({} as Record<string, unknown>).x).to.equal(undefined);
  });

  it('reads nothing of a body that is not a form', async () => {
    expect(await readFormFields(Buffer.from('RIFF....'), 'audio/wav')).to.equal(undefined);
    expect(await readFormFields(Buffer.from('a=b'), 'application/x-www-form-urlencoded')).to.equal(undefined);
  });

  it('refuses with a 400 a form without a boundary, one cut short, and one past its bounds', async () => {
    const cases: Array<[Buffer, string, RegExp]> = [
      [form([{ name: 'model', value: 'whisper-1' }]), 'multipart/form-data; charset=utf-8', /boundary/i],
      [form([{ name: 'file', value: Buffer.alloc(100, 1), filename: 'a.wav' }], false).subarray(0, 120), TYPE, /end/i],
      // Cut inside the file's bytes: the file's stream fails too, and that must not be an uncaught error.
      [
        form(
          [
            { name: 'model', value: 'whisper-1' },
            { name: 'file', value: Buffer.alloc(4096, 1), filename: 'a.wav' },
          ],
          false,
        ).subarray(0, 2000),
        TYPE,
        /end/i,
      ],
      [form([{ name: 'prompt', value: 'x'.repeat(300 * 1024) }]), TYPE, /longer than/],
      [form(Array.from({ length: 101 }, (_, i) => ({ name: `f${i}`, value: 'v' }))), TYPE, /more than 100 fields/],
    ];
    for (const [body, type, message] of cases) {
      const err = await refusal(body, type);
      expect(err).to.be.instanceOf(GatewayError);
      expect(err.status).to.equal(400);
      expect(err.message)
        .to.match(/^The multipart\/form-data body cannot be read/)
        .and.match(message);
    }
  });

  it('is how every media endpoint reads an upload', () => {
    for (const d of MEDIA_ENDPOINTS) expect(d.readFields, d.id).to.equal(readFormFields);
  });
});
