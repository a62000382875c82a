// The console in a real browser: playwright-core driving Debian's Chromium (/usr/bin/chromium) against
// the gateway (bundled plugins, an admin key, SQLite) in front of a loopback OpenAI fake: sign in with
// the admin key, see the request log's rows, create a key, and check a screenshot and what the page shows.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { OpenAIFake, silent } from '@waygate/core/testing';
import { masked, MASK } from '../src/index.js';

const ADMIN = 'the-console-admin-key-0123456789abc';
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

describe('@waygate/console', () => {
  it('masks secret-named fields and URL passwords in the config it shows', () => {
    const out = masked({ providers: { openai: { api_key: 'sk-real', base_url: 'http://u:pw@h/v1' } }, adminKey: 'env:ADMIN', n: 1 }) as any;
    expect(out.providers.openai.api_key).to.equal(MASK);
    expect(out.providers.openai.base_url).to.not.include('pw');
    expect(out.adminKey).to.equal('env:ADMIN');
  });

  describe('in Chromium', function () {
    let up: OpenAIFake;
    let gw: Gateway;
    let browser: Browser;
    let dir: string;
    const saved = process.env.WAYGATE_ADMIN_KEY;

    before(async function () {
      if (!fs.existsSync(CHROMIUM)) {
        if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: CI=true requires Chromium for the console's browser test`);
        console.warn(`      skipping the browser test: no ${CHROMIUM} (apt-get install -y chromium)`);
        return this.skip();
      }
      delete process.env.WAYGATE_ADMIN_KEY;
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'waygate-console-'));
      up = await OpenAIFake.start();
      gw = await startGateway({
        config: {
          plugins: [{ module: '@waygate/auth', options: { adminKey: ADMIN, store: { type: 'sqlite', path: path.join(dir, 'w.sqlite') } } }],
          providers: { openai: { api_key: 'sk-upstream-secret-held', base_url: `${up.url}/v1` } },
          routing: { provider: 'openai' },
        },
        port: 0,
        host: '127.0.0.1',
        logger: silent,
      });
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    });
    after(async () => {
      await browser?.close();
      await gw?.close(0);
      await up?.close?.();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
      if (saved !== undefined) process.env.WAYGATE_ADMIN_KEY = saved;
    });

    it('signs in with the admin key, shows the logged requests, creates a key, and masks the config', async () => {
      const made: any = await (
        await fetch(`${gw.url}/admin/keys`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'sdk-user' }),
        })
      ).json();
      const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: made.key, maxRetries: 0 });
      await client.chat.completions.create({ model: 'console-model-a', messages: [{ role: 'user', content: 'hi' }] });
      await client.chat.completions.create({ model: 'console-model-b', messages: [{ role: 'user', content: 'hi' }] });

      const context = await browser.newContext();
      const page = await context.newPage();
      const outside: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(gw.url)) outside.push(r.url());
      });
      await page.goto(`${gw.url}/console`);
      await page.fill('#admin-key', 'wrong-key-wrong-key-wrong');
      await page.click('#login');
      await page.waitForSelector('#login-error');
      await page.fill('#admin-key', ADMIN);
      await page.click('#login');
      await page.waitForSelector('#log-table').catch(async (e) => {
        await page.screenshot({ path: '/tmp/reqlog-console-fail.png' });
        throw e;
      });
      await page.waitForSelector('[data-testid=log-row]');
      await page.waitForFunction("document.querySelectorAll('[data-testid=log-row]').length >= 2");
      const table = await page.textContent('#log-table');
      expect(table).to.include('console-model-a').and.include('console-model-b').and.include('sdk-user');
      await page.click('[data-testid=log-row]');
      expect(await page.textContent('#log-detail')).to.include('"endpoint": "chat.completions"');

      await page.click('#tab-keys');
      await page.fill('#key-name', 'made-in-browser');
      await page.click('#create-key');
      await page.waitForSelector('#made-key');
      expect(await page.textContent('#made-key')).to.match(/made-in-browser made: wg-/);
      await page.waitForFunction("document.querySelector('#keys-table')?.textContent?.includes('made-in-browser')");
      const listed: any = await (await fetch(`${gw.url}/admin/keys`, { headers: { authorization: `Bearer ${ADMIN}` } })).json();
      expect(listed.data.map((k: { name: string }) => k.name)).to.include('made-in-browser');

      await page.click('#tab-gateway');
      await page.waitForSelector('#config pre');
      const config = await page.textContent('#config');
      expect(config).to.include(MASK).and.not.include('sk-upstream-secret-held');
      expect(await page.textContent('#plugins')).to.include('@waygate/request-log');

      await page.click('#tab-requests');
      await page.waitForSelector('[data-testid=log-row]');
      const shot = path.join(dir, 'console.png');
      await page.screenshot({ path: shot, fullPage: true });
      const png = fs.readFileSync(shot);
      expect(png.subarray(1, 4).toString()).to.equal('PNG');
      expect(png.length).to.be.greaterThan(5000);
      expect(await page.evaluate("sessionStorage.getItem('waygate-admin-key')")).to.equal(ADMIN);
      expect(outside).to.deep.equal([]);
      await context.close();
    });

    it('answers the page only with the admin API configured, and refuses a non-admin on /admin/gateway', async () => {
      expect((await fetch(`${gw.url}/admin/gateway`)).status).to.equal(401);
      const res = await fetch(`${gw.url}/console`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-security-policy')).to.include("default-src 'none'");
    });
  });
});
