// SPDX-License-Identifier: MIT
// The commitment editor in headless chromium: a manager edits a target in
// the targets table, adds a level, edits the JSON view and comes back to
// the table with the edit kept, reads what publishing changes (the
// server's diff against the version in force) and publishes; a wrong
// duration is marked and stops the publication; in English on a desktop
// and in Chinese on a 390 px phone. A customer reads the letter of the
// commitment in force in the portal in both languages.
// Screenshots: commitment-editor-*.png, portal-letter-*.png.
// env: BASE_URL (a keepword serve --demo), SHOTS (screenshot dir), CHROMIUM.
'use strict';
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');
const { step, passed, shot, overflow } = require('./lib');

const BASE = process.env.BASE_URL;

async function session(browser, email, viewport, lang) {
  const ctx = await browser.newContext({ viewport, locale: lang === 'zh' ? 'zh-CN' : 'en-GB', timezoneId: 'Asia/Shanghai' });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 400/.test(m.text())) page.errors.push('console: ' + m.text()); });
  await page.goto(BASE + '/#/login');
  await page.evaluate((l) => localStorage.setItem('kw.lang', l), lang);
  await page.goto(BASE + '/#/login');
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', 'keepword-demo');
  await page.click('form button[type=submit]');
  await page.waitForSelector('#logout');
  return page;
}

const apiGet = (page, path) => page.evaluate(async (p) => (await fetch('/api/v1' + p)).json(), path);
const changes = (page) => page.$$eval('#changes li', (l) => l.map((x) => ({ kind: x.dataset.change, text: x.textContent })));
async function waitChanges(page, n) {
  await page.waitForFunction((k) => document.querySelectorAll('#changes li').length === k, n);
  return changes(page);
}

async function editAndPublish(browser, lang, viewport) {
  const zh = lang === 'zh';
  const page = await session(browser, 'manager@keepword.demo', viewport, lang);
  const version = `e2e-${lang}-${Date.now()}`;
  await step(`${lang} ${viewport.width}px: a target edited in the targets table, and what publishing changes`, async () => {
    await page.goto(BASE + '/#/admin/commitments');
    await page.waitForSelector('#ce-targets input[data-key="rule-0-response"]');
    // the demo's first rule: L1, response 15 min on 24x7
    assert.equal(await page.inputValue('#ce-targets input[data-key="rule-0-response"]'), '15m');
    await page.waitForSelector('#changes-none');
    await page.fill('#ce-targets input[data-key="rule-0-response"]', '10m');
    const c = await waitChanges(page, 1);
    assert.equal(c[0].kind, 'target_changed');
    assert.match(c[0].text, zh ? /L1.*15\s*分.*→.*10\s*分/ : /L1.*response.*15 min on 24x7 → 10 min on 24x7/);
    assert.equal(await overflow(page), 0, 'the page fits its width');
    await shot(page, `commitment-editor-diff-${lang}-${viewport.width}`);
  });
  await step(`${lang}: a wrong duration is marked, and named when publishing`, async () => {
    await page.fill('#ce-targets input[data-key="rule-1-resolution"]', 'soon');
    assert.equal(await page.getAttribute('#ce-targets input[data-key="rule-1-resolution"]', 'aria-invalid'), 'true');
    assert.match(await page.textContent('#err-rule-1-resolution'), /soon/);
    await page.waitForSelector('#diff .problem');
    await page.click('#publish');
    await page.waitForSelector('form .problem');
    assert.match(await page.textContent('form .problem'), /soon/);
    await page.fill('#ce-targets input[data-key="rule-1-resolution"]', '4h');
    assert.equal(await page.getAttribute('#ce-targets input[data-key="rule-1-resolution"]', 'aria-invalid'), 'false');
    await waitChanges(page, 1);
  });
  await step(`${lang}: a level added; the JSON view and the table edit one draft`, async () => {
    await page.click('#ce-add-level');
    const n = (await apiGet(page, `/commitments/${(await apiGet(page, '/commitments')).in_force}`)).levels.length;
    await page.fill(`#ce-levels input[data-key="level-${n}-en"]`, 'L5 note');
    await page.fill(`#ce-levels input[data-key="level-${n}-zh"]`, '五级');
    const c = await waitChanges(page, 2);
    assert.deepEqual(c.map((x) => x.kind), ['level_added', 'target_changed']);
    await page.click('#ce-tab-json');
    const doc = JSON.parse(await page.inputValue('textarea[name=document]'));
    assert.equal(doc.targets[0].response, '10m');
    assert.equal(doc.levels[n].label.en, 'L5 note');
    doc.targets[1].response = '20m';
    await page.fill('textarea[name=document]', JSON.stringify(doc, null, 2));
    await waitChanges(page, 3);
    await page.click('#ce-tab-table');
    assert.equal(await page.inputValue('#ce-targets input[data-key="rule-1-response"]'), '20m');
    assert.equal(await page.inputValue('#ce-targets input[data-key="rule-0-response"]'), '10m');
  });
  await step(`${lang}: published, the new version holds the table's edits`, async () => {
    await page.fill('input[name=version]', version);
    await waitChanges(page, 3);
    await shot(page, `commitment-editor-${lang}-${viewport.width}`);
    await page.click('#publish');
    await page.waitForSelector('#published.ok');
    const list = await apiGet(page, '/commitments');
    const mine = list.commitments.find((x) => x.version === version);
    assert.ok(mine, 'the version is published');
    const doc = await apiGet(page, `/commitments/${mine.id}`);
    assert.equal(doc.targets[0].response, '10m');
    assert.equal(doc.targets[1].response, '20m');
    assert.ok(doc.levels.some((l) => l.id === 'L5' || (l.label && l.label.en === 'L5 note')));
    assert.deepEqual(page.errors, []);
  });
  await page.context().close();
}

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ['--no-sandbox'] });
  try {
    await editAndPublish(browser, 'en', { width: 1366, height: 900 });
    await editAndPublish(browser, 'zh', { width: 390, height: 844 });
    for (const lang of ['zh', 'en']) {
      await step(`${lang}: a customer reads the commitment in force in the portal`, async () => {
        const page = await session(browser, 'it@huaxin.demo', { width: 390, height: 844 }, lang);
        await page.click('a[href="#/portal/letter"]');
        await page.waitForSelector('#letter h1');
        assert.match(await page.textContent('#letter-of'), lang === 'zh' ? /华信银行.*现行/ : /in force for 华信银行/);
        assert.match(await page.textContent('#letter'), lang === 'zh' ? /响应/ : /response/i);
        assert.equal(await overflow(page), 0);
        await shot(page, `portal-letter-${lang}`);
        assert.deepEqual(page.errors, []);
        await page.context().close();
      });
    }
  } finally {
    await browser.close();
  }
  console.log(`${passed()} passed`);
})().catch(() => process.exit(1));
