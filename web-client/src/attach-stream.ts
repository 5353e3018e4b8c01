/**
 * Which output frames one viewer applies to its xterm: the seq and attachRequestId rules of
 * freshell's protocol, as pure functions over a small immutable cursor.
 *
 * Why pure: these rules decide whether a screen shows doubled or missing output after a
 * reconnect, and they are easiest to get right (and to keep right) as a table of cases in
 * unit tests rather than inside the socket handler.
 *
 * The rules (spec §6.2, §8.3, §8.9):
 * - Every attach gets a new attachRequestId; frames, gaps and attach.ready tagged with any
 *   other id (or none) belong to an older generation and are dropped.
 * - `attach.ready` announces a replay window `[replayFromSeq, replayToSeq]` (empty when
 *   from > to or from ≤ 0) and the stream those seqs belong to.
 * - A frame is applied when it carries new seqs (`seqEnd > lastSeq`) or lies inside the
 *   pending replay window — the daemon may answer with one frame that repaints the whole
 *   screen instead of the history, and that frame must be written even if its seq is not new.
 * - A gap moves the cursor past seqs the viewer will never get; the viewer notes it in the
 *   terminal unless it is the expected cut of a bounded replay (`replay_budget_exceeded`), or
 *   the history before a fresh screen's replay.
 * - When the daemon replays from an earlier seq than asked (`effectiveSinceSeq` below
 *   `requestedSinceSeq`, e.g. after another viewer changed the geometry) the kept screen
 *   must be cleared first, or the replay would be written twice.
 */

import type { AttachReadyMessage, GapReason, OutputGapMessage, OutputMessage } from './protocol';

export interface ReplayWindow {
  fromSeq: number;
  toSeq: number;
}

export interface AttachCursor {
  /** The attach generation whose frames are accepted; `null` before the first attach. */
  attachRequestId: string | null;
  /** The stream announced by attach.ready; `null` until then. */
  streamId: string | null;
  /** Highest seq applied to (or skipped by a gap on) this viewer's screen. */
  lastSeq: number;
  /** Seqs the current attach is replaying, until the last of them has arrived. */
  replay: ReplayWindow | null;
  /** True between sending an attach and its attach.ready: output is not yet placeable. */
  awaitingReady: boolean;
}

export const EMPTY_CURSOR: AttachCursor = {
  attachRequestId: null,
  streamId: null,
  lastSeq: 0,
  replay: null,
  awaitingReady: false,
};

/**
 * A new attach generation. `sinceSeq` is what the attach asks for: 0 for a full hydrate
 * (the caller clears its xterm), the last applied seq for a reconnect that keeps the screen.
 */
export function beginAttach(cursor: AttachCursor, attachRequestId: string, sinceSeq: number): AttachCursor {
  return {
    attachRequestId,
    streamId: cursor.streamId,
    lastSeq: Math.max(0, sinceSeq),
    replay: null,
    awaitingReady: true,
  };
}

export type ReadyOutcome =
  | { accepted: false }
  | { accepted: true; cursor: AttachCursor; clearScreen: boolean };

export function onAttachReady(cursor: AttachCursor, ready: AttachReadyMessage): ReadyOutcome {
  if (!cursor.awaitingReady || ready.attachRequestId !== cursor.attachRequestId) {
    return { accepted: false };
  }
  const requested = ready.requestedSinceSeq ?? cursor.lastSeq;
  const effective = ready.effectiveSinceSeq ?? requested;
  const streamChanged = cursor.streamId !== null && cursor.streamId !== ready.streamId;
  // The daemon will resend seqs this screen already shows: start the screen over.
  const clearScreen = cursor.lastSeq > 0 && (effective < requested || streamChanged);
  const lastSeq = clearScreen ? effective : cursor.lastSeq;
  const hasWindow = ready.replayFromSeq > 0 && ready.replayFromSeq <= ready.replayToSeq;
  return {
    accepted: true,
    clearScreen,
    cursor: {
      attachRequestId: cursor.attachRequestId,
      streamId: ready.streamId,
      lastSeq: hasWindow ? lastSeq : Math.max(lastSeq, ready.replayToSeq),
      replay: hasWindow ? { fromSeq: ready.replayFromSeq, toSeq: ready.replayToSeq } : null,
      awaitingReady: false,
    },
  };
}

export type RejectReason = 'foreign_attach' | 'before_ready' | 'foreign_stream' | 'duplicate';

export type FrameOutcome =
  | { accepted: false; reason: RejectReason }
  | { accepted: true; cursor: AttachCursor };

type Tagged = Pick<OutputMessage, 'attachRequestId' | 'streamId'>;

/** Why a tagged message (output, gap, modes.sync) is not for the current attach, or `null`. */
export function checkTag(cursor: AttachCursor, message: Tagged): RejectReason | null {
  if (cursor.attachRequestId === null || message.attachRequestId !== cursor.attachRequestId) {
    return 'foreign_attach';
  }
  if (cursor.awaitingReady) return 'before_ready';
  if (message.streamId !== cursor.streamId) return 'foreign_stream';
  return null;
}

function inWindow(window: ReplayWindow | null, fromSeq: number, toSeq: number): boolean {
  return window !== null && fromSeq >= window.fromSeq && toSeq <= window.toSeq;
}

/** Whether to write `frame` to the screen, and the cursor after it. */
export function onOutput(
  cursor: AttachCursor,
  frame: Pick<OutputMessage, 'attachRequestId' | 'streamId' | 'seqStart' | 'seqEnd'>,
): FrameOutcome {
  const rejected = checkTag(cursor, frame);
  if (rejected) return { accepted: false, reason: rejected };
  if (frame.seqEnd <= cursor.lastSeq && !inWindow(cursor.replay, frame.seqStart, frame.seqEnd)) {
    return { accepted: false, reason: 'duplicate' };
  }
  const replayDone = cursor.replay !== null && frame.seqEnd >= cursor.replay.toSeq;
  return {
    accepted: true,
    cursor: {
      ...cursor,
      lastSeq: Math.max(cursor.lastSeq, frame.seqEnd),
      replay: replayDone ? null : cursor.replay,
    },
  };
}

export type GapOutcome =
  | { accepted: false; reason: RejectReason }
  | { accepted: true; cursor: AttachCursor; notice: string | null };

/** What a gap does to the cursor, and the line (if any) to show in the terminal. */
export function onGap(
  cursor: AttachCursor,
  gap: Pick<OutputGapMessage, 'attachRequestId' | 'streamId' | 'fromSeq' | 'toSeq' | 'reason'>,
): GapOutcome {
  const rejected = checkTag(cursor, gap);
  if (rejected) return { accepted: false, reason: rejected };
  const replayDone = cursor.replay !== null && gap.toSeq >= cursor.replay.toSeq;
  // A screen hydrated from nothing has lost nothing it ever showed when history older than
  // the replay is cut: the replay (or the repaint) that follows is the whole story.
  const freshPrefix = cursor.lastSeq === 0 && cursor.replay !== null && gap.toSeq < cursor.replay.fromSeq;
  return {
    accepted: true,
    notice: freshPrefix ? null : gapNotice(gap.fromSeq, gap.toSeq, gap.reason),
    cursor: {
      ...cursor,
      lastSeq: Math.max(cursor.lastSeq, gap.toSeq),
      replay: replayDone ? null : cursor.replay,
    },
  };
}

/**
 * The line written into the terminal for a gap, or `null` for the cut at the start of a
 * bounded replay: that one is expected (the screen arrives as a repaint) and not a loss.
 */
export function gapNotice(fromSeq: number, toSeq: number, reason: GapReason): string | null {
  switch (reason) {
    case 'replay_budget_exceeded':
      return null;
    case 'replay_window_exceeded':
      return `[output gap ${fromSeq}-${toSeq}: reconnect window exceeded]`;
    case 'queue_overflow':
      return `[output gap ${fromSeq}-${toSeq}: slow link backlog]`;
    default:
      return `[output gap ${fromSeq}-${toSeq}]`;
  }
}
