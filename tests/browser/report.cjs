// Opens preflight's HTML report in headless Chromium (playwright-core driving the system's
// chromium) and prints, as JSON: console errors, requests that were not the page itself,
// each checklist item's status, the findings shown by each filter, and takes a screenshot.
// Usage: node report.cjs REPORT.html SCREENSHOT.png   (tests/report.rs runs it)
const { chromium } = require("playwright-core");
const path = require("path");

(async () => {
  const [report, shot] = process.argv.slice(2);
  const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
  const browser = await chromium.launch({
    executablePath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
  const errors = [];
  const requests = [];
  const url = "file://" + path.resolve(report);
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => { if (r.url() !== url) requests.push(r.url()); });
  await page.goto(url, { waitUntil: "load" });
  if (shot) await page.screenshot({ path: shot, fullPage: false });
  const items = await page.$$eval("[data-item]", (els) =>
    Object.fromEntries(els.map((e) => [e.dataset.item, e.dataset.status])));
  const visible = () => page.$$eval(".finding", (els) => els.filter((e) => !e.hidden).length);
  const filters = { all: await visible() };
  await page.selectOption("#f-level", "error");
  filters.level_error = await visible();
  await page.selectOption("#f-level", "");
  const rules = await page.$$eval("#f-rule option", (os) => os.map((o) => o.value).filter(Boolean));
  for (const r of rules) {
    await page.selectOption("#f-rule", r);
    filters["rule_" + r] = await visible();
  }
  await page.selectOption("#f-rule", "");
  await page.fill("#f-path", "settings");
  filters.path_settings = await visible();
  filters.status_text = await page.textContent("#shown");
  await page.fill("#f-path", "");
  const dark = await browser.newPage({ colorScheme: "dark" });
  await dark.goto(url, { waitUntil: "load" });
  const darkBg = await dark.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await browser.close();
  console.log(JSON.stringify({ errors, requests, items, filters, darkBg }));
})().catch((e) => { console.error(e); process.exit(1); });
