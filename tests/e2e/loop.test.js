// SPDX-License-Identifier: MIT
// Closing the loop in the browser, in both languages: the call-back desk
// (the demo's tickets whose call-back clock runs, per team, the least time
// left first), a call that does not reach the customer and one that does
// with an unhappy answer, the follow-up task it opens for the team lead and
// marking it done; then a resolution the customer never confirms (a
// commitment version with a 2-second wait), which the engine closes, and
// the customer's nodes saying "closed without confirmation", never
// "confirmed". Runs last on the demo: it adds a commitment version.
// env: BASE_URL (a keepword serve --demo), SHOTS, CHROMIUM.
'use strict';
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');
const { shot, overflow } = require('./lib');

const BASE = process.env.BASE_URL;
const PASSWORD = 'keepword-demo';
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

async function open(browser, lang, width, email) {
  const ctx = await browser.newContext({ viewport: { width, height: 900 },
    locale: lang === 'zh' ? 'zh-CN' : 'en-GB', timezoneId: 'Asia/Shanghai' });
  await ctx.addInitScript((l) => localStorage.setItem('kw.lang', l), lang);
  const page = await ctx.newPage();
  page.problems = [];
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push(`${page.url()}: ${m.text()}`); });
  page.on('pageerror', (e) => page.problems.push(`${page.url()}: ${e.message}`));
  await page.goto(BASE + '/#/login');
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('form button[type=submit]');
  await page.waitForSelector('#logout');
  return page;
}

const call = (page, method, path, body) => page.evaluate(async ([m, p, b]) => {
  const me = await (await fetch('/api/v1/me')).json();
  const r = await fetch('/api/v1' + p, { method: m, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
    body: b === undefined ? undefined : JSON.stringify(b) });
  return { status: r.status, body: await r.json() };
}, [method, path, body]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const agent = await open(browser, 'en', 1280, 'li.na@keepword.demo');
    const desk = (await call(agent, 'GET', '/callbacks')).body.callbacks;

    await step('the call-back desk lists the demo\'s call-backs per team, least time left first', async () => {
      assert.ok(desk.length >= 2, `call-backs due in the demo: ${desk.length}`);
      await agent.goto(BASE + '/#/callbacks');
      await agent.waitForSelector('ul.callbacks li[data-ticket]');
      assert.equal(await agent.locator('h1').textContent(), 'Satisfaction call-backs');
      const shown = await agent.$$eval('ul.callbacks li[data-ticket]', (els) => els.map((e) => Number(e.dataset.ticket)));
      assert.deepEqual([...shown].sort(), desk.map((c) => c.ticket).sort());
      for (const team of await agent.$$eval('section[data-team]', (els) => els.map((e) => Number(e.dataset.team)))) {
        const rows = desk.filter((c) => (c.team_id || 0) === team);
        const order = await agent.$$eval(`section[data-team="${team}"] li[data-ticket]`, (els) => els.map((e) => Number(e.dataset.ticket)));
        assert.deepEqual(order, rows.map((c) => c.ticket), `team ${team} by time left`);
      }
      await shot(agent, 'callbacks-en');
    });

    const [first, second] = desk;
    await step('a call that does not reach the customer is counted, and the ticket stays', async () => {
      const row = agent.locator(`li[data-ticket="${first.ticket}"]`);
      await row.locator('select[name=reached]').selectOption('no');
      assert.equal(await row.locator('select[name=satisfaction]').isVisible(), false);
      await row.locator('input[name=note]').fill('no answer, voicemail');
      await row.locator('button.record-call').click();
      await agent.waitForFunction((id) => {
        const li = document.querySelector(`li[data-ticket="${id}"]`);
        return li && /Calls not answered: 1/.test(li.textContent);
      }, first.ticket);
      const evs = (await call(agent, 'GET', `/tickets/${first.ticket}/events`)).body.events;
      const cb = evs.filter((e) => e.type === 'callback');
      assert.deepEqual(cb.map((e) => [e.body.attempt, e.body.reached, e.body.note]), [[1, false, 'no answer, voicemail']]);
    });

    let task = 0;
    await step('an unhappy answer closes the call-back and opens a follow-up task for the team lead', async () => {
      const row = agent.locator(`li[data-ticket="${second.ticket}"]`);
      await row.locator('select[name=reached]').selectOption('yes');
      await row.locator('select[name=satisfaction]').selectOption('2');
      await row.locator('input[name=nps]').fill('4');
      await row.locator('input[name=follow_up]').fill('Call the IT head about the mail outage');
      await row.locator('button.record-call').click();
      await agent.waitForFunction((id) => !document.querySelector(`li[data-ticket="${id}"]`) &&
        document.getElementById('toast').textContent.includes('follow-up task'), second.ticket);
      const evs = (await call(agent, 'GET', `/tickets/${second.ticket}/events`)).body.events;
      const rating = evs.filter((e) => e.type === 'rating').pop();
      assert.equal(rating.body.source, 'callback');
      assert.ok(evs.some((e) => e.type === 'milestone' && e.body.milestone === 'callback_done'));
      const tasks = (await call(agent, 'GET', `/tickets/${second.ticket}/tasks`)).body.tasks;
      task = tasks.length;
      assert.equal(tasks[task - 1].note, 'Call the IT head about the mail outage');
      assert.ok(tasks[task - 1].assignee_id, 'the team lead');
    });

    await step('the task shows on the ticket and is marked done', async () => {
      await agent.goto(BASE + `/#/t/${second.ticket}`);
      const li = agent.locator(`#tasks li[data-task="${task}"]`);
      await li.waitFor();
      assert.match(await li.textContent(), /Call the IT head about the mail outage/);
      assert.match(await agent.locator('#timeline').textContent(), /opened follow-up task/);
      await li.locator('input[name=done_note]').fill('Called, explained the blacklist');
      await li.locator('button[type=submit]').click();
      await agent.waitForFunction((n) => {
        const x = document.querySelector(`#tasks li[data-task="${n}"]`);
        return x && x.classList.contains('done') && /Called, explained the blacklist/.test(x.textContent);
      }, task);
    });

    await step('the desk in Chinese on a phone', async () => {
      const zh = await open(browser, 'zh', 390, 'zhang.wei@keepword.demo');
      await zh.goto(BASE + '/#/callbacks');
      await zh.waitForSelector('ul.callbacks li[data-ticket]');
      assert.equal(await zh.locator('h1').textContent(), '满意度回访');
      const text = await zh.locator('main').textContent();
      assert.match(text, /记录回访/);
      assert.match(text, /未接通次数：1/);
      assert.doesNotMatch(text, /Record the call|Calls not answered|Satisfaction call-backs/);
      assert.ok(await overflow(zh) <= 0, 'fits 390 px');
      await shot(zh, 'callbacks-zh-390');
      const row = zh.locator(`li[data-ticket="${first.ticket}"]`);
      await row.locator('select[name=reached]').selectOption('yes');
      await row.locator('select[name=satisfaction]').selectOption('5');
      await row.locator('button.record-call').click();
      await zh.waitForFunction((id) => !document.querySelector(`li[data-ticket="${id}"]`) &&
        document.getElementById('toast').textContent.includes('回访已记录'), first.ticket);
      assert.deepEqual(zh.problems, []);
    });

    // a commitment version whose wait for confirmation is two seconds
    const manager = await open(browser, 'en', 1280, 'manager@keepword.demo');
    const list = (await call(manager, 'GET', '/commitments')).body;
    const doc = (await call(manager, 'GET', `/commitments/${list.in_force}`)).body;
    const spec = doc.document || doc.doc || doc;
    const next = { ...spec, version: `${spec.version}-loop`, effective_from: new Date(Date.now() - 1000).toISOString(),
      confirm_within: { target: '2s', calendar: '24x7', remind_at: null } };
    const made = await call(manager, 'POST', '/commitments', next);
    const customer = await open(browser, 'en', 1280, 'it@huaxin.demo');
    let id = 0;
    await step('a resolution the customer never confirms is closed by the engine', async () => {
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const tk = await call(customer, 'POST', '/tickets', { title: 'Token driver fails to install', level: 'L3' });
      assert.equal(tk.status, 201, JSON.stringify(tk.body));
      id = tk.body.id;
      for (const to of ['handling', 'feedback'])
        assert.equal((await call(agent, 'POST', `/tickets/${id}/events`, { type: 'transition', to })).status, 201);
      let state = '';
      for (let i = 0; i < 60 && state !== 'archived'; i++) {
        await sleep(200);
        state = (await call(agent, 'GET', `/tickets/${id}`)).body.state;
      }
      assert.equal(state, 'archived');
    });

    await step('the customer\'s nodes say closed without confirmation, in English and Chinese', async () => {
      await customer.goto(BASE + `/#/t/${id}`);
      const node = customer.locator('li[data-node="closed_unconfirmed"]');
      await node.waitFor();
      assert.match(await node.textContent(), /Closed without confirmation/);
      assert.equal(await customer.locator('li[data-node="confirmed"]').count(), 0);
      assert.match(await customer.locator('#unconfirmed').textContent(), /without your confirmation/);
      assert.match(await customer.locator('#timeline').textContent(), /without the customer's confirmation/);
      await shot(customer, 'unconfirmed-en');
      const zh = await open(browser, 'zh', 390, 'it@huaxin.demo');
      await zh.goto(BASE + `/#/t/${id}`);
      const zn = zh.locator('li[data-node="closed_unconfirmed"]');
      await zn.waitFor();
      assert.match(await zn.textContent(), /未经确认关闭/);
      assert.match(await zh.locator('#unconfirmed').textContent(), /未经您确认/);
      assert.ok(await overflow(zh) <= 0, 'fits 390 px');
      await shot(zh, 'unconfirmed-zh-390');
      assert.deepEqual(zh.problems, []);
    });

    await step('the customer reopens it within the window', async () => {
      await customer.locator('#reopen-button').click();
      await customer.waitForFunction(() => !document.querySelector('li[data-node="closed_unconfirmed"]'));
      assert.equal((await call(customer, 'GET', `/tickets/${id}`)).body.state, 'handling');
      assert.deepEqual([...agent.problems, ...manager.problems, ...customer.problems], []);
    });
    console.log(`${passed} passed`);
  } finally {
    await browser.close();
  }
})().catch(() => process.exit(1));
