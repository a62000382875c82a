// A loopback fake of IBM Cloud IAM's token endpoint: `POST /identity/token` with the API-key grant as a
// form; a known key (GOOD_KEY, or one added to `keys`) gets a token (`token-<n>` in a JWT's shape, n counting the exchanges), any other
// key IAM's 400. Each test may script the next answers (a status and body) and a delay.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const GOOD_KEY = 'ibm-cloud-api-key-0123456789abcdef';

export class FakeIam {
  readonly forms: URLSearchParams[] = [];
  readonly contentTypes: string[] = [];
  /** The API keys this IAM knows. */
  readonly keys = new Set([GOOD_KEY]);
  /** Answers to use before the default ones, in turn. */
  script: Array<{ status: number; body: unknown }> = [];
  expiresIn = 3600;
  delayMs = 0;
  #server!: http.Server;
  url = '';

  static async start(): Promise<FakeIam> {
    const f = new FakeIam();
    f.#server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        f.forms.push(form);
        f.contentTypes.push(String(req.headers['content-type']));
        const answer = f.script.shift() ?? f.#default(form, req.url);
        setTimeout(() => {
          res.writeHead(answer.status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(answer.body));
        }, f.delayMs);
      });
    });
    await new Promise<void>((resolve) => f.#server.listen(0, '127.0.0.1', resolve));
    f.url = `http://127.0.0.1:${(f.#server.address() as AddressInfo).port}/identity/token`;
    return f;
  }

  /** The token of the n-th exchange (1-based), as the fake mints it. */
  static token(n: number): string {
    return `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(`token-${n}`).toString('base64url')}.c2ln`;
  }

  #default(form: URLSearchParams, url?: string): { status: number; body: unknown } {
    if (url !== '/identity/token' || form.get('grant_type') !== 'urn:ibm:params:oauth:grant-type:apikey' || !this.keys.has(form.get('apikey') ?? '')) {
      return { status: 400, body: { errorCode: 'BXNIM0415E', errorMessage: 'Provided API key could not be found.' } };
    }
    return {
      status: 200,
      body: { access_token: FakeIam.token(this.forms.length), token_type: 'Bearer', expires_in: this.expiresIn, scope: 'ibm openid' },
    };
  }

  reset(): void {
    this.forms.length = 0;
    this.contentTypes.length = 0;
    this.script = [];
    this.expiresIn = 3600;
    this.delayMs = 0;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
