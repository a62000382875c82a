import { expect } from 'chai';
import { redactUrl, scrub } from '../src/logger.js';

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
});
