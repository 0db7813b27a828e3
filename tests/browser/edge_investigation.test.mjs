// The analyst's workflow in the Edge Investigation notebook, in each frontend an analyst may use:
// JupyterLab, Notebook 7 and the Voilà app (the panel without the code). Run the notebook (the
// rules score their rows as the panel opens; the heuristics draw their chart), score a
// source IP from the listbox (undo it, score it again), score a quick IP (undo it, score it
// again), save, and see the upload error when no ML node is configured. Checks the files on disk
// after each step, against what they held before it, the reputation badges beside addresses, and
// keeps screenshots in tests/artifacts/ (edge-*.png for JupyterLab, nb7-edge-*.png
// for Notebook 7, voila-edge-*.png for Voilà).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, startServer } from './lab.mjs';

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

/** The rows of flow_scores_fb.csv (tab-separated, one header line) as objects. */
function readFeedback(dayDir) {
  const lines = readFileSync(join(dayDir, 'flow_scores_fb.csv'), 'utf8').split('\n').filter(Boolean);
  if (lines.length === 0) return [];
  const header = lines[0].split('\t');
  return lines.slice(1).map((line) => Object.fromEntries(line.split('\t').map((v, i) => [header[i], v])));
}

/** The feedback rows, none when the day has no feedback file yet. */
const feedbackIfAny = (dayDir) => (existsSync(join(dayDir, 'flow_scores_fb.csv')) ? readFeedback(dayDir) : []);

/**
 * Checks that scoring changed the day's rows in place: the rows `matching` (judged on `before`)
 * now have severity `sev`, every other row and every other field is as it was.
 */
function assertScoredInPlace(flows, before, matching, sev) {
  assert.equal(flows.length, before.length, 'flow_scores.csv keeps its rows');
  const wrong = [];
  for (let i = 0; i < before.length && wrong.length < 10; i++) {
    const expected = { ...before[i], sev: matching(before[i]) ? sev : before[i].sev };
    if (JSON.stringify(flows[i]) !== JSON.stringify(expected)) {
      wrong.push(`line ${i + 2}: ${JSON.stringify(flows[i])}, expected ${JSON.stringify(expected)}`);
    }
  }
  assert.deepEqual(wrong, [], 'flow_scores.csv after scoring');
}

/** Checks that the feedback file kept its rows and gained `count` rows `matching`, all with `sev`. */
function assertFeedbackGained(feedback, before, matching, sev, count) {
  assert.deepEqual(feedback.slice(0, before.length), before, 'earlier feedback rows kept');
  const added = feedback.slice(before.length);
  assert.equal(added.length, count, 'feedback rows added');
  assert.ok(
    added.every((row) => row.sev === sev && matching(row)),
    `added feedback rows: ${JSON.stringify(added.slice(0, 3))}`,
  );
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

// One evcxr build folder for the kernels of the three tests, which run one after the other: the
// first compiles the library cold (minutes on a loaded machine), the others reuse its build.
const evcxrDir = process.env.EVCXR_TMPDIR ? null : mkdtempSync(join(tmpdir(), 'flow-edge-evcxr-'));
if (evcxrDir) {
  process.env.EVCXR_TMPDIR = evcxrDir;
  after(() => rmSync(evcxrDir, { recursive: true, force: true }));
}

/** Each frontend's name in test titles and its screenshots' prefix. */
const FRONTENDS = {
  lab: { title: 'JupyterLab', shots: 'edge' },
  notebook: { title: 'Notebook 7', shots: 'nb7-edge' },
  voila: { title: 'Voilà', shots: 'voila-edge' },
};

for (const [frontend, { title, shots }] of Object.entries(FRONTENDS)) {
  test(`${title}: an analyst scores, undoes, saves and sees the upload outcome in the Edge Investigation panel`, { timeout: 1_200_000 }, () =>
    investigate(frontend, shots),
  );
}

async function investigate(frontend, shots) {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'flow-edge-oa-')));
  execFileSync(join(repoRoot, 'scripts', 'make-demo-tree'), [root, ROWS, DATE], {
    env: { ...process.env, FLOW_EDGE_CLI: join(target, 'release', 'flow-edge') },
  });
  const dayDir = join(root, 'data', 'flow', DATE);
  const generated = readFlows(dayDir);
  // No ML node: the upload reads a configuration file that does not exist.
  process.env.FLOW_EDGE_SPOT_CONF = join(root, 'no-spot.conf');
  const lab = await startServer({ frontend, rootDir: root });
  const page = lab.page;
  /** A screenshot with `target` at the top: by default the panel's top (the rules line). */
  const shot = async (name, target = page.locator('.flow-edge-rules').first()) => {
    await target.evaluate((node) => node.scrollIntoView({ block: 'start' }));
    await lab.screenshot(`${shots}-${name}`);
  };
  try {
    const ms = await lab.runNotebook(`ipynb/flow/${DATE}/Edge_Investigation.ipynb`);
    console.log(`${frontend}: notebook run: ${ms} ms`);
    assert.deepEqual(await lab.errorOutputs(), []);
    // The first cell found the day from the notebook's folder (the kernel's working folder).
    await page.getByText(join(dayDir, 'flow_scores.csv')).first().waitFor({ timeout: 30_000 });
    if (frontend === 'voila') {
      assert.ok(!(await page.locator('body').innerText()).includes(':dep flow_edge'), 'the app shows no code');
    }
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
    const ruled = generated.filter((r) => r.sev === '0' && originalRuleMatches(r)).length;
    assert.ok(ruled > 0, 'the realistic day has rows the rules catch');
    readFlows(dayDir).forEach((row, i) => {
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
    await shot('0-rules-cell', rulesTable);
    const chart = page.locator('.flow-edge-heuristics').first();
    assert.equal(await chart.locator('svg title').textContent(), 'rows (connections) per source');
    assert.match(await chart.textContent(), /sources have more than 20 rows \(connections\)/);
    await shot('6-heuristics', chart);
    await shot('1-panel');

    const status = page.locator('.flow-edge-status');
    const scoreButton = page.locator('.jupyter-widgets button', { hasText: 'Score' });
    const undoButton = page.locator('.jupyter-widgets button', { hasText: 'Undo' });
    const rating = (label) => page.locator('.widget-radio-box label', { hasText: label }).locator('input');
    const logEntries = page.locator('.jupyter-widgets.widget-html li');
    /** Presses Score; done when the log of scorings has one more entry. Returns the rows scored. */
    const score = async () => {
      const entries = await logEntries.count();
      const clicked = Date.now();
      await scoreButton.click();
      await page
        .waitForFunction((n) => document.querySelectorAll('.jupyter-widgets.widget-html li').length > n, entries, {
          timeout: 60_000,
        })
        .catch(async (error) => {
          throw new Error(`no new scoring in the log; status: ${await status.textContent()}`, { cause: error });
        });
      console.log(`${frontend}: score click to log entry: ${Date.now() - clicked} ms`);
      const text = await status.textContent();
      assert.match(text, /\d+ matching connections scored/);
      return Number(text.match(/(\d+) matching connections scored/)[1]);
    };
    /** Presses Undo; done when one more log entry is marked undone. Returns the rows restored. */
    const undo = async () => {
      const undone = logEntries.filter({ hasText: '(undone)' });
      const before = await undone.count();
      await undoButton.click();
      await page
        .waitForFunction(
          (n) =>
            [...document.querySelectorAll('.jupyter-widgets.widget-html li')].filter((li) => li.textContent.includes('(undone)'))
              .length > n,
          before,
          { timeout: 60_000 },
        )
        .catch(async (error) => {
          throw new Error(`no scoring undone; status: ${await status.textContent()}`, { cause: error });
        });
      const text = await status.textContent();
      assert.match(text, /Last scoring undone: \d+ rows back to their previous severity/);
      return Number(text.match(/Last scoring undone: (\d+) rows/)[1]);
    };

    // What the day held once the panel was open.
    const flowsAtOpen = readFlows(dayDir);
    const feedbackAtOpen = feedbackIfAny(dayDir);

    // 1. A source IP from the listbox, rating 1.
    const srcLabel = firstOptions[1];
    const srcIp = addressOf(srcLabel);
    const ofSource = (row) => row.srcIP === srcIp;
    const selectSource = async () => {
      const index = (await labelsOf(listboxes.nth(0))).indexOf(srcLabel);
      assert.ok(index > 0, `${srcLabel} listed`);
      await listboxes.nth(0).selectOption({ index });
      await page.locator('.jupyter-widgets.widget-html', { hasText: 'Preview:' }).first().waitFor({ timeout: 20_000 });
    };
    await selectSource();
    const previewText = await page.locator('.jupyter-widgets.widget-html', { hasText: 'Preview:' }).first().textContent();
    // The preview puts each address's context under it.
    assert.ok(
      (await page.locator('.jupyter-widgets.widget-html', { hasText: 'Preview:' }).locator('.flow-edge-endpoint').count()) > 0,
      'context beside the preview\'s addresses',
    );
    await rating('1').check();
    await shot('2-source-selected');
    const firstCount = await score();
    assert.equal(firstCount, flowsAtOpen.filter(ofSource).length);
    assert.ok(previewText.includes(`would score ${firstCount} row`), previewText);
    assertScoredInPlace(readFlows(dayDir), flowsAtOpen, ofSource, '1');
    const feedbackWithSource = readFeedback(dayDir);
    assertFeedbackGained(feedbackWithSource, feedbackAtOpen, ofSource, '1', firstCount);
    await shot('3-scored-source');

    // Undo takes it back from both files; scoring it again gives the same files.
    assert.equal(await undo(), firstCount);
    assert.deepEqual(readFlows(dayDir), flowsAtOpen, 'flow_scores.csv as it was before the scoring');
    assert.deepEqual(feedbackIfAny(dayDir), feedbackAtOpen, 'the scoring\'s feedback rows removed');
    assert.ok(await undoButton.isDisabled());
    await shot('3b-source-undone');
    await selectSource();
    await rating('1').check();
    assert.equal(await score(), firstCount);
    assertScoredInPlace(readFlows(dayDir), flowsAtOpen, ofSource, '1');
    assert.deepEqual(readFeedback(dayDir), feedbackWithSource);

    // 2. A quick IP (a destination from the listbox), rating 3.
    const dstOptions = await labelsOf(listboxes.nth(1));
    const quickIp = addressOf(dstOptions[dstOptions.length > 2 ? 2 : 1]);
    const ofQuick = (row) => row.srcIP === quickIp || row.dstIP === quickIp;
    const flowsBeforeQuick = readFlows(dayDir);
    const quickBox = page.locator('.jupyter-widgets input[placeholder="Quick IP scoring"]');
    await quickBox.fill(quickIp);
    await rating('3').check();
    await page.locator('.jupyter-widgets.widget-html', { hasText: 'Preview:' }).first().waitFor({ timeout: 20_000 });
    const secondCount = await score();
    assert.equal(secondCount, flowsBeforeQuick.filter(ofQuick).length);
    assertScoredInPlace(readFlows(dayDir), flowsBeforeQuick, ofQuick, '3');
    assertFeedbackGained(readFeedback(dayDir), feedbackWithSource, ofQuick, '3', secondCount);
    await shot('4-scored-quick-ip');

    // Undo takes the quick IP scoring back from both files; scoring it again restores it.
    assert.equal(await undo(), secondCount);
    assert.deepEqual(readFlows(dayDir), flowsBeforeQuick, 'flow_scores.csv as it was before the quick IP scoring');
    assert.deepEqual(readFeedback(dayDir), feedbackWithSource);
    assert.ok(await undoButton.isDisabled());
    await shot('4b-undone');
    await quickBox.fill(quickIp);
    assert.equal(await score(), secondCount);
    assertScoredInPlace(readFlows(dayDir), flowsBeforeQuick, ofQuick, '3');
    assertFeedbackGained(readFeedback(dayDir), feedbackWithSource, ofQuick, '3', secondCount);
    const feedbackBeforeSave = readFeedback(dayDir);

    // 3. Save: sorted file, rebuilt lists without the scored values, the upload error shown.
    await page.locator('.jupyter-widgets button', { hasText: 'Save' }).click();
    await status.filter({ hasText: 'Suspicious connects successfully updated' }).waitFor({ timeout: 120_000 });
    const saved = await status.textContent();
    assert.match(saved, /Feedback not uploaded: .*no-spot\.conf/);
    const flows = readFlows(dayDir);
    const firstScored = flows.findIndex((r) => r.sev !== '0');
    const unscored = flows.slice(0, firstScored);
    assert.ok(flows.slice(firstScored).every((r) => r.sev !== '0'), 'scored rows after unscored ones');
    for (let i = 1; i < unscored.length; i++) {
      assert.ok(Number(unscored[i - 1].lda_score) <= Number(unscored[i].lda_score), `sorted at row ${i}`);
    }
    const sevs = flows.slice(firstScored).map((r) => r.sev);
    assert.deepEqual(sevs, [...sevs].sort(), 'scored rows grouped by severity');
    assert.ok(flows.filter(ofSource).every((r) => r.sev === (ofQuick(r) ? '3' : '1')), 'the source IP\'s rows keep their rating');
    assert.ok(flows.filter(ofQuick).every((r) => r.sev === '3'), 'the quick IP\'s rows keep their rating');
    assert.deepEqual(readFeedback(dayDir), feedbackBeforeSave, 'feedback file untouched by the failed upload');
    const srcAfter = (await labelsOf(listboxes.nth(0))).map(addressOf);
    const dstAfter = (await labelsOf(listboxes.nth(1))).map(addressOf);
    assert.ok(!srcAfter.includes(srcIp), 'scored source IP gone from the listbox');
    assert.ok(!srcAfter.includes(quickIp) && !dstAfter.includes(quickIp), 'quick IP gone from the listboxes');
    assert.ok(srcAfter.length > 1, 'fresh values listed');
    await shot('5-saved');
  } catch (error) {
    await lab.screenshot(`${shots}-failure`).catch(() => {});
    console.log(lab.logs.join('').slice(-4000));
    throw error;
  } finally {
    await lab.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
