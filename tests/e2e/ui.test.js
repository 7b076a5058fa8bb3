// SPDX-License-Identifier: MIT
// The web UI in headless chromium, as people use it: a customer submits a
// request, an agent sees it arrive on the live board and takes it through
// the loop, the customer confirms and rates, a manager publishes a
// commitment version and previews a calendar deadline; the language switch,
// escaping, CSRF and logins that do not leak into each other.
// env: BASE_URL (a keepword serve --demo), SHOTS (screenshot dir), CHROMIUM.
'use strict';
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');
const { step, passed, englishLeft } = require('./lib');

const BASE = process.env.BASE_URL;
const SHOTS = process.env.SHOTS;
const PASSWORD = 'keepword-demo';
const XSS = 'Payment gateway <img src=x onerror="window.__xss=1"> times out';

async function session(browser, email, opts) {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 },
    locale: (opts && opts.locale) || 'en-GB', timezoneId: 'Europe/Berlin' });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('dialog', (d) => { page.errors.push('dialog: ' + d.message()); d.dismiss(); });
  await login(page, email);
  return page;
}

async function login(page, email) {
  await page.goto(BASE + '/#/login');
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('form button[type=submit]');
  await page.waitForSelector('#logout');
}

const shot = (page, name) => page.screenshot({ path: `${SHOTS}/${name}.png` });

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  let id;
  try {
    const agent = await session(browser, 'li.na@keepword.demo');
    const customer = await session(browser, 'it@huaxin.demo');
    const manager = await session(browser, 'manager@keepword.demo');

    await step('the agent opens the live board', async () => {
      await agent.goto(BASE + '/#/board');
      await agent.waitForSelector('#board tbody tr[data-id]');
      await agent.waitForSelector('#live.live');
      await agent.evaluate(() => { window.__stay = 'same page'; });
      assert.ok(await agent.locator('#counters [data-counter=total] b').textContent());
      await shot(agent, 'board');
    });

    await step('a customer submits a request in the portal', async () => {
      await customer.goto(BASE + '/#/portal/new');
      await customer.fill('input[name=title]', XSS);
      await customer.fill('textarea[name=description]', 'Card payments fail since 10:00.');
      await customer.selectOption('select[name=level]', 'L2');
      await shot(customer, 'portal-new');
      await customer.click('#submit-request');
      await customer.waitForURL(/#\/t\/\d+$/);
      id = Number(customer.url().match(/#\/t\/(\d+)$/)[1]);
      await customer.waitForSelector('ol.nodes li.reached');
      await shot(customer, 'portal-ticket');
    });

    await step('it appears on the agent\'s board without a reload, with a running countdown', async () => {
      const row = agent.locator(`#board tr[data-id="${id}"]`);
      await row.waitFor({ timeout: 5000 });
      assert.equal(await agent.evaluate(() => window.__stay), 'same page');
      const chip = row.locator('.clock[data-metric=response] .countdown');
      const first = await chip.textContent();
      assert.match(first, /^in /);
      await agent.waitForFunction(([sel, was]) => document.querySelector(sel).textContent !== was,
        [`#board tr[data-id="${id}"] .clock[data-metric=response] .countdown`, first], { timeout: 4000 });
      await shot(agent, 'board-live');
    });

    await step('the title renders as text, never as HTML', async () => {
      const cell = agent.locator(`#board tr[data-id="${id}"] td.title`);
      assert.equal(await cell.textContent(), XSS);
      assert.equal(await cell.locator('img').count(), 0);
      assert.equal(await agent.evaluate(() => window.__xss), undefined);
      await agent.goto(BASE + `/#/t/${id}`);
      await agent.waitForSelector('h1');
      assert.ok((await agent.locator('h1').textContent()).includes('<img src=x'));
      assert.equal(await agent.locator('main img').count(), 0);
      assert.equal(await agent.evaluate(() => window.__xss), undefined);
    });

    await step('the agent takes it through the loop: reply, analyse, handle, resolve', async () => {
      await agent.fill('textarea[name=text]', 'We are looking into the gateway.');
      await agent.click('#send-reply');
      await agent.waitForSelector('#timeline li.comment >> text=We are looking into the gateway.');
      // the first public reply is the response: no milestone to pick by hand
      await agent.waitForSelector('#timeline li[data-type=milestone]');
      await agent.waitForSelector('#clocks tr[data-metric=response] .clock.met');
      for (const to of ['analysing', 'handling', 'feedback']) {
        await agent.selectOption('select[name=to]', to);
        await agent.click('#move');
        await agent.waitForFunction((s) => document.querySelector('#state') &&
          document.querySelector('#state').textContent === s,
        { analysing: 'Analysing', handling: 'Handling', feedback: 'Resolution proposed' }[to]);
      }
      assert.ok((await agent.locator('#chain').textContent()).includes('intact'));
      await shot(agent, 'ticket');
    });

    await step('the customer confirms the resolution and rates the service', async () => {
      await customer.goto(BASE + `/#/t/${id}`);
      await customer.waitForSelector('#confirm');
      await customer.click('#confirm');
      await customer.waitForFunction(() => document.querySelector('#state') &&
        document.querySelector('#state').textContent === 'Archived');
      await customer.selectOption('select[name=satisfaction]', '4');
      await customer.fill('input[name=nps]', '9');
      await customer.fill('input[name=comment]', 'Quick and clear.');
      await customer.click('#rate');
      await customer.waitForSelector('#rating >> text=Thank you for your rating.');
      await customer.waitForTimeout(1000); // the feed's echo of the rating
      assert.doesNotMatch(await customer.evaluate(() => document.getElementById('toast').textContent), /changed meanwhile/,
        'one\'s own rating is not someone else\'s change');
      await customer.waitForSelector('#reopen-button'); // within the reopen window
      const nodes = await customer.locator('ol.nodes li.reached').count();
      assert.equal(nodes, await customer.locator('ol.nodes li').count());
      await shot(customer, 'portal-rated');
    });

    await step('the customer sees only their organisation\'s requests', async () => {
      await customer.goto(BASE + '/#/portal');
      await customer.waitForSelector('#requests');
      const orgs = await customer.evaluate(async () =>
        (await (await fetch('/api/v1/tickets?limit=500')).json()).tickets.map((x) => x.org_id));
      assert.ok(orgs.length > 0 && orgs.every((o) => o === orgs[0]));
      await shot(customer, 'portal');
      await customer.goto(BASE + '/#/board');
      await customer.waitForSelector('main .problem');
    });

    await step('an engine event recorded after it fell due shows both instants; customers see no warnings', async () => {
      // the demo's thresholds in the past fired when the server started
      const late = await agent.evaluate(async () => {
        const list = (await (await fetch('/api/v1/tickets?limit=500')).json()).tickets;
        for (const x of list) {
          const evs = (await (await fetch(`/api/v1/tickets/${x.id}/events`)).json()).events;
          const e = evs.find((v) => v.type === 'sla_warning' && Date.parse(v.at) - Date.parse(v.body.due_at) > 5000);
          if (e) return { id: x.id, due: e.body.due_at };
        }
        return null;
      });
      assert.ok(late, 'a demo ticket with a warning recorded late');
      await agent.goto(BASE + `/#/t/${late.id}`);
      const li = agent.locator('#timeline li[data-type=sla_warning]').filter({ has: agent.locator('.fired-late') }).first();
      await li.waitFor();
      assert.match(await li.textContent(), /recorded late: /);
      const shown = await customer.evaluate(async () => {
        const list = (await (await fetch('/api/v1/tickets?limit=500')).json()).tickets;
        const types = [];
        for (const x of list) {
          const evs = (await (await fetch(`/api/v1/tickets/${x.id}/events`)).json()).events;
          types.push(...evs.map((v) => v.type));
        }
        return types;
      });
      assert.ok(shown.length > 0);
      assert.ok(!shown.includes('sla_warning') && !shown.includes('escalated'), 'no staff-side events for customers');
    });

    await step('a request signed in by the cookie but without the CSRF token is refused', async () => {
      const status = await customer.evaluate(async (t) => (await fetch(`/api/v1/tickets/${t}/events`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ type: 'comment', text: 'forged' }) })).status, id);
      assert.equal(status, 403);
    });

    await step('logging out and in as another customer shows none of the first one\'s data', async () => {
      await customer.click('#logout');
      await customer.waitForSelector('input[name=email]');
      await login(customer, 'ops@dongfang.demo');
      await customer.goto(BASE + '/#/portal');
      await customer.waitForSelector('main h1');
      assert.equal(await customer.locator(`#requests tr[data-id="${id}"]`).count(), 0);
      await customer.goto(BASE + `/#/t/${id}`);
      await customer.waitForSelector('main p');
      assert.equal(await customer.locator('main h1').count(), 0);
    });

    await step('a manager publishes a new commitment version', async () => {
      await manager.goto(BASE + '/#/admin/commitments');
      await manager.waitForSelector('#letter h1');
      await shot(manager, 'commitments');
      await manager.fill('input[name=version]', '2026.2');
      const tomorrow = new Date(Date.now() + 86400000).toISOString().slice(0, 16);
      await manager.fill('input[name=effective_from]', tomorrow);
      await manager.click('#publish');
      await manager.waitForSelector('#versions >> text=2026.2');
    });

    await step('and previews a deadline of 4 working hours on the office calendar', async () => {
      await manager.goto(BASE + '/#/admin/calendars');
      await manager.waitForSelector('#calendar-editor input[name=name]');
      await manager.selectOption('select[name=calendar]', 'office');
      await manager.waitForSelector('#preview');
      await manager.fill('input[name=hours]', '4');
      await manager.click('#preview');
      await manager.waitForFunction(() => /Deadline: .+Asia\/Shanghai/.test(document.querySelector('#deadline-preview').textContent));
      await shot(manager, 'calendars');
    });

    await step('the other administration pages render', async () => {
      for (const [hash, sel, name] of [['#/admin/orgs', '#orgs', 'orgs'], ['#/admin/people', '#users', 'people'],
        ['#/admin/oncall', '[data-rota] table', 'oncall'], ['#/admin/endpoints', '#endpoints', 'endpoints']]) {
        await manager.goto(BASE + '/' + hash);
        await manager.waitForSelector(sel);
        await shot(manager, name);
      }
    });

    await step('the language switch turns every visible string into Chinese', async () => {
      await manager.goto(BASE + '/#/board');
      await manager.waitForSelector('#board tbody tr[data-id]');
      await manager.click('#lang');
      await manager.waitForSelector('html[lang=zh-CN] #board');
      for (const [hash, sel] of [['#/board', '#board tbody tr'], ['#/t/1', '#clocks'], ['#/admin/commitments', '#versions'],
        ['#/admin/calendars', '#calendar-editor input'], ['#/admin/oncall', '[data-rota]'], ['#/admin/endpoints', '#endpoints'],
        ['#/admin/people', '#users'], ['#/admin/orgs', '#orgs']]) {
        await manager.goto(BASE + '/' + hash);
        await manager.waitForSelector(sel);
        await manager.waitForTimeout(200);
        assert.deepEqual(await englishLeft(manager), [], `English left on ${hash}`);
      }
      await manager.goto(BASE + '/#/board');
      await manager.waitForSelector('#board tbody tr');
      assert.equal(await manager.locator('nav a[href="#/board"]').textContent(), '看板');
      await shot(manager, 'board-zh');
      await manager.click('#lang');
      await manager.waitForSelector('html[lang=en]');
      assert.equal(await manager.locator('nav a[href="#/board"]').textContent(), 'Board');
    });

    await step('the board is usable on a phone', async () => {
      await agent.setViewportSize({ width: 390, height: 844 });
      await agent.goto(BASE + '/#/board');
      await agent.waitForSelector('#board tbody tr[data-id]');
      const overflow = await agent.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `the page is ${overflow}px wider than the phone`);
      await shot(agent, 'board-phone');
    });

    await step('no script errors on any page', async () => {
      for (const p of [agent, customer, manager]) assert.deepEqual(p.errors, []);
    });
  } finally {
    await browser.close();
  }
  console.log(`${passed()} browser checks passed`);
})().catch(() => process.exit(1));
