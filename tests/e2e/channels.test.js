// SPDX-License-Identifier: MIT
// The channel pages in headless chromium: a manager in English adds a
// mailbox (a URL the server refuses is marked on its field), tests its
// connection (a port nobody listens on: "Cannot connect"), edits and
// deactivates it; creates an alert source with a mapping rule in the
// table, sees the key once, sends a test event with it and finds the
// ticket with channel Monitoring; a rule the server refuses is named on
// the page; in Chinese on a 390 px phone both pages fit.
// Screenshots: channels-*.png.
// env: BASE_URL (a keepword serve --demo --allow-destination 127.0.0.1),
// SHOTS (screenshot dir), CHROMIUM, DEAD_PORT (a loopback port nobody
// listens on).
'use strict';
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');
const { step, passed, session, shot, overflow } = require('./lib');

const BASE = process.env.BASE_URL;
const DEAD = process.env.DEAD_PORT;


(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const en = await session(browser, BASE, 'manager@keepword.demo', { width: 1366, height: 900 }, 'en-GB', 'en');

    await step('a manager adds a mailbox; a URL the server refuses is marked on its field', async () => {
      await en.goto(BASE + '/#/admin/mailboxes');
      await en.waitForSelector('#mailboxes');
      const f = en.locator('.card form').last();
      await f.locator('input[name=name]').fill('support-e2e');
      await f.locator('input[name=url]').fill('http://127.0.0.1:' + DEAD);
      await f.locator('input[name=username]').fill('desk');
      await f.locator('input[name=password]').fill('secret');
      await f.locator('input[name=reply_from]').fill('support@desk.example.cn');
      await f.locator('#create-mailbox').click();
      await en.waitForSelector('input[name=url][aria-invalid=true] + .field-error');
      assert.match(await en.textContent('.field-error'), /imaps:\/\/host/);
      await f.locator('input[name=url]').fill('imap://127.0.0.1:' + DEAD);
      await f.locator('#create-mailbox').click();
      await en.waitForSelector('#mailboxes tr[data-id] >> text=support-e2e');
    });

    await step('test connection says what happened', async () => {
      const row = en.locator('#mailboxes tr[data-id]', { hasText: 'support-e2e' });
      await row.locator('.test-mailbox').click();
      await row.locator('.outcome.bad').waitFor({ timeout: 30000 });
      assert.match(await row.locator('.outcome').textContent(), /^Cannot connect: /);
      await shot(en, 'channels-mailboxes-en');
    });

    await step('the mailbox is edited in place (the password kept) and deactivated', async () => {
      let row = en.locator('#mailboxes tr[data-id]', { hasText: 'support-e2e' });
      await row.locator('.edit-mailbox').click();
      const f = en.locator('#mailboxes tr.editing form');
      assert.equal(await f.locator('input[name=password]').inputValue(), '');
      await f.locator('input[name=name]').fill('support-e2e-2');
      await f.locator('.save-mailbox').click();
      await en.waitForSelector('#mailboxes tr[data-id] >> text=support-e2e-2');
      row = en.locator('#mailboxes tr[data-id]', { hasText: 'support-e2e-2' });
      await row.locator('.stop-mailbox').click();
      await row.locator('.stop-mailbox').click();
      await en.waitForSelector('#mailboxes tr.muted >> text=support-e2e-2');
      assert.equal(await en.locator('#mailboxes tr.muted .test-mailbox').count(), 0);
    });

    let ticket;
    await step('an alert source with a rule; the key shown once; a test event opens a ticket', async () => {
      await en.goto(BASE + '/#/admin/alerts');
      await en.waitForSelector('#sources');
      const f = en.locator('.card form').last();
      await f.locator('input[name=name]').fill('zabbix-e2e');
      await f.locator('select[name=kind]').selectOption('events');
      await f.locator('.add-rule').click();
      await f.locator('tr.rule input[name=match]').fill('severity=critical, team=dba');
      await f.locator('tr.rule select[name=level]').selectOption({ index: 1 });
      await f.locator('#create-source').click();
      await en.waitForSelector('#source-key pre.key');
      assert.match(await en.textContent('#source-key pre.key'), /^kw_/);
      assert.ok((await en.textContent('#source-key pre.example')).includes('/api/v1/intake/events'));
      await en.click('.send-test-event');
      await en.waitForSelector('#source-key .outcome.ok a');
      ticket = (await en.textContent('#source-key .outcome.ok a')).replace('#', '');
      const row = en.locator('#sources tr[data-id]', { hasText: 'zabbix-e2e' });
      assert.match(await row.textContent(), /severity=critical, team=dba →/);
      await shot(en, 'channels-alerts-en');
      await en.reload();
      await en.waitForSelector('#sources');
      assert.equal(await en.locator('#source-key pre.key').count(), 0, 'the key is not shown again');
    });

    await step('a new key for the source (asked twice), shown once, works, and is audited', async () => {
      const row = en.locator('#sources tr[data-id]', { hasText: 'zabbix-e2e' });
      const id = await row.getAttribute('data-id');
      await row.locator('.rekey-source').click();
      await row.locator('.rekey-source').click();
      await en.waitForSelector('#source-key pre.key');
      const key = await en.textContent('#source-key pre.key');
      assert.match(key, /^kw_/);
      const post = (k) => en.evaluate(async ([k]) => (await fetch('/api/v1/intake/events', { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ routing_key: k, event_action: 'trigger', dedup_key: 'rekey-e2e', payload: { summary: 'rekey', source: 'e2e', severity: 'info' } }) })).status, [k]);
      assert.equal(await post(key), 202, 'the new key works');
      const audit = await en.evaluate(async ([id]) => (await (await fetch(`/api/v1/audit?kind=intake_source&limit=500`)).json()).changes
        .filter((c) => c.object === Number(id) && c.action === 'rekey').length, [id]);
      assert.equal(audit, 1, 'the new key is in the audit trail');
    });

    await step('the ticket says it came from monitoring', async () => {
      await en.goto(BASE + `/#/t/${ticket}`);
      await en.waitForSelector('#channel');
      assert.equal(await en.textContent('#channel'), 'Monitoring');
    });

    await step('a rule the server refuses is named; the rules are saved as a table', async () => {
      await en.goto(BASE + '/#/admin/alerts');
      await en.waitForSelector('#sources');
      const row = en.locator('#sources tr[data-id]', { hasText: 'zabbix-e2e' });
      await row.locator('.edit-source').click();
      const f = en.locator('#sources tr.editing form');
      assert.equal(await f.locator('tr.rule').count(), 1);
      await f.locator('.add-rule').click();
      await f.locator('tr.rule').nth(1).locator('input[name=match]').fill('region=shanghai');
      await f.locator('.save-source').click();
      await en.waitForSelector('#sources tr.editing .field-error');
      assert.match(await en.textContent('#sources tr.editing .field-error'), /^rule 2: /);
      await f.locator('tr.rule').nth(1).locator('select[name=category]').selectOption({ index: 1 });
      await f.locator('.save-source').click();
      await en.waitForSelector('#sources tr[data-id]:not(.editing) >> text=region=shanghai');
      // the two refusals above are the 400s asked for; nothing else
      assert.deepEqual(en.errors.filter((e) => !/status of 400/.test(e)), []);
    });

    await step('both pages in Chinese fit a 390 px phone', async () => {
      const zh = await session(browser, BASE, 'manager@keepword.demo', { width: 390, height: 844 }, 'zh-CN', 'zh');
      for (const [hash, sel, h1, name] of [['#/admin/mailboxes', '#mailboxes', '邮箱', 'mailboxes'], ['#/admin/alerts', '#sources', '告警来源', 'alerts']]) {
        await zh.goto(BASE + '/' + hash);
        await zh.waitForSelector(sel);
        assert.equal(await zh.textContent('main h1'), h1);
        assert.ok(await overflow(zh) <= 0, `${hash} fits the phone`);
        await shot(zh, `channels-${name}-zh-phone`);
      }
      assert.deepEqual(zh.errors, []);
    });
    console.log(`${passed()} passed`);
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e.message); process.exit(1); });
