/**
 * The slice of freshell's WebSocket protocol v7 this page speaks, and the builders of every
 * message it sends.
 *
 * Why a module of its own: the daemon validates client messages strictly (`terminal.create`
 * rejects unknown keys), so the exact field set lives in one place that unit tests pin down,
 * instead of being spread over the views as object literals. Server messages are typed only
 * as far as the page reads them; everything else is ignored, which keeps the page tolerant of
 * messages it does not know (settings, activity lists, …).
 */

/** freshell's protocol version; the daemon closes 4010 on any other. */
export const PROTOCOL_VERSION = 7;

/**
 * Replay budget for a viewport hydrate, in serialized `terminal.output` bytes. Mirrors
 * freshell's client (131 072): a fresh page gets at most this much history, or one frame
 * that repaints the whole screen when the history is larger.
 */
export const HYDRATE_MAX_REPLAY_BYTES = 131_072;

/** The daemon's attach geometry bounds (freshell: cols 2..1000, rows 2..500). */
export const MIN_COLS = 2;
export const MAX_COLS = 1000;
export const MIN_ROWS = 2;
export const MAX_ROWS = 500;

export type AttachIntent = 'viewport_hydrate' | 'keepalive_delta' | 'transport_reconnect';

export interface SessionRef {
  provider: string;
  sessionId: string;
}

// ---- client → server -------------------------------------------------------------------

export interface HelloMessage {
  type: 'hello';
  protocolVersion: number;
  token: string;
}

export interface CreateMessage {
  type: 'terminal.create';
  requestId: string;
  mode: string;
  cwd?: string;
  /** The provider session to resume (or join, if a terminal runs it). */
  sessionRef?: SessionRef;
  /** "This pane existed before; resume it" — always with a sessionRef. */
  restore?: boolean;
}

export interface AttachMessage {
  type: 'terminal.attach';
  terminalId: string;
  intent: AttachIntent;
  cols: number;
  rows: number;
  sinceSeq: number;
  attachRequestId: string;
  maxReplayBytes?: number;
}

export interface InputMessage {
  type: 'terminal.input';
  terminalId: string;
  data: string;
}

export interface ResizeMessage {
  type: 'terminal.resize';
  terminalId: string;
  cols: number;
  rows: number;
  /** ptyhub's own extension: the PTY takes this size now, as if this viewer had typed. */
  takeSize?: true;
}

export interface DetachMessage {
  type: 'terminal.detach';
  terminalId: string;
}

export interface KillMessage {
  type: 'terminal.kill';
  terminalId: string;
}

/**
 * ptyhub's own message, not freshell's: the colours the page's terminals show where a program
 * chose none (`#rrggbb`), so that the daemon answers colour queries with them. No reply; the
 * daemon keeps the first theme any full-token viewer reports.
 */
export interface ThemeMessage {
  type: 'ptyhub.theme';
  foreground: string;
  background: string;
  cursor: string;
}

export type ClientMessage =
  | HelloMessage
  | ThemeMessage
  | CreateMessage
  | AttachMessage
  | InputMessage
  | ResizeMessage
  | DetachMessage
  | KillMessage;

export function hello(token: string): HelloMessage {
  // No capabilities: acking none of freshell's optional features (batching, pane
  // reconcile) keeps the server on the plain `terminal.output` path this page implements.
  return { type: 'hello', protocolVersion: PROTOCOL_VERSION, token };
}

export function create(
  requestId: string,
  mode: string,
  cwd?: string,
  resume?: { sessionRef: SessionRef; restore: true },
): CreateMessage {
  const message: CreateMessage = { type: 'terminal.create', requestId, mode };
  if (cwd !== undefined && cwd !== '') message.cwd = cwd;
  if (resume !== undefined) {
    message.sessionRef = { provider: resume.sessionRef.provider, sessionId: resume.sessionRef.sessionId };
    message.restore = true;
  }
  return message;
}

export interface AttachParams {
  terminalId: string;
  intent: AttachIntent;
  cols: number;
  rows: number;
  sinceSeq: number;
  attachRequestId: string;
  maxReplayBytes?: number;
}

export function attach(params: AttachParams): AttachMessage {
  const message: AttachMessage = {
    type: 'terminal.attach',
    terminalId: params.terminalId,
    intent: params.intent,
    cols: clamp(params.cols, MIN_COLS, MAX_COLS),
    rows: clamp(params.rows, MIN_ROWS, MAX_ROWS),
    sinceSeq: Math.max(0, Math.floor(params.sinceSeq)),
    attachRequestId: params.attachRequestId,
  };
  if (params.maxReplayBytes !== undefined) message.maxReplayBytes = params.maxReplayBytes;
  return message;
}

export function input(terminalId: string, data: string): InputMessage {
  return { type: 'terminal.input', terminalId, data };
}

export function resize(terminalId: string, cols: number, rows: number, takeSize = false): ResizeMessage {
  const message: ResizeMessage = {
    type: 'terminal.resize',
    terminalId,
    cols: clamp(cols, MIN_COLS, MAX_COLS),
    rows: clamp(rows, MIN_ROWS, MAX_ROWS),
  };
  if (takeSize) message.takeSize = true;
  return message;
}

export function detach(terminalId: string): DetachMessage {
  return { type: 'terminal.detach', terminalId };
}

/** Ends the session's process (SIGHUP, then harder after the daemon's grace period). */
export function themeReport(theme: { foreground: string; background: string; cursor: string }): ThemeMessage {
  return { type: 'ptyhub.theme', foreground: theme.foreground, background: theme.background, cursor: theme.cursor };
}

export function kill(terminalId: string): KillMessage {
  return { type: 'terminal.kill', terminalId };
}

function clamp(value: number, min: number, max: number): number {
  if (!Number.isFinite(value)) return min;
  return Math.min(max, Math.max(min, Math.floor(value)));
}

// ---- identities ------------------------------------------------------------------------

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

/** A random id over nanoid's alphabet; `random` returns floats in [0, 1). */
export function randomId(length: number, random: () => number = Math.random): string {
  let id = '';
  for (let i = 0; i < length; i++) {
    id += ID_ALPHABET[Math.floor(random() * ID_ALPHABET.length) % ID_ALPHABET.length];
  }
  return id;
}

/** A fresh `terminal.create` requestId (freshell uses 21-character nanoids). */
export function newRequestId(random?: () => number): string {
  return randomId(21, random);
}

/**
 * An attachRequestId in freshell's client format `<paneId>:<n>:<random>`. The daemon keys
 * attachments by the pane prefix, so each browser tab keeps one pane id for its life and
 * counts its attaches.
 */
export function attachRequestId(paneId: string, n: number, random?: () => number): string {
  return `${paneId}:${n}:${randomId(6, random)}`;
}

// ---- server → client -------------------------------------------------------------------

export interface ReadyMessage {
  type: 'ready';
  serverInstanceId: string;
  bootId?: string;
}

/** One terminal as `terminal.inventory` lists it. */
export interface InventoryTerminal {
  terminalId: string;
  title: string;
  mode: string;
  status: 'running' | 'exited';
  createdAt: number;
  lastActivityAt: number;
  cwd?: string;
  sessionRef?: SessionRef;
}

export interface InventoryMessage {
  type: 'terminal.inventory';
  bootId: string;
  terminals: InventoryTerminal[];
}

export interface CreatedMessage {
  type: 'terminal.created';
  requestId: string;
  terminalId: string;
  createdAt: number;
  cwd?: string;
  sessionRef?: SessionRef;
}

export interface AttachReadyMessage {
  type: 'terminal.attach.ready';
  terminalId: string;
  streamId: string;
  headSeq: number;
  replayFromSeq: number;
  replayToSeq: number;
  requestedSinceSeq?: number;
  effectiveSinceSeq?: number;
  attachRequestId?: string;
  sessionRef?: SessionRef;
}

export interface OutputMessage {
  type: 'terminal.output';
  terminalId: string;
  streamId: string;
  seqStart: number;
  seqEnd: number;
  data: string;
  attachRequestId?: string;
  source?: 'live' | 'replay';
}

export type GapReason = 'queue_overflow' | 'replay_window_exceeded' | 'replay_budget_exceeded';

export interface OutputGapMessage {
  type: 'terminal.output.gap';
  terminalId: string;
  streamId: string;
  fromSeq: number;
  toSeq: number;
  reason: GapReason;
  attachRequestId?: string;
}

export interface ModesSyncMessage {
  type: 'terminal.modes.sync';
  terminalId: string;
  attachRequestId: string;
  streamId: string;
  data: string;
}

export interface ExitMessage {
  type: 'terminal.exit';
  terminalId: string;
  exitCode: number;
}

export interface TerminalsChangedMessage {
  type: 'terminals.changed';
  revision: number;
}

export interface ErrorMessage {
  type: 'error';
  code: string;
  message: string;
  requestId?: string;
  terminalId?: string;
  terminalExitCode?: number;
}

/** Every server message the page acts on; anything else is parsed as `{type}` and ignored. */
export type ServerMessage =
  | ReadyMessage
  | InventoryMessage
  | CreatedMessage
  | AttachReadyMessage
  | OutputMessage
  | OutputGapMessage
  | ModesSyncMessage
  | ExitMessage
  | TerminalsChangedMessage
  | ErrorMessage
  | { type: 'terminal.detached'; terminalId: string };

/** Parses one text frame; `null` when it is not a JSON object with a string `type`. */
export function parseServerMessage(text: string): ServerMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  if (typeof (value as { type?: unknown }).type !== 'string') return null;
  return value as ServerMessage;
}
