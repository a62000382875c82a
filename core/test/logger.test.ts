import { expect } from 'chai';
import { redactUrl, scrub, sentSecrets } from '../src/logger.js';
import { RequestContext, own } from '../src/context.js';

describe('log redaction helpers', () => {
  it('redactUrl hides a URL’s password, keeps the rest, and never echoes an unparsable value', () => {
    expect(redactUrl('redis://user:secret@host:6379/2')).to.equal('redis://user:***@host:6379/2');
    expect(redactUrl('rediss://:pw@cache.internal:6380')).to.equal('rediss://:***@cache.internal:6380');
    expect(redactUrl('redis://127.0.0.1:6379')).to.equal('redis://127.0.0.1:6379');
    expect(redactUrl('not a url with secret')).to.equal('(invalid URL)');
  });

  it('scrub removes a known secret from text', () => {
    expect(scrub('key sk-abcdef123 was refused', 'sk-abcdef123')).to.equal('key [REDACTED] was refused');
  });

  it('scrub removes every secret of a list, and tokens holding its first or last 8 characters (truncated, masked)', () => {
    const key = 'sk-proj-4f8Qz2Lm9Xc7Vb1N';
    const text = `bad key ${key}; seen as "${key.slice(0, 12)}..." and ${key.slice(0, 10)}******${key.slice(-8)}, or (...${key.slice(-10)}); ok: sk-other`;
    expect(scrub(text, ['tok-123456', key])).to.equal('bad key [REDACTED]; seen as "[REDACTED]" and [REDACTED], or ([REDACTED]); ok: sk-other');
    expect(scrub('nothing here', [key])).to.equal('nothing here');
    expect(scrub('a short one: abc', ['abc']), 'secrets under 6 characters are not looked for').to.equal('a short one: abc');
  });

  it('sentSecrets: the credential headers sent upstream (scheme dropped), without what the caller sent itself for the caller', () => {
    const ctx = new RequestContext({
      id: 'r',
      endpoint: 'chat.completions',
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { 'x-tenant-token': 'tnt-caller-123456' },
      body: {},
    });
    own(ctx).sentHeaders = [
      { authorization: 'Bearer sk-server-abcdef', 'content-type': 'application/json' },
      { 'x-api-key': 'sk-ant-second-123', 'x-tenant-token': 'tnt-caller-123456', 'x-region': 'eu-west-1' },
    ];
    expect(sentSecrets(ctx, true)).to.deep.equal(['sk-server-abcdef', 'sk-ant-second-123']);
    expect(sentSecrets(ctx, false)).to.deep.equal(['sk-server-abcdef', 'sk-ant-second-123', 'tnt-caller-123456']);
  });
});
