// xterm.js terminals (@xterm/headless) as viewers of one daemon session, each over its own real
// WebSocket, each forwarding everything its terminal emits (onData, onBinary) as
// `terminal.input`, as freshell's frontend does: if a terminal query ever reached one of them,
// its answer would reach the child. Driven by the Rust tests (tests/recorded_queries.rs) over
// stdin and stdout, one command per line; each answers with one line once done:
//
//   open N              N more viewers attach (a fresh page's attach, from seq 0, with the web
//                       client's replay budget); "OPENED <viewers>" once each has applied its
//                       replay
//   reload I [BUDGET]   viewer I as after a page reload: its socket closes, a new terminal
//                       attaches from seq 0 (replay budget BUDGET bytes if given); "RELOADED I"
//   reconnect I         viewer I's socket drops and a new one resumes into the same terminal
//                       (transport_reconnect from the last seq it applied); "RECONNECTED I <seq>"
//   type I TEXT         viewer I's user types TEXT (through onData, after everything its terminal
//                       was sent so far is parsed, so any answer it gave goes first); "TYPED I"
//   wait TEXT           until every viewer's screen shows TEXT; "SHOWN"
//   report              one JSON line: per viewer what its terminal emitted by itself (answers),
//                       its screen's rows, the last seq it applied, the gaps it was told of
//   close               closes every socket and ends
//
// A failure prints "FAILED <why>" and ends with status 1.
// Env: PTYHUB_WS_URL (ws://host:port/ws), PTYHUB_TOKEN, PTYHUB_TERMINAL, PTYHUB_COLS,
// PTYHUB_ROWS. Needs a global WebSocket: node 22, or node 20 with --experimental-websocket.

import { createInterface } from 'node:readline';
import headless from '@xterm/headless';

const { Terminal } = headless;

const WS_URL = process.env.PTYHUB_WS_URL ?? '';
const TOKEN = process.env.PTYHUB_TOKEN ?? '';
const TERMINAL = process.env.PTYHUB_TERMINAL ?? '';
const COLS = Number(process.env.PTYHUB_COLS ?? 80);
const ROWS = Number(process.env.PTYHUB_ROWS ?? 24);
/** The web client's hydrate budget (web-client/src/protocol.ts, freshell's 131 072). */
const HYDRATE_MAX_REPLAY_BYTES = 131_072;
const STEP_TIMEOUT_MS = 15_000;

function fail(why) {
  console.log(`FAILED ${why}`);
  process.exit(1);
}

if (!WS_URL || !TOKEN || !TERMINAL) fail('PTYHUB_WS_URL, PTYHUB_TOKEN and PTYHUB_TERMINAL must be set');
if (typeof WebSocket === 'undefined') fail('this node has no WebSocket: use node 22, or node 20 with --experimental-websocket');

/** Resolves once the terminal has parsed everything written to it so far. */
const parsed = (terminal) => new Promise((resolve) => terminal.write('', resolve));

/** One WebSocket speaking freshell v7 for one viewer; `onMessage` gets every parsed message. */
class Socket {
  constructor(onMessage) {
    this.onMessage = onMessage;
    this.waiters = [];
    this.socket = new WebSocket(WS_URL);
    this.socket.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data));
      this.onMessage(message);
      this.waiters = this.waiters.filter((waiter) => !waiter(message));
    });
    this.closed = new Promise((resolve) => this.socket.addEventListener('close', resolve));
  }

  async open() {
    await new Promise((resolve, reject) => {
      this.socket.addEventListener('open', resolve);
      this.socket.addEventListener('error', () => reject(new Error(`cannot connect to ${WS_URL}`)));
    });
    this.send({ type: 'hello', protocolVersion: 7, token: TOKEN });
    await this.next('ready', (m) => m.type === 'ready');
  }

  /** The next message passing `test`. */
  next(what, test) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} within ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS);
      this.waiters.push((message) => {
        if (message.type === 'error') {
          clearTimeout(timer);
          reject(new Error(`the daemon answered ${JSON.stringify(message)}`));
          return true;
        }
        if (!test(message)) return false;
        clearTimeout(timer);
        resolve(message);
        return true;
      });
    });
  }

  send(message) {
    this.socket.send(JSON.stringify(message));
  }

  async close() {
    this.socket.close();
    await this.closed;
  }
}

class Viewer {
  constructor(index) {
    this.index = index;
    this.attaches = 0;
    this.emitted = [];
    this.gaps = [];
    this.socket = null;
    this.newTerminal();
  }

  newTerminal() {
    this.terminal?.dispose();
    this.terminal = new Terminal({ cols: COLS, rows: ROWS, scrollback: 1000, allowProposedApi: true });
    this.lastSeq = 0;
    this.typing = false;
    const forward = (data) => {
      if (!this.typing) this.emitted.push(data);
      this.socket?.send({ type: 'terminal.input', terminalId: TERMINAL, data });
    };
    this.terminal.onData(forward);
    this.terminal.onBinary(forward);
  }

  onMessage(message) {
    if (message.terminalId !== TERMINAL) return;
    if (message.type === 'terminal.output') {
      this.terminal.write(message.data);
      this.lastSeq = Math.max(this.lastSeq, message.seqEnd);
    } else if (message.type === 'terminal.output.gap') {
      this.gaps.push(message.reason);
      this.lastSeq = Math.max(this.lastSeq, message.toSeq);
    } else if (message.type === 'terminal.modes.sync') {
      this.terminal.write(message.data);
    }
  }

  /** Attaches over a new socket; resolves once the replay is applied and parsed. */
  async attach(intent, sinceSeq, maxReplayBytes) {
    this.socket = new Socket((message) => this.onMessage(message));
    await this.socket.open();
    this.attaches += 1;
    const attachRequestId = `headless-${this.index}-${this.attaches}`;
    this.socket.send({
      type: 'terminal.attach',
      terminalId: TERMINAL,
      intent,
      cols: COLS,
      rows: ROWS,
      sinceSeq,
      attachRequestId,
      maxReplayBytes,
    });
    const ready = await this.socket.next(
      'terminal.attach.ready',
      (m) => m.type === 'terminal.attach.ready' && m.attachRequestId === attachRequestId,
    );
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    while (this.lastSeq < ready.replayToSeq) {
      if (Date.now() > deadline) throw new Error(`viewer ${this.index} never got its replay to ${ready.replayToSeq}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await parsed(this.terminal);
  }

  async detach() {
    const socket = this.socket;
    this.socket = null;
    await socket?.close();
  }

  async type(text) {
    await parsed(this.terminal);
    this.typing = true;
    this.terminal.input(text, true);
    this.typing = false;
  }

  screen() {
    const buffer = this.terminal.buffer.active;
    const rows = [];
    for (let row = 0; row < this.terminal.rows; row++) {
      // Trimmed: a blank written as a space and a cell never written look the same.
      rows.push((buffer.getLine(buffer.viewportY + row)?.translateToString(true) ?? '').trimEnd());
    }
    return rows;
  }
}

const viewers = [];

function viewer(index) {
  const found = viewers[Number(index)];
  if (!found) throw new Error(`there is no viewer ${index}`);
  return found;
}

async function run(line) {
  const [command, ...words] = line.split(' ');
  switch (command) {
    case 'open': {
      const opened = Array.from({ length: Number(words[0]) }, () => new Viewer(viewers.length)).map((v) => {
        viewers.push(v);
        return v;
      });
      await Promise.all(opened.map((v) => v.attach('viewport_hydrate', 0, HYDRATE_MAX_REPLAY_BYTES)));
      return `OPENED ${viewers.length}`;
    }
    case 'reload': {
      const v = viewer(words[0]);
      await v.detach();
      v.newTerminal();
      await v.attach('viewport_hydrate', 0, words[1] === undefined ? HYDRATE_MAX_REPLAY_BYTES : Number(words[1]));
      return `RELOADED ${v.index}`;
    }
    case 'reconnect': {
      const v = viewer(words[0]);
      await v.detach();
      const sinceSeq = v.lastSeq;
      await v.attach('transport_reconnect', sinceSeq, HYDRATE_MAX_REPLAY_BYTES);
      return `RECONNECTED ${v.index} ${sinceSeq}`;
    }
    case 'type': {
      const v = viewer(words[0]);
      await v.type(words.slice(1).join(' '));
      return `TYPED ${v.index}`;
    }
    case 'wait': {
      const text = words.join(' ');
      const deadline = Date.now() + STEP_TIMEOUT_MS;
      for (;;) {
        await Promise.all(viewers.map((v) => parsed(v.terminal)));
        if (viewers.every((v) => v.screen().some((row) => row.includes(text)))) return 'SHOWN';
        if (Date.now() > deadline) throw new Error(`not every viewer shows ${JSON.stringify(text)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    case 'report': {
      await Promise.all(viewers.map((v) => parsed(v.terminal)));
      return JSON.stringify({
        viewers: viewers.map((v) => ({ emitted: v.emitted, screen: v.screen(), lastSeq: v.lastSeq, gaps: v.gaps })),
      });
    }
    case 'close':
      await Promise.all(viewers.map((v) => v.detach()));
      process.exit(0);
      break;
    default:
      throw new Error(`unknown command ${JSON.stringify(line)}`);
  }
  return '';
}

try {
  for await (const line of createInterface({ input: process.stdin })) {
    console.log(await run(line));
  }
} catch (error) {
  fail(String(error?.message ?? error));
}
