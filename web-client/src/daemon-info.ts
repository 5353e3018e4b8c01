/**
 * What the daemon says about this page's token and about itself (`GET /ptyhub/api/info`):
 * whether the token may type and start sessions, and which providers can start here.
 *
 * Why ask: the page cannot tell a full token from a read-only one by looking at it, and a
 * button that the daemon will refuse (a create on a read-only link, "New agent (claude)"
 * where claude is not installed) is worse than no button.
 */

import type { Access } from './token-store';

export interface StartableProvider {
  mode: string;
  title: string;
  resumable: boolean;
}

export interface DaemonInfo {
  access: Access;
  providers: StartableProvider[];
}

export type InfoOutcome = { ok: true; info: DaemonInfo } | { ok: false; unauthorized: boolean; message: string };

/** Reads the answer of `/ptyhub/api/info` field by field; `null` if it is not one. */
export function infoFromApi(value: unknown): DaemonInfo | null {
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  if (record.access !== 'full' && record.access !== 'read-only') return null;
  const providers = Array.isArray(record.providers) ? record.providers : [];
  return {
    access: record.access,
    providers: providers.flatMap((p: unknown) => {
      if (typeof p !== 'object' || p === null) return [];
      const provider = p as Record<string, unknown>;
      if (typeof provider.mode !== 'string') return [];
      return [
        {
          mode: provider.mode,
          title: typeof provider.title === 'string' ? provider.title : provider.mode,
          resumable: provider.resumable === true,
        },
      ];
    }),
  };
}

export async function fetchInfo(token: string, fetchImpl: typeof fetch = fetch): Promise<InfoOutcome> {
  let response: Response;
  try {
    response = await fetchImpl('/ptyhub/api/info', {
      headers: { Authorization: `Bearer ${token}` },
      cache: 'no-store',
    });
  } catch (err) {
    return { ok: false, unauthorized: false, message: `cannot reach the daemon (${String(err)})` };
  }
  if (response.status === 401) return { ok: false, unauthorized: true, message: 'the daemon refused the token' };
  if (!response.ok) return { ok: false, unauthorized: false, message: `GET /ptyhub/api/info answered ${response.status}` };
  const info = infoFromApi(await response.json().catch(() => null));
  return info === null
    ? { ok: false, unauthorized: false, message: 'GET /ptyhub/api/info did not answer what the page reads' }
    : { ok: true, info };
}

/** The label of a provider's start button: "New shell", "New Claude CLI". */
export function startLabel(provider: StartableProvider): string {
  return provider.mode === 'shell' ? 'New shell' : `New ${provider.title}`;
}
