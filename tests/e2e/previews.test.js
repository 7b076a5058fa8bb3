// SPDX-License-Identifier: MIT
// Look before you save, in a browser at phone width, in Chinese and English:
// a manager imports a Chinese holiday feed into a calendar (chooses days off,
// make-up days or both, sees every date with its event and marker, imports,
// reads a sentence), and changes the on-call rota (the editor opens on the
// rota in force, the next 14 days are previewed, saving confirms and says so;
// errors stand next to the schedule).
// env: BASE_URL (a keepword serve --demo), SHOTS (screenshot dir), CHROMIUM.
'use strict';
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');
const { shot, overflow } = require('./lib');

const BASE = process.env.BASE_URL;
let passed = 0;

async function step(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    console.log(`not ok - ${name}\n  ${String(e.stack || e).split('\n').slice(0, 6).join('\n  ')}`);
    throw Object.assign(e, { stepped: true });
  }
}

const ev = (uid, from, to, summary) =>
  `BEGIN:VEVENT\r\nUID:${uid}@e2e\r\nDTSTART;VALUE=DATE:${from}\r\nDTEND;VALUE=DATE:${to}\r\nSUMMARY:${summary}\r\nEND:VEVENT\r\n`;
// The shapes of real Chinese holiday feeds, and a name that merely ends in 休.
const FEED = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//e2e//e2e//EN\r\n' +
  ev(1, '20261001', '20261008', '国庆节 休') + ev(2, '20260927', '20260928', '国庆节调休 班') +
  ev(3, '20261010', '20261011', '国庆节调休 班') + ev(4, '20260101', '20260104', '元旦（休）') +
  ev(5, '20261009', '20261010', '国庆节调休') + 'END:VCALENDAR\r\n';

const TEXT = {
  en: {
    holidays: /^Importing adds 10 dates to (\S+): 10 days off\.$/,
    both: /^Importing adds 12 dates to (\S+): 10 days off and 2 make-up workdays\.$/,
    done: (c) => `Imported 12 dates into ${c}: 10 days off and 2 make-up workdays.`,
    workday: 'make-up workday', newRow: 'new', skipped: 'Left out: 3 events', noMarker: 'no marker 休',
    replaces: /^Saving replaces the current rota “[^”]+” of .+, level 1\.$/,
    saved: /^Rota “[^”]+” saved for .+, level 1\. It applies from now\.$/,
    badJson: 'This is not valid JSON', nobody: 'there is no user 99999', at: 'Layer 1 “days”, person 2: ',
  },
  zh: {
    holidays: /^导入将向日历 (\S+) 添加 10 个日期：10 个休息日。$/,
    both: /^导入将向日历 (\S+) 添加 12 个日期：10 个休息日，2 个调休上班日。$/,
    done: (c) => `已向日历 ${c} 导入 12 个日期：10 个休息日，2 个调休上班日。`,
    workday: '调休上班日', newRow: '新增', skipped: '未导入：3 个事件', noMarker: '没有标记 休',
    replaces: /^保存后将替换 .+ 第 1 级的现行排班“[^”]+”。$/,
    saved: /^排班“[^”]+”已保存（.+，第 1 级），即刻生效。$/,
    badJson: 'JSON 格式有误', nobody: 'there is no user 99999', at: '第 1 层“days”的第 2 个人: ',
  },
};

async function session(browser, lang) {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 },
    locale: lang === 'zh' ? 'zh-CN' : 'en-GB', timezoneId: 'Asia/Shanghai' });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  // Console errors count, except the browser's note on the 400 that the
  // test's deliberately bad rota gets.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource: .* status of 400/.test(m.text())) page.errors.push('console: ' + m.text());
  });
  page.on('dialog', (d) => { page.errors.push('dialog: ' + d.message()); d.dismiss(); });
  await page.goto(BASE + '/#/login');
  await page.fill('input[name=email]', 'manager@keepword.demo');
  await page.fill('input[name=password]', 'keepword-demo');
  await page.click('form button[type=submit]');
  await page.waitForSelector('#logout');
  return page;
}

// An API call from inside the page, with its session and CSRF token.
const call = (page, method, path, body) => page.evaluate(async ([m, p, b]) => {
  const me = await (await fetch('/api/v1/me')).json();
  const r = await fetch('/api/v1' + p, { method: m, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
    body: b === undefined ? undefined : JSON.stringify(b) });
  return { status: r.status, body: await r.json() };
}, [method, path, body]);

const texts = (page, sel) => page.$$eval(sel, (els) => els.map((e) => e.textContent.trim()));

async function icsFlow(page, lang) {
  const T = TEXT[lang], cal = `holidays-${lang}`;
  await step(`${lang}: a calendar to import into`, async () => {
    const r = await call(page, 'POST', '/calendars', { name: cal, tz: 'Asia/Shanghai',
      week: { mon: [['09:00', '18:00']], tue: [['09:00', '18:00']], wed: [['09:00', '18:00']], thu: [['09:00', '18:00']], fri: [['09:00', '18:00']] } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  });
  await step(`${lang}: the import preview of days off (休) lists each date with its event and marker`, async () => {
    await page.goto(BASE + '/#/admin/calendars');
    await page.waitForSelector('#calendar-editor input[name=name]');
    await page.selectOption('select[name=calendar]', cal);
    await page.waitForSelector('#ics-card input[name=ics]');
    await page.click('#ics-preview-btn');
    await page.waitForSelector('#ics-preview .problem'); // no file yet: says so
    await page.setInputFiles('#ics-card input[name=ics]', { name: 'cn-holidays.ics', mimeType: 'text/calendar', buffer: Buffer.from(FEED) });
    await page.selectOption('#ics-card select[name=as]', 'holidays');
    assert.equal(await page.inputValue('#ics-card input[name=holiday_marker]'), '休');
    assert.equal(await page.isVisible('#ics-card input[name=workday_marker]'), false);
    await page.click('#ics-preview-btn');
    await page.waitForSelector('#ics-dates');
    const m = (await page.textContent('#ics-summary')).trim().match(T.holidays);
    assert.ok(m && m[1] === cal, await page.textContent('#ics-summary'));
    const dates = await texts(page, '#ics-dates tbody tr td:first-child');
    assert.deepEqual(dates, ['2026-01-01', '2026-01-02', '2026-01-03', '2026-10-01', '2026-10-02', '2026-10-03',
      '2026-10-04', '2026-10-05', '2026-10-06', '2026-10-07'], '调休 and 班 days are not days off');
    const first = await texts(page, '#ics-dates tbody tr:first-child td');
    assert.deepEqual(first.slice(2), ['元旦（休）', '休', T.newRow]);
    await page.click('#ics-skipped summary');
    const left = await texts(page, '#ics-skipped li');
    assert.equal((await page.textContent('#ics-skipped summary')).trim(), T.skipped);
    assert.ok(left.some((x) => x.includes('国庆节调休 ') && x.includes(T.noMarker)), left.join(' | '));
    assert.ok(await overflow(page) <= 1, `the page is ${await overflow(page)}px wider than the phone`);
    await shot(page, `ics-preview-${lang}`);
  });
  await step(`${lang}: both kinds by marker, then the import says what it did in a sentence`, async () => {
    await page.selectOption('#ics-card select[name=as]', 'both');
    assert.equal(await page.$('#ics-dates'), null, 'a changed choice drops the old preview');
    await page.click('#ics-preview-btn');
    await page.waitForSelector('#ics-dates');
    assert.match((await page.textContent('#ics-summary')).trim(), T.both);
    const rows = await page.$$eval('#ics-dates tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    const w = rows.filter((r) => r[1] === T.workday + '09:00-18:00'); // the hours they get
    assert.deepEqual(w.map((r) => [r[0], r[2], r[3]]), [['2026-09-27', '国庆节调休 班', '班'], ['2026-10-10', '国庆节调休 班', '班']]);
    await page.click('#ics-import');
    await page.waitForSelector('#ics-card .ok');
    assert.equal((await page.textContent('#ics-card .ok')).trim(), T.done(cal));
    assert.equal(await page.inputValue('select[name=calendar]'), cal, 'the page stays on the calendar');
    const hol = await page.inputValue('textarea[name=holidays]');
    assert.ok(hol.includes('2026-10-07') && !hol.includes('2026-10-09'), hol);
    assert.ok((await page.inputValue('textarea[name=makeup]')).includes('2026-09-27 09:00-18:00'));
    await shot(page, `ics-imported-${lang}`);
  });
}

async function rotaFlow(page, lang) {
  const T = TEXT[lang];
  let saved;
  await step(`${lang}: the rota editor opens on the rota in force`, async () => {
    await page.goto(BASE + '/#/admin/oncall');
    await page.waitForSelector('#rota-editor textarea[name=schedule]');
    const stored = (await call(page, 'GET', '/oncall')).body.rotas;
    const shown = await page.inputValue('select[name=rota]');
    const r = stored.find((x) => String(x.id) === shown);
    assert.ok(r, `the editor shows rota ${shown}`);
    assert.deepEqual(JSON.parse(await page.inputValue('textarea[name=schedule]')), r.schedule);
    assert.equal(await page.inputValue('#rota-editor select[name=team]'), String(r.team_id));
    saved = r;
  });
  await step(`${lang}: a schedule error stands next to the schedule`, async () => {
    await page.fill('textarea[name=schedule]', '{"name": ');
    await page.click('#rota-check');
    await page.waitForSelector('textarea[name=schedule] + .field-error');
    assert.ok((await page.textContent('.field-error')).includes(T.badJson));
    const bad = JSON.parse(JSON.stringify(saved.schedule));
    bad.layers[0].people = [bad.layers[0].people[0], 99999];
    await page.fill('textarea[name=schedule]', JSON.stringify(bad, null, 2));
    await page.click('#rota-check');
    await page.waitForFunction((s) => { const e = document.querySelector('textarea[name=schedule] + .field-error'); return e && e.textContent.includes(s); }, T.nobody);
    const said = await page.textContent('.field-error');
    assert.ok(said.startsWith(T.at) && said.includes('/schedule/layers/0/people/1'), said);
    assert.equal(await page.getAttribute('textarea[name=schedule]', 'aria-invalid'), 'true');
    assert.equal(await page.$('#rota-preview'), null, 'no preview for a bad rota');
    assert.ok(await overflow(page) <= 1, `the page is ${await overflow(page)}px wider than the phone`);
    await shot(page, `rota-error-${lang}`);
  });
  let preview;
  await step(`${lang}: saving first shows the next 14 days as they will be, and asks`, async () => {
    const next = JSON.parse(JSON.stringify(saved.schedule));
    next.layers[0].people.reverse();
    await page.fill('textarea[name=schedule]', JSON.stringify(next, null, 2));
    await page.click('#rota-check');
    await page.waitForSelector('#rota-preview tbody tr');
    assert.equal(await page.$('.field-error'), null, 'the old error is gone');
    assert.match((await page.textContent('#rota-confirm p')).trim(), T.replaces);
    preview = await texts(page, '#rota-preview tbody tr td:nth-child(3)');
    assert.ok(preview.length >= 2, preview.join(','));
    const stored = (await call(page, 'GET', `/oncall/${saved.id}/who`)).body;
    assert.equal(stored.rota, saved.id, 'nothing is saved by the preview');
    assert.ok(await overflow(page) <= 1, `the page is ${await overflow(page)}px wider than the phone`);
    await shot(page, `rota-preview-${lang}`);
  });
  await step(`${lang}: confirming saves, says so, and the rota shows what the preview said`, async () => {
    await page.click('#rota-confirm-save');
    await page.waitForSelector('#rota-saved');
    assert.match((await page.textContent('#rota-saved')).trim(), T.saved);
    assert.equal(await page.inputValue('select[name=rota]'), String(saved.id), 'the editor stays on the rota');
    const now = (await call(page, 'GET', '/oncall')).body.rotas.find((x) => x.id === saved.id);
    assert.deepEqual(now.schedule.layers[0].people, [...saved.schedule.layers[0].people].reverse());
    const after = await texts(page, `[data-rota="${saved.id}"] tbody tr td:nth-child(3)`);
    assert.deepEqual(after, preview, 'the saved rota gives the previewed 14 days');
    await shot(page, `rota-saved-${lang}`);
  });
}

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    for (const lang of ['zh', 'en']) {
      const page = await session(browser, lang);
      await icsFlow(page, lang);
      await rotaFlow(page, lang);
      await step(`${lang}: no script or console errors`, async () => assert.deepEqual(page.errors, []));
    }
  } finally {
    await browser.close();
  }
  console.log(`${passed} browser checks passed`);
})().catch((e) => {
  if (!e.stepped) console.log(`not ok - ${String(e.stack || e)}`); // a failure outside the steps (the browser)
  process.exit(1);
});
