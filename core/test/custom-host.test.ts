import { expect } from 'chai';
import { checkCustomHost } from '../src/custom-host.js';
import { GatewayError } from '../src/errors.js';

describe('custom host checks', () => {
  it('accepts http(s) URLs, loopback included, and drops a trailing slash', () => {
    expect(checkCustomHost('https://llm.example.com/v1/', 'x')).to.equal('https://llm.example.com/v1');
    expect(checkCustomHost('http://127.0.0.1:11434/v1', 'x')).to.equal('http://127.0.0.1:11434/v1');
    expect(checkCustomHost('http://[::1]:8000/v1', 'x')).to.equal('http://[::1]:8000/v1');
  });

  const refused: Array<[string, RegExp]> = [
    ['file:///etc/passwd', /scheme file:/],
    ['gopher://x', /scheme/],
    ['not a url', /absolute URL/],
    ['http://user:pw@example.com', /credentials/],
    ['http://169.254.169.254/latest/meta-data', /metadata/],
    ['http://2852039166/', /metadata/], // 169.254.169.254 as one decimal number
    ['http://0xA9FEA9FE/', /metadata/], // and in hex
    ['http://[::ffff:169.254.169.254]/', /metadata/],
    ['http://[fd00:ec2::254]/', /metadata/],
    ['http://[fe80::1]/', /metadata/],
    ['http://metadata.google.internal/computeMetadata/v1', /metadata service/],
    ['http://METADATA.GOOGLE.INTERNAL./', /metadata service/],
    ['http://100.100.100.200/', /metadata/],
    ['http://example.com/v1?x=1', /query/],
  ];
  for (const [url, why] of refused) {
    it(`refuses ${url}`, () => {
      let err: unknown;
      try {
        checkCustomHost(url, 'config.custom_host');
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(GatewayError);
      expect((err as GatewayError).status).to.equal(400);
      expect((err as GatewayError).code).to.equal('forbidden_custom_host');
      expect((err as GatewayError).message)
        .to.match(why)
        .and.match(/^config\.custom_host: /);
    });
  }
});
