// SPDX-License-Identifier: MIT
// Every page, as each role, in both languages (English on a desktop, Chinese
// on a 390 px phone): no console error, no script error and no
// Content-Security-Policy violation anywhere. Then what a new user met in
// the first hour: notification endpoints (events, edit, disable, delete, a
// test that says what became of it, the outbox's errors), the commitments
// page (the version chosen, the whole letter, what was published), the
// board (breached first, counters that filter), the customer's view of a
// ticket (staff names, no SRI, no internal clock), no "changed meanwhile"
// after one's own change, and the login error in Chinese.
// env: BASE_URL (a keepword serve --demo), SHOTS, CHROMIUM, HOOK (a whsink URL
// that answers 200).
'use strict';
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');
const { shot, overflow } = require('./lib');

const BASE = process.env.BASE_URL;
const HOOK = process.env.HOOK;
const PASSWORD = 'keepword-demo';
const MANAGER = 'manager@keepword.demo', AGENT = 'li.na@keepword.demo', CUSTOMER = 'it@huaxin.demo';
const FITS = new Set(['#/board', '#/admin/commitments', '#/admin/endpoints', 'TICKET']);
let passed = 0;

async function step(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    console.log(`not ok - ${name}\n  ${String(e.stack || e).split('\n').slice(0, 8).join('\n  ')}`);
    throw e;
  }
}

// A browser context in lang at width; every console error, script error and
// CSP violation lands in page.problems.
async function open(browser, lang, width) {
  const ctx = await browser.newContext({ viewport: { width, height: 900 },
    locale: lang === 'zh' ? 'zh-CN' : 'en-GB', timezoneId: 'Asia/Shanghai' });
  await ctx.addInitScript((l) => {
    localStorage.setItem('kw.lang', l);
    document.addEventListener('securitypolicyviolation', (e) =>
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI || ''}`));
  }, lang);
  const page = await ctx.newPage();
  page.problems = [];
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push(`${page.url()}: ${m.text()}`); });
  page.on('pageerror', (e) => page.problems.push(`${page.url()}: ${e.message}`));
  page.on('dialog', (d) => { page.problems.push('dialog: ' + d.message()); d.dismiss(); });
  return page;
}

async function login(page, email) {
  await page.goto(BASE + '/#/login');
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('form button[type=submit]');
  await page.waitForSelector('#logout');
}

const toasts = (page) => page.evaluate(() => document.getElementById('toast').textContent);
// The API as the page's session, for facts the test checks against.
const apiGet = (page, path) => page.evaluate(async (p) => (await fetch('/api/v1' + p)).json(), path);

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    await step('the login page and a failed login say it in Chinese', async () => {
      const page = await open(browser, 'zh', 390);
      await page.goto(BASE + '/#/login');
      await page.waitForSelector('input[name=email]');
      await page.fill('input[name=email]', MANAGER);
      await page.fill('input[name=password]', 'not-the-password');
      await page.click('form button[type=submit]');
      const text = await page.locator('#login-error').textContent();
      assert.match(text, /登录失败.*邮箱或密码不正确/);
      assert.doesNotMatch(text, /[a-z]{4,}/, 'no English words in the Chinese login error');
      await shot(page, 'login-error-zh-390');
      // the browser logs a refused request itself; no other error may appear
      assert.deepEqual(page.problems.filter((p) => !/status of 401/.test(p)), []);
      await page.context().close();
    });

    // A ticket of the customer's organisation, for the staff and customer sweeps.
    let own = null;
    const pages = {
      [MANAGER]: ['#/board', 'TICKET', '#/admin/commitments', '#/admin/calendars', '#/admin/orgs', '#/admin/people',
        '#/admin/oncall', '#/admin/endpoints'],
      [AGENT]: ['#/board', 'TICKET', '#/admin/commitments', '#/admin/endpoints'],
      [CUSTOMER]: ['#/portal', '#/portal/new', 'TICKET', '#/board'],
    };
    for (const [lang, width] of [['en', 1366], ['zh', 390]]) {
      for (const who of [MANAGER, AGENT, CUSTOMER]) {
        await step(`${who} in ${lang} at ${width} px: every page, no console error or CSP violation`, async () => {
          const page = await open(browser, lang, width);
          await login(page, who);
          if (!own && who === CUSTOMER) own = (await apiGet(page, '/tickets?limit=1')).tickets[0].id;
          for (const hash of pages[who]) {
            const target = hash === 'TICKET' ? `#/t/${own || 1}` : hash;
            await page.goto(BASE + '/' + target);
            await page.waitForFunction(() => !document.querySelector('main .muted') ||
              document.querySelector('main').textContent.trim() !== document.querySelector('main .muted').textContent.trim());
            await page.waitForTimeout(300);
            const name = `${who.split('@')[0]}-${target.replace(/[^a-z0-9]+/gi, '-')}-${lang}-${width}`;
            await shot(page, name);
            // the pages this suite owns fit a phone (the rest: ui.test.js and their own tests)
            if (width <= 390 && FITS.has(hash)) assert.ok(await overflow(page) <= 1, `${target} is wider than the phone`);
          }
          assert.deepEqual(page.problems, []);
          await page.context().close();
        });
      }
    }

    const manager = await open(browser, 'en', 1366);
    await login(manager, MANAGER);

    await step('an endpoint chooses its events; a test says it arrived', async () => {
      await manager.goto(BASE + '/#/admin/endpoints');
      await manager.waitForSelector('#create-endpoint');
      await manager.fill('input[name=name] >> nth=0', 'Ops hook');
      await manager.fill('input[name=url] >> nth=0', HOOK);
      await manager.check('fieldset.events input[value=sla_breach]');
      await manager.check('fieldset.events input[value=test]');
      await manager.click('#create-endpoint');
      const row = manager.locator('#endpoints tr', { hasText: 'Ops hook' });
      await row.waitFor();
      assert.equal(await row.locator('td').nth(3).textContent(), 'SLA breach, test');
      await row.locator('.send-test').click();
      await row.locator('.outcome.ok').waitFor({ timeout: 15000 });
      assert.equal(await row.locator('.outcome').textContent(), 'Test delivered to Ops hook.');
    });

    await step('edited to a receiver that fails, the test says so with the error, and the outbox shows it', async () => {
      const row = manager.locator('#endpoints tr', { hasText: 'Ops hook' });
      await row.locator('.edit-endpoint').click();
      const ed = manager.locator('#endpoints tr.editing');
      await ed.locator('input[name=name]').fill('Ops hook (broken)');
      await ed.locator('input[name=url]').fill(BASE + '/no-such-receiver');
      await ed.locator('input[value=sla_breach]').uncheck();
      await ed.locator('input[value=escalation]').check();
      await ed.locator('.save-endpoint').click();
      const again = manager.locator('#endpoints tr', { hasText: 'Ops hook (broken)' });
      await again.waitFor();
      assert.equal(await again.locator('td').nth(3).textContent(), 'escalation step, test');
      await again.locator('.send-test').click();
      await again.locator('.outcome.bad').waitFor({ timeout: 15000 }).catch(async (x) => {
        // what the outbox held then, to tell a slow delivery from a lost answer
        const ob = (await apiGet(manager, '/outbox?limit=500')).notifications
          .filter((n) => n.state === 'pending' || n.kind === 'test')
          .map((n) => `${n.id} ${n.kind} ep${n.endpoint_id} ${n.state} a${n.attempts} ${n.next_at} ${n.last_error || ''}`);
        throw new Error(`no outcome: ${x.message}\n${ob.join('\n')}`);
      });
      const said = await again.locator('.outcome').textContent();
      assert.match(said, /^Test to Ops hook \(broken\) failed: the endpoint answered 404/);
      assert.doesNotMatch(await toasts(manager), /^Sent$/);
      // the outbox below shows the attempt at once, with its error
      const test = manager.locator('#outbox tbody tr', { hasText: 'Ops hook (broken)' }).filter({ hasText: /^test/ }).first();
      await test.waitFor();
      assert.equal(await test.locator('td.error').textContent(), 'the endpoint answered 404');
      await shot(manager, 'endpoints-outcome');
    });

    await step('disabled, then deleted after a second click', async () => {
      const row = () => manager.locator('#endpoints tr', { hasText: 'Ops hook (broken)' });
      await row().locator('.toggle-endpoint').click();
      await manager.waitForFunction(() => [...document.querySelectorAll('#endpoints tr')]
        .some((tr) => tr.textContent.includes('Ops hook (broken)') && tr.textContent.includes('Disabled')));
      const eps = (await apiGet(manager, '/endpoints')).endpoints;
      assert.equal(eps.find((e) => e.name === 'Ops hook (broken)').active, false);
      await row().locator('.delete-endpoint').click();
      assert.match(await row().locator('.delete-endpoint').textContent(), /Click again to confirm/);
      assert.equal((await apiGet(manager, '/endpoints')).endpoints.length, 1, 'one click deletes nothing');
      await row().locator('.delete-endpoint').click();
      await manager.waitForFunction(() => document.querySelector('#endpoints') &&
        !document.querySelector('#endpoints').textContent.includes('Ops hook (broken)'));
      assert.equal((await apiGet(manager, '/endpoints')).endpoints.length, 0);
      assert.ok((await apiGet(manager, '/outbox?limit=500')).notifications.length >= 1, 'the outbox keeps its history');
    });

    await step('commitments: publishing says what was published; each version opens itself, its letter whole', async () => {
      await manager.goto(BASE + '/#/admin/commitments');
      await manager.waitForSelector('#letter h1');
      const doc = JSON.parse(await manager.inputValue('textarea[name=document]'));
      assert.equal(doc.version, undefined, 'the version is set in its field, not in the document');
      assert.equal(doc.effective_from, undefined);
      // the next number not taken yet is offered
      const taken = new Set((await apiGet(manager, '/commitments')).commitments.map((c) => c.version));
      let next = 2;
      while (taken.has(`2026.${next}`)) next++;
      assert.equal(await manager.inputValue('input[name=version]'), `2026.${next}`);
      await manager.fill('input[name=version]', '2026.5');
      await manager.click('#publish');
      await manager.waitForSelector('#published.ok');
      assert.match(await manager.locator('#published').textContent(), /^Published .+ version 2026\.5, in force from /);
      assert.ok(await manager.locator('#versions tr[aria-selected=true] >> text=2026.5').count());
      assert.match(await manager.locator('#letter').textContent(), /2026\.5/);
      // the first version again: its letter, and the next free number
      await manager.click('#versions button[data-open="2026.1"]');
      await manager.waitForFunction(() => document.querySelector('#editing').textContent.includes('2026.1'));
      assert.match(await manager.locator('#letter').textContent(), /2026\.1/);
      assert.equal(await manager.inputValue('input[name=version]'), `2026.${next}`);
      const whole = await manager.evaluate(() => {
        const l = document.getElementById('letter');
        return l.scrollHeight <= l.clientHeight + 1;
      });
      assert.ok(whole, 'the letter is shown whole, not in a scroll box');
      await shot(manager, 'commitments-published');
    });

    const agent = await open(browser, 'en', 1366);
    await login(agent, AGENT);

    await step('the board: breached first, most overdue on top; the counters filter', async () => {
      await agent.goto(BASE + '/#/board');
      await agent.waitForSelector('#board tbody tr[data-id]');
      // The board repaints when the engine's breach reaches it over the
      // feed, a moment after the deadline: a look taken in that moment is
      // taken again once the feed has caught up.
      let rows, all, now;
      for (let tries = 0; ; tries++) {
        rows = await agent.evaluate(() => [...document.querySelectorAll('#board tbody tr[data-id]')].map((tr) => Number(tr.dataset.id)));
        all = (await apiGet(agent, '/tickets?state=open&include=clocks&limit=500')).tickets;
        now = Date.now();
        const t = now;
        if (tries === 5 || !all.some((x) => x.due_at && Math.abs(Date.parse(x.due_at) - t) < 3000)) break;
        await agent.waitForTimeout(3000);
      }
      const breached = (x) => x.breached || (x.due_at && Date.parse(x.due_at) <= now);
      const flags = rows.map((id) => breached(all.find((x) => x.id === id)));
      assert.ok(flags[0], 'a breached ticket is on top');
      assert.equal(flags.indexOf(false) === -1 ? flags.length : flags.indexOf(false), flags.filter(Boolean).length,
        'every breached ticket comes before every other');
      const late = rows.filter((id, i) => flags[i]).map((id) => all.find((x) => x.id === id));
      // when each became overdue: its earliest deadline passed by a running clock
      const since = (x) => Math.min(...(x.clocks || []).filter((c) => c.deadline &&
        (c.status === 'breached' || c.status === 'running') && Date.parse(c.deadline) <= now).map((c) => Date.parse(c.deadline)));
      const keys = late.map(since).filter((k) => k !== Infinity);
      assert.deepEqual(keys, [...keys].sort((a, b) => a - b), 'the most overdue first');
      const others = rows.filter((id, i) => !flags[i]).map((id) => all.find((x) => x.id === id).due_at)
        .filter(Boolean).map(Date.parse);
      assert.deepEqual(others, [...others].sort((a, b) => a - b), 'then by time to breach');
      const n = Number(await agent.locator('#counters [data-counter=breached] b').textContent());
      assert.equal(n, flags.filter(Boolean).length);
      await agent.click('#counters [data-counter=breached]');
      assert.equal(await agent.locator('#counters [data-counter=breached]').getAttribute('aria-pressed'), 'true');
      assert.equal(await agent.locator('#board tbody tr[data-id]').count(), n);
      assert.equal(await agent.inputValue('select[name=breached]'), 'true');
      await agent.click('#counters [data-counter=L1]');
      const l1 = await agent.evaluate(() => [...document.querySelectorAll('#board tbody tr[data-id] .badge')].map((b) => b.textContent));
      assert.ok(l1.length && l1.every((l) => l === 'L1'));
      await agent.click('#counters [data-counter=total]');
      assert.equal(await agent.locator('#board tbody tr[data-id]').count(), rows.length);
      assert.match(await agent.locator('#board thead').textContent(), /clock time to deadline/);
      await shot(agent, 'board-breached-first');
    });

    await step('changing the level shows no "changed meanwhile" toast, and the new level', async () => {
      const id = (await apiGet(agent, '/tickets?state=open&limit=1')).tickets[0].id;
      await agent.goto(BASE + `/#/t/${id}`);
      await agent.waitForSelector('#change-level');
      const levels = await agent.evaluate(() => [...document.querySelectorAll('select[name=level] option')].map((o) => o.value));
      const current = await agent.inputValue('select[name=level]');
      await agent.selectOption('select[name=level]', levels.find((l) => l !== current));
      await agent.fill('input[name=level_reason]', 'the customer says the whole branch is down');
      await agent.click('#change-level');
      await agent.waitForFunction((was) => document.querySelector('select[name=level]') &&
        document.querySelector('select[name=level]').value !== was && !document.querySelector('input[name=level_reason]').value, current);
      await agent.waitForTimeout(1500); // the feed's echo of the change, and any firing it caused
      assert.doesNotMatch(await toasts(agent), /changed meanwhile/);
      assert.match(await agent.locator('#clocks thead').textContent(), /Working time left.*SRI|SRI/);
      assert.ok(await agent.locator('#clocks-note').count());
    });

    await step('but someone else\'s change while the agent types is announced', async () => {
      const id = Number(agent.url().match(/#\/t\/(\d+)$/)[1]);
      await agent.fill('textarea[name=text]', 'half-written reply');
      await manager.evaluate(async ([t, csrf]) => fetch(`/api/v1/tickets/${t}/events`, { method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
        body: JSON.stringify({ type: 'comment', text: 'manager was here', internal: true }) }),
      [id, await manager.evaluate(async () => (await (await fetch('/api/v1/me')).json()).csrf_token)]);
      await agent.waitForFunction(() => /changed meanwhile/.test(document.getElementById('toast').textContent), null, { timeout: 5000 });
      assert.equal(await agent.inputValue('textarea[name=text]'), 'half-written reply');
    });

    await step('the customer reads staff names, and no SRI or internal clock', async () => {
      const page = await open(browser, 'zh', 390);
      await login(page, CUSTOMER);
      const list = (await apiGet(page, '/tickets?limit=500')).tickets;
      let chosen = null;
      for (const x of list) {
        const evs = (await apiGet(page, `/tickets/${x.id}/events`)).events;
        if (evs.some((e) => e.actor_name && e.actor !== x.created_by)) { chosen = x; break; }
      }
      assert.ok(chosen, 'a ticket of theirs that staff acted on');
      await page.goto(BASE + `/#/t/${chosen.id}`);
      await page.waitForSelector('#timeline li');
      const meta = await page.evaluate(() => [...document.querySelectorAll('#timeline .meta')].map((m) => m.textContent).join('\n'));
      assert.doesNotMatch(meta, /用户 \d+|user \d+|#\d+ ·/);
      assert.doesNotMatch(meta, /@/);
      const heads = await page.locator('#clocks thead').textContent();
      assert.doesNotMatch(heads, /服务响应指数|SRI/);
      assert.match(heads, /剩余工作时间/);
      assert.equal(await page.locator('#clocks tr[data-metric=callback]').count(), 0);
      assert.doesNotMatch(await page.locator('#assignee').textContent(), /^#\d+$/);
      assert.ok(await overflow(page) <= 1);
      await shot(page, 'customer-ticket-zh-390');
      assert.deepEqual(page.problems, []);
      await page.context().close();
    });

    await step('no script errors meanwhile', async () => {
      assert.deepEqual(manager.problems, []);
      assert.deepEqual(agent.problems, []);
    });
  } finally {
    await browser.close();
  }
  console.log(`${passed} page checks passed`);
})().catch(() => process.exit(1));
