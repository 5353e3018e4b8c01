import { describe, expect, it } from 'vitest';

import {
  beginAttach,
  checkTag,
  EMPTY_CURSOR,
  gapNotice,
  onAttachReady,
  onGap,
  onOutput,
  type AttachCursor,
} from '../src/attach-stream';
import type { AttachReadyMessage, GapReason } from '../src/protocol';

const STREAM = 'stream-1';

function ready(attachRequestId: string, fields: Partial<AttachReadyMessage>): AttachReadyMessage {
  return {
    type: 'terminal.attach.ready',
    terminalId: 't1',
    streamId: STREAM,
    headSeq: 0,
    replayFromSeq: 1,
    replayToSeq: 0,
    attachRequestId,
    ...fields,
  };
}

function frame(attachRequestId: string | undefined, seq: number, streamId = STREAM) {
  return { attachRequestId, streamId, seqStart: seq, seqEnd: seq };
}

function gap(attachRequestId: string, fromSeq: number, toSeq: number, reason: GapReason) {
  return { attachRequestId, streamId: STREAM, fromSeq, toSeq, reason };
}

/** Attaches from `sinceSeq` and accepts attach.ready with the given fields. */
function attached(id: string, sinceSeq: number, fields: Partial<AttachReadyMessage>, from: AttachCursor = EMPTY_CURSOR) {
  const outcome = onAttachReady(beginAttach(from, id, sinceSeq), ready(id, fields));
  if (!outcome.accepted) throw new Error('attach.ready was not accepted');
  return outcome;
}

/** Feeds frames in order; returns the seqs that were applied. */
function applied(cursor: AttachCursor, frames: ReturnType<typeof frame>[]): { seqs: number[]; cursor: AttachCursor } {
  const seqs: number[] = [];
  for (const f of frames) {
    const outcome = onOutput(cursor, f);
    if (outcome.accepted) {
      cursor = outcome.cursor;
      seqs.push(f.seqStart);
    }
  }
  return { seqs, cursor };
}

describe('a fresh page hydrating from seq 0', () => {
  it('applies the replayed history, then live frames, in seq order', () => {
    const { cursor } = attached('p:1:a', 0, { headSeq: 3, replayFromSeq: 1, replayToSeq: 3, requestedSinceSeq: 0, effectiveSinceSeq: 0 });
    expect(cursor.replay).toEqual({ fromSeq: 1, toSeq: 3 });
    const result = applied(cursor, [frame('p:1:a', 1), frame('p:1:a', 2), frame('p:1:a', 3), frame('p:1:a', 4)]);
    expect(result.seqs).toEqual([1, 2, 3, 4]);
    expect(result.cursor.lastSeq).toBe(4);
    expect(result.cursor.replay).toBeNull();
  });

  it('writes the one repaint frame that stands in for history over the budget', () => {
    // attach.ready: replayFromSeq == P; gap 1..P-1 (budget); one replay frame at P.
    let { cursor } = attached('p:1:a', 0, { headSeq: 900, replayFromSeq: 900, replayToSeq: 900 });
    const cut = onGap(cursor, gap('p:1:a', 1, 899, 'replay_budget_exceeded'));
    expect(cut.accepted && cut.notice).toBe(null);
    if (!cut.accepted) throw new Error('gap rejected');
    cursor = cut.cursor;
    const result = applied(cursor, [frame('p:1:a', 900), frame('p:1:a', 901)]);
    expect(result.seqs).toEqual([900, 901]);
  });

  it('drops a frame repeated at or below the last applied seq', () => {
    const { cursor } = attached('p:1:a', 0, { headSeq: 2, replayFromSeq: 1, replayToSeq: 2 });
    const result = applied(cursor, [frame('p:1:a', 1), frame('p:1:a', 2), frame('p:1:a', 2), frame('p:1:a', 1), frame('p:1:a', 3)]);
    expect(result.seqs).toEqual([1, 2, 3]);
  });

  it('with nothing to replay, is at the head at once', () => {
    const { cursor } = attached('p:1:a', 0, { headSeq: 7, replayFromSeq: 8, replayToSeq: 7 });
    expect(cursor.replay).toBeNull();
    expect(cursor.lastSeq).toBe(7);
    expect(applied(cursor, [frame('p:1:a', 7), frame('p:1:a', 8)]).seqs).toEqual([8]);
  });
});

describe('attachRequestId generations', () => {
  it('drops untagged, foreign and older-generation frames', () => {
    const first = attached('p:1:a', 0, { headSeq: 0 }).cursor;
    const second = attached('p:2:b', first.lastSeq, { headSeq: 0 }, first).cursor;
    const result = applied(second, [frame(undefined, 1), frame('p:1:a', 1), frame('other:1:c', 1), frame('p:2:b', 1)]);
    expect(result.seqs).toEqual([1]);
  });

  it('ignores an attach.ready for an older attach, and output before our attach.ready', () => {
    const pending = beginAttach(EMPTY_CURSOR, 'p:2:b', 0);
    expect(onAttachReady(pending, ready('p:1:a', {})).accepted).toBe(false);
    expect(onOutput(pending, frame('p:2:b', 1))).toEqual({ accepted: false, reason: 'before_ready' });
  });

  it('drops frames of another stream', () => {
    const { cursor } = attached('p:1:a', 0, { headSeq: 0 });
    expect(onOutput(cursor, frame('p:1:a', 1, 'stream-2'))).toEqual({ accepted: false, reason: 'foreign_stream' });
    expect(checkTag(cursor, { attachRequestId: 'p:1:a', streamId: STREAM })).toBeNull();
  });
});

describe('a reconnect that keeps the screen', () => {
  const live = applied(attached('p:1:a', 0, { headSeq: 5, replayFromSeq: 1, replayToSeq: 5 }).cursor, [
    frame('p:1:a', 1),
    frame('p:1:a', 2),
    frame('p:1:a', 3),
    frame('p:1:a', 4),
    frame('p:1:a', 5),
  ]).cursor;

  it('resumes after the last applied seq without clearing', () => {
    const outcome = attached('p:2:b', live.lastSeq, {
      headSeq: 8,
      replayFromSeq: 6,
      replayToSeq: 8,
      requestedSinceSeq: 5,
      effectiveSinceSeq: 5,
    }, live);
    expect(outcome.clearScreen).toBe(false);
    expect(applied(outcome.cursor, [frame('p:2:b', 6), frame('p:2:b', 7), frame('p:2:b', 8)]).seqs).toEqual([6, 7, 8]);
  });

  it('clears the screen when the daemon replays from earlier than asked', () => {
    const outcome = attached('p:2:b', live.lastSeq, {
      headSeq: 8,
      replayFromSeq: 1,
      replayToSeq: 8,
      requestedSinceSeq: 5,
      effectiveSinceSeq: 0,
    }, live);
    expect(outcome.clearScreen).toBe(true);
    expect(outcome.cursor.lastSeq).toBe(0);
    expect(applied(outcome.cursor, [1, 2, 3, 4, 5, 6, 7, 8].map((s) => frame('p:2:b', s))).seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('accepts a repaint inside the replay window even at an already-seen seq', () => {
    // The daemon may answer a resume with one frame that repaints the screen as of seq P.
    const outcome = attached('p:2:b', live.lastSeq, { headSeq: 5, replayFromSeq: 5, replayToSeq: 5, requestedSinceSeq: 5, effectiveSinceSeq: 5 }, live);
    expect(applied(outcome.cursor, [frame('p:2:b', 5), frame('p:2:b', 5)]).seqs).toEqual([5]);
  });

  it('moves past a gap and says so in the terminal', () => {
    const outcome = attached('p:2:b', live.lastSeq, { headSeq: 50, replayFromSeq: 40, replayToSeq: 50, requestedSinceSeq: 5, effectiveSinceSeq: 5 }, live);
    const g = onGap(outcome.cursor, gap('p:2:b', 6, 39, 'replay_window_exceeded'));
    if (!g.accepted) throw new Error('gap rejected');
    expect(g.notice).toBe('[output gap 6-39: reconnect window exceeded]');
    expect(g.cursor.lastSeq).toBe(39);
    expect(g.cursor.replay).toEqual({ fromSeq: 40, toSeq: 50 });
    expect(applied(g.cursor, [frame('p:2:b', 39), frame('p:2:b', 40)]).seqs).toEqual([40]);
  });
});

describe('gaps', () => {
  it('a live backlog gap is shown; a budget cut is not', () => {
    expect(gapNotice(10, 20, 'queue_overflow')).toBe('[output gap 10-20: slow link backlog]');
    expect(gapNotice(1, 9, 'replay_budget_exceeded')).toBeNull();
  });

  it('a fresh screen does not report history it never had', () => {
    const { cursor } = attached('p:1:a', 0, { headSeq: 100, replayFromSeq: 100, replayToSeq: 100 });
    const g = onGap(cursor, gap('p:1:a', 1, 99, 'replay_window_exceeded'));
    expect(g.accepted && g.notice).toBeNull();
  });

  it('a gap for another attach is ignored', () => {
    const { cursor } = attached('p:1:a', 0, { headSeq: 0 });
    expect(onGap(cursor, gap('p:0:z', 1, 5, 'queue_overflow'))).toEqual({ accepted: false, reason: 'foreign_attach' });
  });

  it('a gap that covers the end of the replay window closes it', () => {
    const { cursor } = attached('p:1:a', 0, { headSeq: 10, replayFromSeq: 1, replayToSeq: 10 });
    const g = onGap(cursor, gap('p:1:a', 1, 10, 'queue_overflow'));
    if (!g.accepted) throw new Error('gap rejected');
    expect(g.cursor.replay).toBeNull();
    expect(g.cursor.lastSeq).toBe(10);
  });
});
