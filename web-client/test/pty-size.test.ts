import { describe, expect, it } from 'vitest';

import { fetchPtySize, policyLetsAViewerTakeTheSize, PtySizeFollower, sameSize, type PtySize } from '../src/pty-size';

/** A daemon whose size answers are scripted: each request waits for the test to answer it. */
function scriptedDaemon() {
  const asked: { url: string; answer: (status: number, body?: unknown) => void; signal: AbortSignal }[] = [];
  const fetchImpl = ((url: string, init: RequestInit) =>
    new Promise<Response>((resolve, reject) => {
      const signal = init.signal as AbortSignal;
      signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      asked.push({
        url,
        signal,
        answer: (status, body) => resolve(new Response(body === undefined ? '' : JSON.stringify(body), { status })),
      });
    })) as typeof fetch;
  return { asked, fetchImpl };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('the PTY size follower', () => {
  it('asks once plainly, then only for a size unlike the one it knows', async () => {
    const daemon = scriptedDaemon();
    const seen: PtySize[] = [];
    const follower = new PtySizeFollower('t-1', () => 'tok', (size) => seen.push(size), daemon.fetchImpl);
    follower.start();
    await settle();
    expect(daemon.asked[0]!.url).toBe('/ptyhub/api/sessions/t-1/size');
    daemon.asked[0]!.answer(200, { cols: 120, rows: 40, sizePolicy: 'latest' });
    await settle();
    expect(seen).toEqual([{ cols: 120, rows: 40, sizePolicy: 'latest' }]);
    expect(daemon.asked[1]!.url).toBe('/ptyhub/api/sessions/t-1/size?changedFrom=120x40');
    // The long poll ran out with the same size: nothing new to report, and it asks again.
    daemon.asked[1]!.answer(200, { cols: 120, rows: 40, sizePolicy: 'latest' });
    await settle();
    expect(seen).toHaveLength(1);
    expect(daemon.asked[2]!.url).toBe('/ptyhub/api/sessions/t-1/size?changedFrom=120x40');
    follower.stop();
  });

  it('asks again from a new belief, and reports at once when the PTY did not take it', async () => {
    const daemon = scriptedDaemon();
    const seen: PtySize[] = [];
    const follower = new PtySizeFollower('t-1', () => 'tok', (size) => seen.push(size), daemon.fetchImpl);
    follower.start();
    await settle();
    daemon.asked[0]!.answer(200, { cols: 90, rows: 30, sizePolicy: 'latest' });
    await settle();
    follower.expect({ cols: 100, rows: 30 });
    await settle();
    expect(daemon.asked[1]!.signal.aborted).toBe(true);
    expect(daemon.asked[2]!.url).toBe('/ptyhub/api/sessions/t-1/size?changedFrom=100x30');
    daemon.asked[2]!.answer(200, { cols: 90, rows: 30, sizePolicy: 'latest' });
    await settle();
    expect(seen).toEqual([
      { cols: 90, rows: 30, sizePolicy: 'latest' },
      { cols: 90, rows: 30, sizePolicy: 'latest' },
    ]);
    follower.stop();
  });

  it('stops when the terminal is gone', async () => {
    const daemon = scriptedDaemon();
    const follower = new PtySizeFollower('t-1', () => 'tok', () => {}, daemon.fetchImpl);
    follower.start();
    await settle();
    daemon.asked[0]!.answer(404);
    await settle();
    await settle();
    expect(daemon.asked).toHaveLength(1);
  });
});

describe('sizes', () => {
  it('compares and reads answers', async () => {
    expect(sameSize({ cols: 1, rows: 2 }, { cols: 1, rows: 2 })).toBe(true);
    expect(sameSize({ cols: 1, rows: 2 }, null)).toBe(false);
    expect(policyLetsAViewerTakeTheSize('latest')).toBe(true);
    expect(policyLetsAViewerTakeTheSize('largest')).toBe(false);
    const garbled = (() => Promise.resolve(new Response('{"cols":"x"}', { status: 200 }))) as unknown as typeof fetch;
    expect(await fetchPtySize('t', 'tok', null, new AbortController().signal, garbled)).toEqual({ kind: 'retry' });
  });
});
