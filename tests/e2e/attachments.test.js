// SPDX-License-Identifier: MIT
// Attachments and people in the browser, in Chinese and in English: a
// customer sends a request with a screenshot, the image is previewed and
// downloads unchanged (as an attachment, nosniff), a second file arrives by
// drag and drop, another organisation's customer is refused both ticket and
// file; an admin deactivates an agent whose board is open, and that agent's
// page falls back to the login at once, without them doing anything.
// env: BASE_URL (a fresh keepword serve --demo), SHOTS, CHROMIUM.
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const zlib = require('node:zlib');
const { chromium } = require('playwright-core');
const { step, passed, shot, englishLeft } = require('./lib');

const BASE = process.env.BASE_URL;
const PASSWORD = 'keepword-demo';

// A real PNG (a 48x32 gradient), made here.
function png() {
  const w = 48, hgt = 32;
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => { let c = 0xffffffff; for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(hgt, 4); ihdr[8] = 8; ihdr[9] = 2;
  const rows = [];
  for (let y = 0; y < hgt; y++) {
    rows.push(0);
    for (let x = 0; x < w; x++) rows.push(x * 5, y * 8, 180);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.from(rows))), chunk('IEND', Buffer.alloc(0))]);
}

async function session(browser, email, lang, password) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true,
    locale: lang === 'zh' ? 'zh-CN' : 'en-GB', timezoneId: 'Asia/Shanghai' });
  const page = await ctx.newPage();
  page.setDefaultTimeout(20000);
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  await page.goto(BASE + '/#/login');
  await page.evaluate((l) => localStorage.setItem('kw.lang', l), lang);
  await page.goto(BASE + '/#/login');
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', password || PASSWORD);
  await page.click('form button[type=submit]');
  await page.waitForSelector('#logout');
  return page;
}


(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const image = png();
  const tmp = fs.mkdtempSync('/tmp/kw-e2e-');
  const people = { zh: 'zhang.wei@keepword.demo', en: 'tom@keepword.demo' };
  try {
    for (const lang of ['zh', 'en']) {
      const name = lang === 'zh' ? '故障截图.png' : 'error screen.png';
      const file = `${tmp}/${name}`;
      fs.writeFileSync(file, image);
      const customer = await session(browser, 'it@huaxin.demo', lang);
      const other = await session(browser, 'ops@dongfang.demo', lang);
      let id, url;

      await step(`${lang}: a customer sends a request with a screenshot`, async () => {
        await customer.goto(BASE + '/#/portal/new');
        await customer.fill('input[name=title]', lang === 'zh' ? '登录页报错截图' : 'Login page shows an error');
        await customer.fill('textarea[name=description]', lang === 'zh' ? '见附件截图。' : 'See the screenshot.');
        await customer.setInputFiles('#request-files input[type=file]', file);
        await customer.waitForSelector(`ul.picked li:has-text("${name}")`);
        await customer.click('#submit-request');
        await customer.waitForURL(/#\/t\/\d+$/);
        id = Number(customer.url().match(/#\/t\/(\d+)$/)[1]);
        await customer.waitForSelector('#attachments li[data-attachment] img');
        url = await customer.getAttribute('#attachments li[data-attachment] a.att-name', 'href');
        assert.match(url, /^\/api\/v1\/attachments\/\d+$/);
        assert.equal((await customer.textContent('#attachments .att-name')).trim(), name);
      });

      await step(`${lang}: the image is previewed`, async () => {
        await customer.waitForFunction(() => {
          const img = document.querySelector('#attachments li[data-attachment] img');
          return img && img.complete && img.naturalWidth === 48 && img.naturalHeight === 32;
        });
        // the file belongs to the description, shown in the timeline too
        await customer.waitForSelector(`#timeline li[data-type=attachment] a:has-text("${name}")`);
        if (lang === 'zh') assert.deepEqual(await englishLeft(customer), []);
        await shot(customer, `attachment-${lang}`);
      });

      await step(`${lang}: it downloads unchanged, as an attachment with its name, nosniff`, async () => {
        const [download] = await Promise.all([customer.waitForEvent('download'), customer.click('#attachments a.att-name')]);
        assert.equal(download.suggestedFilename(), name);
        const saved = `${tmp}/got-${lang}.png`;
        await download.saveAs(saved);
        assert.ok(fs.readFileSync(saved).equals(image), 'the bytes differ');
        const r = await customer.request.get(BASE + url);
        assert.equal(r.status(), 200);
        assert.equal(r.headers()['content-type'], 'image/png');
        assert.equal(r.headers()['x-content-type-options'], 'nosniff');
        assert.match(r.headers()['content-disposition'], /^attachment; filename="[^"]*"; filename\*=UTF-8''/);
      });

      await step(`${lang}: a second file arrives by drag and drop`, async () => {
        await customer.evaluate(() => {
          const dt = new DataTransfer();
          dt.items.add(new File(['printer log\nE-502 at 09:14\n'], 'printer.log', { type: 'text/plain' }));
          const zone = document.getElementById('drop-files');
          zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
          zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
        });
        await customer.waitForSelector('#attachments li[data-attachment] a.att-name:has-text("printer.log")');
        assert.equal(await customer.locator('#attachments li[data-attachment]').count(), 2);
      });

      await step(`${lang}: another organisation's customer gets neither the ticket nor the file`, async () => {
        await other.goto(BASE + `/#/t/${id}`);
        await other.waitForFunction(() => !document.querySelector('#main .muted') || !/…|\.\.\./.test(document.querySelector('#main').textContent));
        assert.equal(await other.locator('#attachments').count(), 0);
        const r = await other.request.get(BASE + url);
        assert.equal(r.status(), 404);
        const list = await other.request.get(BASE + `/api/v1/tickets/${id}/attachments`);
        assert.equal(list.status(), 404);
      });

      await step(`${lang}: a deactivated agent loses access at once`, async () => {
        const email = people[lang];
        const agent = await session(browser, email, lang);
        await agent.goto(BASE + '/#/board');
        await agent.waitForSelector('#board tbody tr[data-id]');
        await agent.waitForTimeout(500); // the live stream is open
        const admin = await session(browser, 'admin@localhost', lang, 'correct-horse');
        await admin.goto(BASE + '/#/admin/people');
        const row = admin.locator('#users tr[data-user]', { hasText: email });
        await row.locator('.edit-user').click();
        await admin.click('#user-edit .deactivate');
        await admin.click('#user-edit .deactivate'); // once more: confirmed
        await admin.waitForSelector(`#users tr.inactive:has-text("${email}")`);
        const t0 = Date.now();
        // without touching the agent's page: it shows the login by itself
        await agent.waitForSelector('input[name=password]', { timeout: 8000 });
        console.log(`  the agent's page went to the login ${Date.now() - t0} ms after the deactivation`);
        await agent.fill('input[name=email]', email);
        await agent.fill('input[name=password]', PASSWORD);
        await agent.click('form button[type=submit]');
        await agent.waitForSelector('#login-error');
        await shot(admin, `people-deactivated-${lang}`);
        // and back: an admin activates them again, and they log in
        await admin.locator('#users tr[data-user]', { hasText: email }).locator('.edit-user').click();
        await admin.click('#user-edit .activate');
        await admin.waitForSelector(`#users tr[data-user]:not(.inactive):has-text("${email}")`);
        await agent.click('form button[type=submit]');
        await agent.waitForSelector('#logout');
        assert.deepEqual(agent.errors, []);
        assert.deepEqual(admin.errors, []);
        await agent.context().close();
        await admin.context().close();
      });

      await step(`${lang}: no script errors`, async () => {
        assert.deepEqual(customer.errors, []);
        assert.deepEqual(other.errors, []);
      });
      await customer.context().close();
      await other.context().close();
    }
  } finally {
    await browser.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`${passed()} browser checks passed`);
})().catch(() => process.exit(1));
