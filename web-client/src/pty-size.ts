/**
 * Which size the session's one PTY has, and whether this page is the viewer that sets it.
 *
 * Many pages can watch one PTY, and the daemon's size policy (`latest` by default: the viewer
 * that typed last) picks whose window it takes. A page that does not drive the size must draw
 * the terminal at the PTY's size — at its own, every line the program wraps or positions would
 * land wrong. The freshell protocol carries no size, so the page asks the daemon's
 * `GET /ptyhub/api/sessions/{id}/size`, a long poll: `?changedFrom=COLSxROWS` answers as soon
 * as the size is not that one (or after 25 s with the same).
 *
 * The follower asks plainly once, then always "tell me when it is not what I believe". After this page sends its
 * window size while it drives, it believes the PTY took it: if not (someone else typed in the
 * meantime), the answer comes at once and the page learns it does not drive after all.
 */

export interface Size {
  cols: number;
  rows: number;
}

export interface PtySize extends Size {
  /** `latest`, `largest`, `smallest` or `manual` (`[sessions] size_policy`). */
  sizePolicy: string;
}

export function sameSize(a: Size | null, b: Size | null): boolean {
  return a !== null && b !== null && a.cols === b.cols && a.rows === b.rows;
}

/** Whether "use this window's size" can change anything under `policy`. */
export function policyLetsAViewerTakeTheSize(policy: string): boolean {
  return policy === 'latest' || policy === 'manual';
}

export type SizeOutcome =
  | { kind: 'size'; size: PtySize }
  /** No running terminal (it exited) or the token was refused: asking again cannot help. */
  | { kind: 'gone' }
  /** The daemon could not be reached (restarting, network): ask again later. */
  | { kind: 'retry' };

export async function fetchPtySize(
  terminalId: string,
  token: string,
  changedFrom: Size | null,
  signal: AbortSignal,
  fetchImpl: typeof fetch = fetch,
): Promise<SizeOutcome> {
  const query = changedFrom === null ? '' : `?changedFrom=${changedFrom.cols}x${changedFrom.rows}`;
  let response: Response;
  try {
    response = await fetchImpl(`/ptyhub/api/sessions/${encodeURIComponent(terminalId)}/size${query}`, {
      headers: { Authorization: `Bearer ${token}` },
      cache: 'no-store',
      signal,
    });
  } catch {
    return { kind: 'retry' };
  }
  if (response.status === 404 || response.status === 401 || response.status === 403) return { kind: 'gone' };
  if (!response.ok) return { kind: 'retry' };
  const body: unknown = await response.json().catch(() => null);
  return sizeFromApi(body) ?? { kind: 'retry' };
}

function sizeFromApi(body: unknown): SizeOutcome | null {
  if (typeof body !== 'object' || body === null) return null;
  const record = body as Record<string, unknown>;
  const { cols, rows, sizePolicy } = record;
  if (typeof cols !== 'number' || typeof rows !== 'number' || typeof sizePolicy !== 'string') return null;
  return { kind: 'size', size: { cols, rows, sizePolicy } };
}

/** Delays between attempts while the daemon cannot be reached (it may be upgrading). */
const RETRY_DELAYS_MS = [500, 1_000, 2_000, 5_000];

/** Follows one session's PTY size for as long as the page shows it. */
export class PtySizeFollower {
  private believed: Size | null = null;
  /** Whether the daemon has answered once: until then the follower asks plainly. */
  private answered = false;
  private request: AbortController | null = null;
  private running = false;
  private failures = 0;

  constructor(
    private readonly terminalId: string,
    private readonly token: () => string | null,
    private readonly onSize: (size: PtySize) => void,
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  stop(): void {
    this.running = false;
    this.request?.abort();
  }

  /** The page believes the PTY is `size` now: ask again from there. */
  expect(size: Size): void {
    this.believed = { cols: size.cols, rows: size.rows };
    this.request?.abort(); // the loop asks again with the new belief
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const token = this.token();
      if (token === null) return;
      const request = new AbortController();
      this.request = request;
      const asked = this.answered ? this.believed : null;
      const outcome = await fetchPtySize(this.terminalId, token, asked, request.signal, this.fetchImpl);
      if (!this.running) return;
      if (request.signal.aborted) continue; // a new belief: ask with it
      if (outcome.kind === 'gone') return;
      if (outcome.kind === 'retry') {
        const delay = RETRY_DELAYS_MS[Math.min(this.failures, RETRY_DELAYS_MS.length - 1)];
        this.failures += 1;
        await new Promise((resolve) => setTimeout(resolve, delay));
        continue;
      }
      this.failures = 0;
      this.answered = true;
      if (!sameSize(outcome.size, asked)) {
        this.believed = { cols: outcome.size.cols, rows: outcome.size.rows };
        this.onSize(outcome.size);
      }
    }
  }
}
