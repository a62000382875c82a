// SigV4 against the published AWS Signature Version 4 test suite vectors (service "service", us-east-1).
import assert from 'node:assert/strict';
import { signV4 } from '../src/sigv4.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const date = Date.parse('2015-08-30T12:36:00Z');
const sign = (method: string, url: string, headers: Record<string, string> = {}, body?: string) =>
  signV4({ method, url, headers, body, credentials, region: 'us-east-1', service: 'service', date });

describe('SigV4 signer', () => {
  it('get-vanilla-query-order-key-case: the documented canonical request, string to sign and signature', () => {
    const s = sign('GET', 'https://example.amazonaws.com/?Param2=value2&Param1=value1');
    assert.equal(
      s.canonicalRequest,
      'GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    assert.equal(
      s.stringToSign,
      'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0',
    );
    assert.equal(s.signature, 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500');
    assert.equal(
      s.headers.authorization,
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
    );
    assert.equal(s.headers['x-amz-date'], '20150830T123600Z');
    assert.equal(s.headers.host, undefined, 'host is left to the HTTP client');
  });

  it('get-vanilla and post-vanilla', () => {
    assert.equal(sign('GET', 'https://example.amazonaws.com/').signature, '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
    assert.equal(sign('POST', 'https://example.amazonaws.com/').signature, '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b');
  });

  it('post-x-www-form-urlencoded: a body and a signed content-type', () => {
    const s = sign('POST', 'https://example.amazonaws.com/', { 'Content-Type': 'application/x-www-form-urlencoded' }, 'Param1=value1');
    assert.match(s.headers.authorization!, /SignedHeaders=content-type;host;x-amz-date,/);
    assert.equal(s.signature, 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a');
  });

  it('signs a session token and encodes a Bedrock model id twice in the canonical path', () => {
    const s = signV4({
      method: 'POST',
      url: 'https://bedrock-runtime.us-west-2.amazonaws.com/model/us.anthropic.claude-3-5-sonnet-20241022-v2%3A0/converse',
      headers: { 'content-type': 'application/json' },
      body: '{}',
      credentials: { ...credentials, sessionToken: 'TOKEN' },
      region: 'us-west-2',
      service: 'bedrock',
      date,
    });
    assert.equal(s.canonicalRequest.split('\n')[1], '/model/us.anthropic.claude-3-5-sonnet-20241022-v2%253A0/converse');
    assert.equal(s.headers['x-amz-security-token'], 'TOKEN');
    assert.match(
      s.headers.authorization!,
      /Credential=AKIDEXAMPLE\/20150830\/us-west-2\/bedrock\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,/,
    );
  });

  it('is a pure function of its input', () => {
    const a = sign('POST', 'https://example.amazonaws.com/x', {}, 'b');
    const b = sign('POST', 'https://example.amazonaws.com/x', {}, 'b');
    assert.deepEqual(a, b);
  });
});
