import { expect } from 'chai';
import { CATEGORIES, rulesFor, scan } from '../src/index.js';
import type { Category } from '../src/index.js';

const ALL = rulesFor([...CATEGORIES]);

/** The kinds found in a text and the exact spans, as "KIND:matched text". */
function found(text: string, categories: readonly Category[] = CATEGORIES): string[] {
  return scan(text, categories === CATEGORIES ? ALL : rulesFor(categories)).map((f) => `${f.kind}:${text.slice(f.start, f.end)}`);
}

// Secret-shaped fixtures are assembled at run time so that no token-like literal sits in the source.
const rep = (s: string, n: number) => s.repeat(Math.ceil(n / s.length)).slice(0, n);
const SECRETS = {
  openai: ['sk', 'proj', rep('Ab3dE6gH9jK', 48)].join('-'),
  openaiLegacy: 'sk-' + rep('x7Yz2Q', 48),
  anthropic: ['sk', 'ant', 'api03', rep('Qw3rTy_uI0p-', 93)].join('-'),
  aws: 'AK' + 'IA' + 'IOSFODNN7EXAMPLE',
  awsSecret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCY' + 'EXAMPLEKEY',
  github: 'gh' + 'p_' + rep('aB1cD2eF3g', 36),
  githubPat: 'github' + '_pat_' + rep('11ABCDEFG0_abcdefghijk', 82),
  slack: ['xo' + 'xb', '123456789012', '1234567890123', rep('abcdEFGH', 24)].join('-'),
  google: 'AI' + 'za' + rep('SyA1b2C3d4E5f6G7h8I9j0K-_', 35),
  stripe: ['sk', 'live', rep('4eC39HqLyjWDarjtT1zdp7dc', 24)].join('_'),
  jwt: ['eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9', 'eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ', 'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c'].join('.'),
  pem: ['-----BEGIN', 'RSA PRIVATE KEY-----'].join(' ') + '\nMIIEowIBAAKCAQEA7\nabc==\n' + ['-----END', 'RSA PRIVATE KEY-----'].join(' '),
  bearer: rep('tok3nValue.xyz-', 40),
};

describe('PII detection', () => {
  describe('finds', () => {
    it('e-mail addresses', () => {
      expect(found('Write to jane.doe+news@mail.example.co.uk, or bob@example.com.')).to.deep.equal([
        'EMAIL:jane.doe+news@mail.example.co.uk',
        'EMAIL:bob@example.com',
      ]);
    });

    it('phone numbers: international, North American and national formats', () => {
      expect(found('Call +44 20 7946 0958 or +1 (415) 555-2671 or +14155552671.')).to.deep.equal([
        'PHONE:+44 20 7946 0958',
        'PHONE:+1 (415) 555-2671',
        'PHONE:+14155552671',
      ]);
      expect(found('US: (415) 555-2671, 415-555-2671, 415.555.2671, 1 415 555 2671')).to.deep.equal([
        'PHONE:(415) 555-2671',
        'PHONE:415-555-2671',
        'PHONE:415.555.2671',
        'PHONE:1 415 555 2671',
      ]);
      expect(found('UK 020 7946 0958, mobile 07700 900123, FR 01 23 45 67 89, FR 01.23.45.67.89')).to.deep.equal([
        'PHONE:020 7946 0958',
        'PHONE:07700 900123',
        'PHONE:01 23 45 67 89',
        'PHONE:01.23.45.67.89',
      ]);
    });

    it('payment card numbers that pass Luhn and have a known prefix', () => {
      expect(found('Visa 4111 1111 1111 1111, MC 5555-5555-5555-4444, Amex 378282246310005.')).to.deep.equal([
        'CREDIT_CARD:4111 1111 1111 1111',
        'CREDIT_CARD:5555-5555-5555-4444',
        'CREDIT_CARD:378282246310005',
      ]);
      expect(found('not a card: 4111 1111 1111 1112')).to.deep.equal([]);
      expect(found('unknown prefix: 1234 5678 1234 5670')).to.deep.equal([]);
    });

    it('national IDs: US SSN (with its invalid ranges), UK NI, Spanish DNI/NIE, Brazilian CPF, Aadhaar', () => {
      expect(found('SSN 536-22-1234 and SSN: 536221234')).to.deep.equal(['US_SSN:536-22-1234', 'US_SSN:536221234']);
      expect(found('bad SSNs 000-12-3456, 666-12-3456, 912-12-3456, 536-00-1234, 078-05-1120')).to.deep.equal([]);
      expect(found('NI number AB 12 34 56 C or AB123456C; not BG 12 34 56 C or QQ123456C')).to.deep.equal(['UK_NINO:AB 12 34 56 C', 'UK_NINO:AB123456C']);
      expect(found('DNI 12345678Z, NIE X1234567L, wrong letter 12345678A')).to.deep.equal(['ES_DNI:12345678Z', 'ES_NIE:X1234567L']);
      expect(found('CPF 529.982.247-25, not 529.982.247-26 nor 111.111.111-11')).to.deep.equal(['BR_CPF:529.982.247-25']);
      expect(found('Aadhaar 2345 6789 0124, not 2345 6789 0125')).to.deep.equal(['IN_AADHAAR:2345 6789 0124']);
    });

    it('bank accounts: IBAN (mod-97 and country length), US routing numbers, account numbers', () => {
      expect(found('IBAN DE89 3704 0044 0532 0130 00 or GB82WEST12345698765432.')).to.deep.equal([
        'IBAN:DE89 3704 0044 0532 0130 00',
        'IBAN:GB82WEST12345698765432',
      ]);
      expect(found('DE89370400440532013000 AND more')).to.deep.equal(['IBAN:DE89370400440532013000']);
      expect(found('wrong check: DE89 3704 0044 0532 0130 01')).to.deep.equal([]);
      expect(found('routing number: 021000021, account number: 12345678901')).to.deep.equal(['US_ROUTING_NUMBER:021000021', 'BANK_ACCOUNT:12345678901']);
      expect(found('routing number 123456789')).to.deep.equal([]);
    });

    it('IP addresses, v4 and v6', () => {
      expect(found('from 203.0.113.42 and 2001:db8::8a2e:370:7334, also fe80::1ff:fe23:4567:890a%eth0.')).to.deep.equal([
        'IPV4:203.0.113.42',
        'IPV6:2001:db8::8a2e:370:7334',
        'IPV6:fe80::1ff:fe23:4567:890a%eth0',
      ]);
      expect(found('mapped ::ffff:192.0.2.128 here')).to.deep.equal(['IPV6:::ffff:192.0.2.128']);
    });

    it('secrets: API keys, tokens, JWTs and private keys', () => {
      const text = [
        `openai ${SECRETS.openai}`,
        `legacy ${SECRETS.openaiLegacy}`,
        `anthropic ${SECRETS.anthropic}`,
        `aws ${SECRETS.aws} aws_secret_access_key = ${SECRETS.awsSecret}`,
        `gh ${SECRETS.github} pat ${SECRETS.githubPat}`,
        `slack ${SECRETS.slack}`,
        `google ${SECRETS.google}`,
        `stripe ${SECRETS.stripe}`,
        `jwt ${SECRETS.jwt}`,
        SECRETS.pem,
        `Authorization: Bearer ${SECRETS.bearer}`,
      ].join('\n');
      expect(found(text)).to.deep.equal([
        `OPENAI_KEY:${SECRETS.openai}`,
        `OPENAI_KEY:${SECRETS.openaiLegacy}`,
        `ANTHROPIC_KEY:${SECRETS.anthropic}`,
        `AWS_ACCESS_KEY:${SECRETS.aws}`,
        `AWS_SECRET_KEY:${SECRETS.awsSecret}`,
        `GITHUB_TOKEN:${SECRETS.github}`,
        `GITHUB_TOKEN:${SECRETS.githubPat}`,
        `SLACK_TOKEN:${SECRETS.slack}`,
        `GOOGLE_API_KEY:${SECRETS.google}`,
        `STRIPE_KEY:${SECRETS.stripe}`,
        `JWT:${SECRETS.jwt}`,
        `PRIVATE_KEY:${SECRETS.pem}`,
        `BEARER_TOKEN:${SECRETS.bearer}`,
      ]);
    });

    it('a private key block cut short (no END line) to the end of the text', () => {
      const cut = ['-----BEGIN', 'PRIVATE KEY-----'].join(' ') + '\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC';
      expect(found(`here: ${cut}`)).to.deep.equal([`PRIVATE_KEY:${cut}`]);
    });

    it('resolves overlaps by priority: a JWT after "Bearer" is a JWT', () => {
      expect(found(`Authorization: Bearer ${SECRETS.jwt}`)).to.deep.equal([`JWT:${SECRETS.jwt}`]);
    });
  });

  describe('does not flag', () => {
    const clean = [
      'Order #123456789 shipped; order number 4532-1234-99; invoice 2024-00123; ticket 1234567890123456.',
      'Dates 2024-01-15, 15/01/2024, 15.01.2024, 01-02-2024 and January 15, 2024.',
      'Timestamps 2024-01-15T10:30:00Z, 2024-01-15 10:30:00, 1700000000, 1700000000123, 10:30:00 and 12:30.',
      'Versions v1.2.3, version 10.4.1.2, node 20.19.0, 1.0.0.1234, release 2.0.0.1.',
      'Numbers 3.14159, 1,234,567.89, $1,234.56, 42%, ISBN 978-3-16-148410-0.',
      'UUID 550e8400-e29b-41d4-a716-446655440000, hash d41d8cd98f00b204e9800998ecf8427e.',
      'Code: std::vector<int> a; a::b; MAC 00:1a:2b:3c:4d:5e; sk-learn and task-force.',
      'Loopback ::1 is not personal. Email-ish: user@localhost, @handle.',
    ];
    for (const text of clean) {
      it(text.slice(0, 60), () => {
        expect(found(text)).to.deep.equal([]);
      });
    }
  });

  it('looks only at the selected categories', () => {
    const text = 'mail bob@example.com, call 415-555-2671, from 203.0.113.42';
    expect(found(text, ['email'])).to.deep.equal(['EMAIL:bob@example.com']);
    expect(found(text, ['phone', 'ip_address'])).to.deep.equal(['PHONE:415-555-2671', 'IPV4:203.0.113.42']);
  });

  it('handles long texts without findings, and texts made to trip regexes, in one go', () => {
    const long = 'lorem ipsum dolor sit amet '.repeat(20000);
    expect(found(long)).to.deep.equal([]);
    const adversarial = 'a'.repeat(50000) + ' ' + '1'.repeat(50000) + ' ' + ':'.repeat(20000) + ' ' + '1.'.repeat(20000);
    expect(found(adversarial)).to.deep.equal([]);
  });
});
