// The analyst's workflow in the Edge Investigation notebook, in a real JupyterLab: run all
// cells (the rules score their rows as the panel opens; the heuristics draw their chart), score
// a source IP from the listbox, score a quick IP (undo it, score it again), save, and see the
// upload error when no ML node is configured. Checks the files on disk after each step, the
// reputation badges beside addresses, and keeps screenshots in tests/artifacts/edge-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, startLab } from './lab.mjs';

const DATE = '20160708';
const ROWS = process.env.FLOW_EDGE_E2E_ROWS ?? '5000';
const target = process.env.CARGO_TARGET_DIR ?? join(repoRoot, 'target');

/** Parses RFC 4180 CSV text into rows of fields. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else if (c !== '\r') field += c;
  }
  if (field !== '' || row.length) rows.push([...row, field]);
  return rows;
}

/** The day's flows as objects keyed by column name. */
function readFlows(dayDir) {
  const [header, ...rows] = parseCsv(readFileSync(join(dayDir, 'flow_scores.csv'), 'utf8'));
  return rows.map((fields) => Object.fromEntries(header.map((name, i) => [name, fields[i]])));
}

function readFeedback(dayDir) {
  const lines = readFileSync(join(dayDir, 'flow_scores_fb.csv'), 'utf8').split('\n').filter(Boolean);
  const header = lines[0].split('\t');
  return lines.slice(1).map((line) => Object.fromEntries(line.split('\t').map((v, i) => [header[i], v])));
}

/** The option labels of a listbox (ipywidgets shows spaces as no-break spaces). */
const labelsOf = async (select) =>
  (await select.locator('option').allTextContents()).map((label) => label.replace(/\u00a0/g, ' '));

/** The address of a listbox label such as `10.0.0.5 (Mail server)`. */
const addressOf = (label) => label.split(' ')[0];

/** Whether one of the original notebook's three applied rules (set_rules) matches a row. */
const originalRuleMatches = (r) => {
  const [sport, dport, ipkt, ibyt] = [r.sport, r.dport, r.ipkt, r.ibyt].map(Number);
  return (dport <= 1024 && ibyt <= 54) || (dport <= 1024 && ipkt === 3 && ibyt === 152) || (sport === 0 && dport <= 1023);
};

test('an analyst scores, saves and sees the upload outcome in the Edge Investigation panel', { timeout: 1_200_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'flow-edge-oa-'));
  execFileSync(join(repoRoot, 'scripts', 'make-demo-tree'), [root, ROWS, DATE], {
    env: { ...process.env, FLOW_EDGE_CLI: join(target, 'release', 'flow-edge') },
  });
  const dayDir = join(root, 'data', 'flow', DATE);
  const generated = readFlows(dayDir);
  // No ML node: the upload reads a configuration file that does not exist.
  process.env.FLOW_EDGE_SPOT_CONF = join(root, 'no-spot.conf');
  const lab = await startLab({ rootDir: root });
  const page = lab.page;
  /** A screenshot with `target` at the top: by default the panel's top (the rules line). */
  const shot = async (name, target = page.locator('.flow-edge-rules').first()) => {
    await target.evaluate((node) => node.scrollIntoView({ block: 'start' }));
    await lab.screenshot(name);
  };
  try {
    await lab.openNotebook(`ipynb/flow/${DATE}/Edge_Investigation.ipynb`);
    const ms = await lab.runAllCells();
    console.log(`run all cells: ${ms} ms`);
    assert.deepEqual(await lab.errorOutputs(), []);
    // JupyterLab's "news" question would cover part of the screenshots.
    await page.locator('.jp-toast-button', { hasText: 'No' }).click({ timeout: 5_000 }).catch(() => {});

    const listboxes = page.locator('.jupyter-widgets.widget-select select');
    await listboxes.nth(3).waitFor({ timeout: 60_000 });
    assert.equal(await listboxes.count(), 4);
    for (const heading of ['Source IP', 'Dest IP', 'Src Port', 'Dst Port']) {
      await page.locator('.jupyter-widgets.widget-html', { hasText: heading }).first().waitFor();
    }
    const boxes = await listboxes.evaluateAll((nodes) => nodes.map((n) => n.getBoundingClientRect()));
    assert.ok(boxes.every((b) => Math.abs(b.height - boxes[0].height) < 1 && b.height > 100), JSON.stringify(boxes));
    assert.ok(boxes.every((b) => Math.abs(b.top - boxes[0].top) < 1), 'listboxes side by side');
    const firstOptions = await labelsOf(listboxes.nth(0));
    assert.equal(firstOptions[0], '- Select -');
    assert.ok(firstOptions.some((label) => label.includes('(')), `names beside IPs: ${firstOptions.slice(0, 5)}`);

    // The rules ran as the panel opened: their rows have severity 2, nothing was fed back, and
    // the line above the listboxes says so.
    let flows = readFlows(dayDir);
    const ruled = generated.filter((r) => r.sev === '0' && originalRuleMatches(r)).length;
    assert.ok(ruled > 0, 'the realistic day has rows the rules catch');
    flows.forEach((row, i) => {
      const old = generated[i];
      assert.equal(row.sev, old.sev === '0' && originalRuleMatches(old) ? '2' : old.sev, `row ${i + 2}`);
    });
    assert.ok(!existsSync(join(dayDir, 'flow_scores_fb.csv')), 'rule scores are not fed back');
    const rulesLine = await page.locator('.flow-edge-rules').first().textContent();
    assert.ok(rulesLine.startsWith(`rules: ${ruled} rows → 2; \`dport <= 1024 and ibyt <= 54\`: `), rulesLine);
    // The scored table (the rule rows) shows reputation badges, their fields on hover.
    const badge = page.locator('.flow-edge-rep').first();
    await badge.waitFor({ timeout: 20_000 });
    assert.match(await badge.getAttribute('title'), /^(src|dst)IP_rep: gti:\w+:-?\d/);
    // The rules cell shows its rules back; the heuristics cell draws the original's count.
    const rulesTable = page.locator('table.flow-edge', { hasText: 'rules, tried in order' }).first();
    assert.match(await rulesTable.textContent(), /sport == 0 and dport <= 1023 -> 2/);
    await shot('edge-0-rules-cell', rulesTable);
    const chart = page.locator('.flow-edge-heuristics').first();
    assert.equal(await chart.locator('svg title').textContent(), 'rows (connections) per source');
    assert.match(await chart.textContent(), /sources have more than 20 rows \(connections\)/);
    await shot('edge-6-heuristics', chart);
    await shot('edge-1-panel');

    const status = page.locator('.flow-edge-status');
    const scoreButton = page.locator('.jupyter-widgets button', { hasText: 'Score' });
    const rating = (label) => page.locator('.widget-radio-box label', { hasText: label }).locator('input');

    // 1. A source IP from the listbox, rating 1.
    const srcLabel = firstOptions[1];
    const srcIp = addressOf(srcLabel);
    await listboxes.nth(0).selectOption({ index: 1 });
    await page.locator('.jupyter-widgets', { hasText: 'Preview:' }).first().waitFor({ timeout: 20_000 });
    const previewText = await page.locator('.jupyter-widgets.widget-html', { hasText: 'Preview:' }).first().textContent();
    // The preview puts each address's context under it.
    assert.ok(
      (await page.locator('.jupyter-widgets.widget-html', { hasText: 'Preview:' }).locator('.flow-edge-endpoint').count()) > 0,
      'context beside the preview\'s addresses',
    );
    await rating('1').check();
    await shot('edge-2-source-selected');
    let clicked = Date.now();
    await scoreButton.click();
    await status.filter({ hasText: 'matching connections scored' }).waitFor({ timeout: 60_000 });
    console.log(`score click to status: ${Date.now() - clicked} ms`);
    const firstCount = Number((await status.textContent()).match(/(\d+) matching connections scored/)[1]);
    const expectedFirst = readFlows(join(root, 'data', 'flow', DATE)).filter((r) => r.srcIP === srcIp);
    assert.equal(firstCount, expectedFirst.length);
    assert.ok(previewText.includes(`would score ${firstCount} row`), previewText);
    flows = readFlows(dayDir);
    assert.ok(flows.filter((r) => r.srcIP === srcIp).every((r) => r.sev === '1'));
    let feedback = readFeedback(dayDir);
    assert.equal(feedback.length, firstCount);
    assert.ok(feedback.every((r) => r.sev === '1' && r.srcIP === srcIp));
    await shot('edge-3-scored-source');

    // 2. A quick IP (a destination from the listbox), rating 3.
    const beforeQuick = readFlows(dayDir);
    const dstOptions = await labelsOf(listboxes.nth(1));
    const quickIp = addressOf(dstOptions[dstOptions.length > 2 ? 2 : 1]);
    const quickBox = page.locator('.jupyter-widgets input[placeholder="Quick IP scoring"]');
    await quickBox.fill(quickIp);
    await rating('3').check();
    await page.locator('.jupyter-widgets.widget-html', { hasText: 'Preview:' }).first().waitFor({ timeout: 20_000 });
    clicked = Date.now();
    await scoreButton.click();
    // Done when the log of scorings has its second entry (or the status shows a refusal).
    await page.waitForFunction(
      () =>
        document.querySelectorAll('.jupyter-widgets.widget-html li').length >= 2 ||
        /nothing scored/.test(document.querySelector('.flow-edge-status')?.textContent ?? ''),
      null,
      { timeout: 60_000 },
    );
    console.log(`quick IP score click to status: ${Date.now() - clicked} ms`);
    const secondCount = Number((await status.textContent()).match(/(\d+) matching connections scored/)[1]);
    flows = readFlows(dayDir);
    const quickRows = flows.filter((r) => r.srcIP === quickIp || r.dstIP === quickIp);
    assert.equal(secondCount, quickRows.length);
    assert.ok(quickRows.every((r) => r.sev === '3'));
    feedback = readFeedback(dayDir);
    assert.equal(feedback.length, firstCount + secondCount);
    assert.ok(feedback.slice(firstCount).every((r) => r.sev === '3' && (r.srcIP === quickIp || r.dstIP === quickIp)));
    await shot('edge-4-scored-quick-ip');

    // Undo takes the quick IP scoring back from both files; scoring it again restores it.
    await page.locator('.jupyter-widgets button', { hasText: 'Undo' }).click();
    await status.filter({ hasText: `Last scoring undone: ${secondCount} rows` }).waitFor({ timeout: 60_000 });
    assert.equal(readFeedback(dayDir).length, firstCount);
    flows = readFlows(dayDir);
    // Every row is back to its severity before the quick IP scoring (1 for the scored source,
    // 2 for rule rows, 0 otherwise).
    flows.forEach((row, i) => assert.equal(row.sev, beforeQuick[i].sev, `row ${i + 2}`));
    assert.ok(await page.locator('.jupyter-widgets button', { hasText: 'Undo' }).isDisabled());
    await shot('edge-4b-undone');
    await quickBox.fill(quickIp);
    await scoreButton.click();
    await page.waitForFunction(
      () => document.querySelectorAll('.jupyter-widgets.widget-html li').length >= 3,
      null,
      { timeout: 60_000 },
    );
    assert.equal(readFeedback(dayDir).length, firstCount + secondCount);

    // 3. Save: sorted file, rebuilt lists without the scored values, the upload error shown.
    await page.locator('.jupyter-widgets button', { hasText: 'Save' }).click();
    await status.filter({ hasText: 'Suspicious connects successfully updated' }).waitFor({ timeout: 120_000 });
    const saved = await status.textContent();
    assert.match(saved, /Feedback not uploaded: .*no-spot\.conf/);
    flows = readFlows(dayDir);
    const firstScored = flows.findIndex((r) => r.sev !== '0');
    const unscored = flows.slice(0, firstScored);
    assert.ok(flows.slice(firstScored).every((r) => r.sev !== '0'), 'scored rows after unscored ones');
    for (let i = 1; i < unscored.length; i++) {
      assert.ok(Number(unscored[i - 1].lda_score) <= Number(unscored[i].lda_score), `sorted at row ${i}`);
    }
    const sevs = flows.slice(firstScored).map((r) => r.sev);
    assert.deepEqual(sevs, [...sevs].sort(), 'scored rows grouped by severity');
    assert.equal(readFeedback(dayDir).length, firstCount + secondCount, 'feedback file untouched by the failed upload');
    const srcAfter = (await labelsOf(listboxes.nth(0))).map(addressOf);
    const dstAfter = (await labelsOf(listboxes.nth(1))).map(addressOf);
    assert.ok(!srcAfter.includes(srcIp), 'scored source IP gone from the listbox');
    assert.ok(!srcAfter.includes(quickIp) && !dstAfter.includes(quickIp), 'quick IP gone from the listboxes');
    assert.ok(srcAfter.length > 1, 'fresh values listed');
    await shot('edge-5-saved');
  } catch (error) {
    await lab.screenshot('edge-failure').catch(() => {});
    console.log(lab.logs.join('').slice(-4000));
    throw error;
  } finally {
    await lab.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
