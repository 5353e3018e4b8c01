// Compares what two xterm.js terminals show: one fed a whole output stream (the witness),
// one fed the daemon's repaint of a prefix of it plus the rest (the repainted).
//
// Why it exists: the daemon's repaint is checked against its own screen model in Rust, so a
// gap both share (a mode the model drops, a state the repaint forgets) would pass unseen.
// xterm.js is what ptyhub's web client and freshell actually draw with, so it is the second,
// independent emulator: if it shows a different screen after a repaint than after the whole
// stream, a viewer that attached late sees a different screen. `tests/xterm_round_trip.rs`
// builds the cases and runs this script; it can also be run by hand:
//
//     node scripts/replay-equivalence.mjs < cases.json
//
// Input (stdin): {"cases":[{"name":str,"cols":n,"rows":n,"witness":str,"repainted":str}]}
// Output (stdout): {"results":[{"name":str,"differences":[str,...]}]}
// Exit status: 0 when every case shows the same screen, 1 when any differs, 2 on bad input
// (or a failure of the script itself).
//
// Compared: the active buffer (normal or alternate); for both buffers, every cell of the
// visible rows (chars, width, colours, every SGR attribute xterm keeps, underline style and
// colour) and each row's wrapped flag; the active buffer's cursor and, under the alternate
// screen, the normal buffer's saved cursor (what leaving restores); the terminal's modes,
// the mouse encoding, the cursor style and visibility; the last title. Not compared: state
// that shows only through later output (scroll region, saved cursor of the active buffer, tab
// stops, charsets) — the cases carry that output after the split, so it shows in the cells.
//
// Every difference reads `<where> [<class>,...]: <details>`, rows and columns counted from 0
// at the top left of the visible screen, e.g.
//     normal row 3 col 5 [bold,fg]: witness 'a' bold fg=P1 vs repainted 'a' fg=default
// The bracketed classes let a caller allow-list kinds of differences (`wrapped-from-history`:
// whether the top row continues a row in the scrollback). At most
// MAX_DIFFERENCES_PER_CASE are listed; the last line then counts the rest, with their classes.
//
// If xterm.js throws while parsing a terminal's input, the case reports that
// (`xterm-threw-on-witness` / `xterm-threw-on-repainted`) instead of comparing screens.
//
// The terminals use Unicode 11 widths (the unicode11 addon), as the web client does. An erased
// cell and a space with the same attributes look the same and are compared as equal.

import headless from '@xterm/headless';
import unicode11 from '@xterm/addon-unicode11';

const { Terminal } = headless;
const { Unicode11Addon } = unicode11;

const MAX_DIFFERENCES_PER_CASE = 20;
/** A row with more differing cells than this is reported as one line, not one per cell. */
const MAX_CELL_LINES_PER_ROW = 3;
const SCROLLBACK_ROWS = 1000;

const UNDERLINE_STYLES = ['none', 'single', 'double', 'curly', 'dotted', 'dashed'];

function fail(message) {
  process.stderr.write(`replay-equivalence: ${message}\n`);
  process.exit(2);
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function validCases(input) {
  if (input === null || typeof input !== 'object' || !Array.isArray(input.cases)) {
    fail('expected {"cases":[...]} on stdin');
  }
  input.cases.forEach((c, i) => {
    const where = `case ${i}`;
    if (c === null || typeof c !== 'object') fail(`${where} is not an object`);
    if (typeof c.name !== 'string') fail(`${where}: name must be a string`);
    for (const key of ['cols', 'rows']) {
      if (!Number.isInteger(c[key]) || c[key] < 1 || c[key] > 1000) {
        fail(`${where} (${c.name}): ${key} must be an integer from 1 to 1000`);
      }
    }
    for (const key of ['witness', 'repainted']) {
      if (typeof c[key] !== 'string') fail(`${where} (${c.name}): ${key} must be a string`);
    }
  });
  return input.cases;
}

/**
 * Where an exception thrown inside xterm.js goes while a write is in flight. xterm.js parses
 * on a timer, so a throw there (xterm.js 6.0.0 has at least one: `CSI 1 J` with the cursor in
 * the bottom-right cell) reaches no caller; it becomes that terminal's error. At most one
 * write is in flight: the cases and their terminals are fed one after another.
 */
let writeFailed = null;
process.on('uncaughtException', (error) => {
  if (writeFailed === null) {
    process.stderr.write(`replay-equivalence: ${error.stack ?? error}\n`);
    process.exit(2);
  }
  writeFailed(error);
});

/**
 * A terminal as the web client configures one, fed `data`. Resolves once it is parsed, with
 * the error xterm.js threw instead if it threw.
 */
async function terminalFed(cols, rows, data) {
  // logLevel off: streams with junk in them would fill stderr with xterm's parse errors.
  const term = new Terminal({ cols, rows, allowProposedApi: true, scrollback: SCROLLBACK_ROWS, logLevel: 'off' });
  term.loadAddon(new Unicode11Addon());
  term.unicode.activeVersion = '11';
  let title = '';
  term.onTitleChange((t) => {
    title = t;
  });
  const error = await new Promise((resolve) => {
    writeFailed = resolve;
    term.write(data, () => resolve(null));
  });
  writeFailed = null;
  return { term, title: () => title, error };
}

/** A colour as `default`, `P<palette index>` or `#rrggbb`. */
function colour(value, isDefault, isRgb) {
  if (isDefault) return 'default';
  if (isRgb) return `#${value.toString(16).padStart(6, '0')}`;
  return `P${value}`;
}

function shown(chars) {
  return `'${JSON.stringify(chars).slice(1, -1).replace(/'/g, "\\'")}'`;
}

/** What a viewer sees of one cell, as comparable fields (name → printable value). */
function cellFields(cell) {
  const chars = cell.getChars();
  const width = cell.getWidth();
  const underline = cell.isUnderline() !== 0;
  const fields = {
    // An erased cell and a space look the same.
    chars: chars === '' && width === 1 ? ' ' : chars,
    width: String(width),
    fg: colour(cell.getFgColor(), cell.isFgDefault(), cell.isFgRGB()),
    bg: colour(cell.getBgColor(), cell.isBgDefault(), cell.isBgRGB()),
    bold: cell.isBold() !== 0,
    dim: cell.isDim() !== 0,
    italic: cell.isItalic() !== 0,
    underline,
    inverse: cell.isInverse() !== 0,
    invisible: cell.isInvisible() !== 0,
    strikethrough: cell.isStrikethrough() !== 0,
    blink: cell.isBlink() !== 0,
    overline: typeof cell.isOverline === 'function' ? cell.isOverline() !== 0 : false,
  };
  // Underline style and colour are reachable on xterm's internal cell data, not in the typings.
  if (underline && typeof cell.getUnderlineStyle === 'function') {
    fields['underline-style'] = UNDERLINE_STYLES[cell.getUnderlineStyle()] ?? String(cell.getUnderlineStyle());
  }
  if (underline && typeof cell.getUnderlineColor === 'function') {
    fields['underline-colour'] = colour(cell.getUnderlineColor(), cell.isUnderlineColorDefault(), cell.isUnderlineColorRGB());
  }
  return fields;
}

const BLANK_CELL = {
  chars: ' ', width: '1', fg: 'default', bg: 'default', bold: false, dim: false, italic: false,
  underline: false, inverse: false, invisible: false, strikethrough: false, blink: false, overline: false,
};

const DEFAULTS = { width: '1', fg: 'default', bg: 'default', 'underline-colour': 'default' };

/** One cell for a person: its chars, then its non-default fields and any in `always`. */
function describeCell(fields, always) {
  const parts = [shown(fields.chars)];
  for (const [name, value] of Object.entries(fields)) {
    if (name === 'chars') continue;
    const isDefault = value === false || value === DEFAULTS[name];
    if (isDefault && !always.has(name)) continue;
    if (value === true) parts.push(name);
    else if (value === false) parts.push(`no-${name}`);
    else if (name === 'width') parts.push(`w${value}`);
    else parts.push(`${name}=${value}`);
  }
  return parts.join(' ');
}

function differingFields(a, b) {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...names].filter((name) => a[name] !== b[name]);
}

/** The visible rows of a buffer: the last `rows` lines (baseY .. baseY + rows). */
function visibleRows(buffer, rows, cols) {
  const cell = buffer.getNullCell();
  const out = [];
  for (let y = 0; y < rows; y++) {
    // A buffer never shown (the alternate one of a terminal that never switched) has no
    // lines yet; it looks blank.
    const line = buffer.getLine(buffer.baseY + y);
    const cells = [];
    for (let x = 0; x < cols; x++) {
      const c = line?.getCell(x, cell);
      cells.push(c ? cellFields(c) : { ...BLANK_CELL });
    }
    out.push({ wrapped: line?.isWrapped ?? false, cells, text: line?.translateToString(true) ?? '' });
  }
  return out;
}

function compareBuffer(kind, activeKind, witness, repainted, rows, cols, report) {
  const a = visibleRows(witness, rows, cols);
  const b = visibleRows(repainted, rows, cols);
  for (let y = 0; y < rows; y++) {
    const wa = a[y];
    const wb = b[y];
    if (wa.wrapped !== wb.wrapped) {
      // The top row's row above is in the scrollback: its own class, since a repaint draws
      // no history (a caller may allow it).
      const tag = y === 0 ? 'wrapped-from-history' : 'wrapped';
      report([tag], `${kind} row ${y}`, `witness ${wa.wrapped ? '' : 'not '}wrapped from the row above vs repainted ${wb.wrapped ? '' : 'not '}wrapped`);
    }
    const cellDiffs = [];
    for (let x = 0; x < cols; x++) {
      const fields = differingFields(wa.cells[x], wb.cells[x]);
      if (fields.length > 0) cellDiffs.push({ x, fields });
    }
    const detail = ({ x, fields }) => {
      const always = new Set(fields);
      return `witness ${describeCell(wa.cells[x], always)} vs repainted ${describeCell(wb.cells[x], always)}`;
    };
    if (cellDiffs.length <= MAX_CELL_LINES_PER_ROW) {
      for (const d of cellDiffs) report(d.fields, `${kind} row ${y} col ${d.x}`, detail(d));
    } else {
      const classes = [...new Set(cellDiffs.flatMap((d) => d.fields))];
      const first = cellDiffs[0];
      report(
        classes,
        `${kind} row ${y}`,
        `${cellDiffs.length} cells differ, first col ${first.x}: ${detail(first)}; witness text ${JSON.stringify(wa.text)} vs repainted ${JSON.stringify(wb.text)}`,
      );
    }
  }
  const [ca, cb] = [visibleCursor(witness, kind, activeKind, cols), visibleCursor(repainted, kind, activeKind, cols)];
  if (ca !== null && cb !== null && (ca.x !== cb.x || ca.y !== cb.y)) {
    report(['cursor'], ca.where, `witness row ${ca.y} col ${ca.x} vs repainted row ${cb.y} col ${cb.x}`);
  }
}

/**
 * The cursor of a buffer that can still be seen. Active buffer: its cursor. Normal buffer
 * under the alternate one: its own position never returns (xterm.js copies the alternate
 * buffer's cursor into it when switching back), what returns is the cursor `CSI ? 1049 h`
 * saved, so that one (a private field; skipped if absent). Alternate buffer while the normal
 * one is active: cleared, and given the normal cursor when switched to, so none.
 */
function visibleCursor(buffer, kind, activeKind, cols) {
  if (kind === activeKind) return { where: `${kind} cursor`, x: buffer.cursorX, y: buffer.cursorY };
  const saved = buffer._buffer;
  if (kind === 'normal' && Number.isInteger(saved?.savedX) && Number.isInteger(saved?.savedY)) {
    // Saved as a line of the whole buffer (scrollback included): counted from the top of the
    // screen, as restoring it does, since the two terminals' scrollbacks differ. A column saved
    // past the last one (a cursor waiting to wrap) comes back in the last one, as restoring
    // puts it: the two are the same state.
    const x = Math.min(saved.savedX, cols - 1);
    return { where: 'normal saved cursor (restored by CSI ? 1049 l)', x, y: Math.max(saved.savedY - buffer.baseY, 0) };
  }
  return null;
}

/** Modes and other terminal-wide state, by name. Private fields are guarded: absent → skipped. */
function terminalState(term, title) {
  const state = { 'active-buffer': term.buffer.active.type };
  for (const [name, value] of Object.entries(term.modes)) state[`mode:${name}`] = String(value);
  const core = term._core;
  const hidden = core?.coreService?.isCursorHidden;
  if (typeof hidden === 'boolean') state['cursor-hidden'] = String(hidden);
  const dec = core?.coreService?.decPrivateModes;
  if (dec) {
    // Unset until DECSCUSR; then the options' defaults are what a viewer sees.
    state['cursor-style'] = `${dec.cursorStyle ?? term.options.cursorStyle}${(dec.cursorBlink ?? term.options.cursorBlink) ? ' blinking' : ''}`;
  }
  const encoding = core?.coreMouseService?.activeEncoding;
  if (typeof encoding === 'string') state['mouse-encoding'] = encoding;
  state.title = JSON.stringify(title);
  return state;
}

async function compareCase(c) {
  const differences = [];
  const omitted = { count: 0, classes: new Set() };
  const report = (classes, where, details) => {
    if (differences.length < MAX_DIFFERENCES_PER_CASE) {
      differences.push(`${where} [${classes.join(',')}]: ${details}`);
    } else {
      omitted.count += 1;
      classes.forEach((k) => omitted.classes.add(k));
    }
  };
  const witness = await terminalFed(c.cols, c.rows, c.witness);
  const repainted = await terminalFed(c.cols, c.rows, c.repainted);
  try {
    // A terminal that threw part way is in no state to compare.
    for (const [which, fed] of [['witness', witness], ['repainted', repainted]]) {
      if (fed.error !== null) report([`xterm-threw-on-${which}`], which, `xterm.js threw while parsing it: ${fed.error}`);
    }
    if (witness.error !== null || repainted.error !== null) return { name: c.name, differences };
    const sa = terminalState(witness.term, witness.title());
    const sb = terminalState(repainted.term, repainted.title());
    for (const name of new Set([...Object.keys(sa), ...Object.keys(sb)])) {
      if (sa[name] !== sb[name]) report([name], name.replace(':', ' '), `witness ${sa[name]} vs repainted ${sb[name]}`);
    }
    for (const kind of ['normal', 'alternate']) {
      compareBuffer(
        kind,
        witness.term.buffer.active.type,
        witness.term.buffer[kind],
        repainted.term.buffer[kind],
        c.rows,
        c.cols,
        report,
      );
    }
  } finally {
    for (const fed of [witness, repainted]) {
      try {
        fed.term.dispose();
      } catch {
        // A terminal that threw while parsing may throw again on the way out; it is done with.
      }
    }
  }
  if (omitted.count > 0) {
    differences.push(`more [${[...omitted.classes].join(',')}]: ${omitted.count} more differences not listed`);
  }
  return { name: c.name, differences };
}

const text = await readStdin();
let input;
try {
  input = JSON.parse(text);
} catch (error) {
  fail(`stdin is not JSON: ${error.message}`);
}
const cases = validCases(input);
const results = [];
for (const c of cases) results.push(await compareCase(c));
process.stdout.write(`${JSON.stringify({ results })}\n`);
process.exitCode = results.some((r) => r.differences.length > 0) ? 1 : 0;
