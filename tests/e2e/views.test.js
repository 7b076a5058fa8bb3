// SPDX-License-Identifier: MIT
// Saved views, sorted columns and bulk changes on the ticket list in
// headless chromium: a manager in English on a desktop filters the list,
// sorts it by title (descending: the server's order, over every page),
// keeps only some columns, saves it as a view shared with a team, opens it
// again from the saved views; selects two tickets and assigns them both in
// one go (each ticket gets its own assigned event), and a move the workflow
// refuses for one ticket is reported while the other is moved. An agent of
// that team in Chinese on a 390 px phone opens the shared view and bulk-
// assigns a ticket to themselves. Screenshots: views-*.png.
// env: BASE_URL (a keepword serve --demo), SHOTS (screenshot dir), CHROMIUM.
'use strict';
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');
const { step, passed, session, shot, overflow } = require('./lib');

const BASE = process.env.BASE_URL;

const ids = (page) => page.$$eval('#tickets tbody tr[data-id]', (rs) => rs.map((r) => Number(r.dataset.id)));
const apiGet = (page, path) => page.evaluate(async (p) => (await fetch('/api/v1' + p)).json(), path);

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const en = await session(browser, BASE, 'manager@keepword.demo', { width: 1366, height: 900 }, 'en-GB', 'en');
    const teams = (await apiGet(en, '/teams')).teams;
    const team = teams[0];
    const name = 'Open by title ' + Math.random().toString(36).slice(2, 6);

    await step('the list sorted by title, descending, by the server', async () => {
      await en.goto(BASE + '/#/tickets?view=all');
      await en.waitForSelector('#tickets tbody tr[data-id]');
      await en.click('button[data-sort=title]');
      await en.waitForSelector('th[aria-sort=ascending] button[data-sort=title]');
      await en.click('button[data-sort=title]');
      await en.waitForSelector('th[aria-sort=descending] button[data-sort=title]');
      await en.waitForSelector('#tickets tbody tr[data-id]');
      const shown = await ids(en);
      const all = (await apiGet(en, '/tickets?limit=500&sort=-title')).tickets.map((x) => x.id);
      assert.deepEqual(shown, all.slice(0, shown.length), 'the first page is the server\'s order');
    });

    await step('some columns only', async () => {
      await en.click('details.columns summary');
      await en.uncheck('details.columns input[value=org]');
      await en.waitForFunction(() => location.hash.includes('cols='));
      await en.waitForSelector('details.columns');
      await en.click('details.columns summary');
      await en.uncheck('details.columns input[value=updated]');
      await en.waitForFunction(() => !location.hash.includes('updated'));
      await en.waitForSelector('#tickets tbody tr[data-id]');
      assert.equal(await en.locator('button[data-sort=org]').count(), 0);
      assert.equal(await en.locator('button[data-sort=updated]').count(), 0);
      assert.equal(await en.locator('button[data-sort=title]').count(), 1);
    });

    await step('saved as a view shared with a team, and opened again', async () => {
      await en.click('#save-view-open');
      await en.fill('#view-name', name);
      await en.selectOption('#view-team', String(team.id));
      await en.click('#save-view button[type=submit]');
      await en.waitForFunction(() => location.hash.includes('saved='));
      await en.waitForSelector('#update-view');
      assert.equal(await en.textContent('h1'), name);
      const views = (await apiGet(en, '/views')).views;
      const v = views.find((x) => x.name === name);
      assert.ok(v, 'the view is stored');
      assert.equal(v.team_id, team.id);
      assert.equal(v.sort, '-title');
      assert.deepEqual(v.filters, { view: 'all' });
      assert.ok(!v.columns.includes('org') && !v.columns.includes('updated') && v.columns.includes('title'));
      await en.goto(BASE + '/#/tickets');
      await en.waitForSelector('#saved-view');
      await en.selectOption('#saved-view', String(v.id));
      await en.waitForSelector('th[aria-sort=descending] button[data-sort=title]');
      assert.equal(await en.textContent('h1'), name);
      assert.equal(await en.locator('button[data-sort=org]').count(), 0);
      await shot(en, 'views-saved-en');
    });

    let a, b;
    await step('two tickets assigned in one go, each with its own event', async () => {
      await en.goto(BASE + '/#/tickets?view=unassigned');
      await en.waitForSelector('#tickets tbody tr[data-id]');
      const open = await ids(en);
      assert.ok(open.length >= 2, 'the demo has unassigned tickets');
      [a, b] = open;
      await en.check(`#tickets tr[data-id="${a}"] input.pick`);
      await en.check(`#tickets tr[data-id="${b}"] input.pick`);
      assert.equal(await en.textContent('#bulk-count'), '2 selected');
      await en.selectOption('#bulk-assignee', { label: '李娜' });
      await en.click('#bulk-apply');
      await en.waitForSelector('#bulk-result p');
      assert.equal(await en.textContent('#bulk-result'), 'Changed 2 tickets.');
      const me = (await apiGet(en, '/users?limit=500')).users.find((u) => u.name === '李娜');
      for (const id of [a, b]) {
        assert.equal((await apiGet(en, `/tickets/${id}`)).assignee_id, me.id);
        const evs = (await apiGet(en, `/tickets/${id}/events`)).events.filter((e) => e.type === 'assigned');
        assert.equal(evs[evs.length - 1].body.assignee_id, me.id);
      }
      assert.equal(await en.textContent(`#tickets tr[data-id="${a}"]`).then((s) => s.includes('李娜')), true);
      await shot(en, 'views-bulk-en');
    });

    await step('a refused ticket is named, the other is moved', async () => {
      const closed = (await apiGet(en, '/tickets?state=archived&limit=1')).tickets[0];
      await en.goto(BASE + '/#/tickets?view=all&sort=id&dir=desc');
      await en.waitForSelector('#tickets tbody tr[data-id]');
      let shown = await ids(en);
      while (!shown.includes(closed.id) && await en.isVisible('#more')) {
        await en.click('#more');
        await en.waitForFunction((n) => document.querySelectorAll('#tickets tbody tr[data-id]').length > n, shown.length);
        shown = await ids(en);
      }
      await en.check(`#tickets tr[data-id="${closed.id}"] input.pick`);
      await en.check(`#tickets tr[data-id="${a}"] input.pick`);
      await en.selectOption('#bulk-state', 'handling');
      await en.click('#bulk-apply');
      await en.waitForSelector('#bulk-result li');
      assert.match(await en.textContent('#bulk-result li'), new RegExp(`^#${closed.id} not changed: a ticket in “.+” cannot move to “.+”$`));
      assert.equal(await en.textContent('#bulk-result p'), 'Changed 1 tickets.');
      assert.equal((await apiGet(en, `/tickets/${a}`)).state, 'handling');
      assert.equal((await apiGet(en, `/tickets/${closed.id}`)).state, 'archived');
    });

    await step('nothing chosen to change says so', async () => {
      await en.check(`#tickets tr[data-id="${a}"] input.pick`);
      await en.click('#bulk-apply');
      await en.waitForSelector('#bulk-result p.problem');
      assert.equal(await en.textContent('#bulk-result p.problem'), 'Choose what to change first.');
    });

    await step('an agent of the team opens the shared view on a phone, in Chinese', async () => {
      const lead = (await apiGet(en, '/users?limit=500')).users.find((u) => u.role === 'agent' && u.team_id === team.id);
      const zh = await session(browser, BASE, lead.email, { width: 390, height: 844 }, 'zh-CN', 'zh');
      await zh.goto(BASE + '/#/tickets');
      await zh.waitForSelector('#saved-view');
      const v = (await apiGet(zh, '/views')).views.find((x) => x.name === name);
      assert.ok(v && !v.editable, 'shared with them, not theirs to change');
      await zh.selectOption('#saved-view', String(v.id));
      // a phone shows each ticket as a card: the headers are there, not shown
      await zh.waitForSelector('th[aria-sort=descending] button[data-sort=title]', { state: 'attached' });
      assert.equal(await zh.locator('#update-view').count(), 0);
      assert.equal(await zh.textContent('#bulk-count'), '已选 0 个');
      const first = (await ids(zh))[0];
      await zh.check(`#tickets tr[data-id="${first}"] input.pick`);
      await zh.selectOption('#bulk-level', { index: 1 });
      await zh.fill('input[name=bulk_reason]', '批量调整');
      await zh.click('#bulk-apply');
      await zh.waitForSelector('#bulk-result p');
      assert.match(await zh.textContent('#bulk-result'), /已修改 [01] 个工单。/);
      assert.ok(await overflow(zh) <= 0, 'the list fits the phone');
      await shot(zh, 'views-zh-phone');
      // a refusal is said in Chinese too (its stable code, not the server's English)
      const closed = (await apiGet(zh, '/tickets?state=archived&limit=1')).tickets[0];
      await zh.goto(BASE + `/#/tickets?view=all&q=${encodeURIComponent(closed.title)}`);
      await zh.waitForSelector(`#tickets tr[data-id="${closed.id}"]`);
      await zh.check(`#tickets tr[data-id="${closed.id}"] input.pick`);
      await zh.selectOption('#bulk-state', 'handling');
      await zh.click('#bulk-apply');
      await zh.waitForSelector('#bulk-result li');
      assert.match(await zh.textContent('#bulk-result li'), new RegExp(`^#${closed.id} 未修改：处于“.+”的工单不能转为“.+”$`));
      await shot(zh, 'views-zh-refused');
      assert.deepEqual(zh.errors, []);
    });

    assert.deepEqual(en.errors, []);
    console.log(`${passed()} passed`);
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e.message); process.exit(1); });
