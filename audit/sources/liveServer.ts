// Reading a running Lectern: GET /admin/runtime (admin token) for the effective config, and GET / for
// the headers a browser actually receives (CSP, HSTS), which no config file can vouch for.
import { Value } from '@sinclair/typebox/value';
import { AdminRuntimeSchema, type AdminRuntime } from './adminRuntime.js';

/** Path of the admin runtime endpoint on a Lectern server. */
export const ADMIN_RUNTIME_PATH = '/admin/runtime';

/** What a live server told us. */
export interface LiveServer {
  url: string;
  runtime: AdminRuntime;
  /** Headers of the page at `/`, lower-cased names; null when the page could not be fetched. */
  pageHeaders: { csp: string | null; hsts: string | null } | null;
}

/** Thrown when the server cannot be read or answers something that is not the runtime schema. */
export class LiveServerError extends Error {
  override readonly name = 'LiveServerError';
}

/** Fetch and validate a live server's runtime description and page headers. */
export async function readLiveServer(url: string, adminToken: string, timeoutMs = 10_000): Promise<LiveServer> {
  const base = url.replace(/\/+$/, '');
  let response: Response;
  try {
    response = await fetch(`${base}${ADMIN_RUNTIME_PATH}`, {
      headers: { authorization: `Bearer ${adminToken}`, accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new LiveServerError(`cannot reach ${base}${ADMIN_RUNTIME_PATH}: ${(err as Error).message}`);
  }
  if (!response.ok) throw new LiveServerError(`${base}${ADMIN_RUNTIME_PATH} answered HTTP ${response.status}`);
  const body: unknown = await response.json().catch(() => undefined);
  if (!Value.Check(AdminRuntimeSchema, body)) {
    const problems = [...Value.Errors(AdminRuntimeSchema, body)].slice(0, 5).map((e) => `${e.path || '/'}: ${e.message}`);
    throw new LiveServerError(`${base}${ADMIN_RUNTIME_PATH} does not match audit/sources/adminRuntime.ts: ${problems.join('; ')}`);
  }
  let pageHeaders: LiveServer['pageHeaders'] = null;
  try {
    const page = await fetch(`${base}/`, { signal: AbortSignal.timeout(timeoutMs) });
    pageHeaders = { csp: page.headers.get('content-security-policy'), hsts: page.headers.get('strict-transport-security') };
    await page.body?.cancel();
  } catch {
    pageHeaders = null; // reported by the CSP check as "could not read the page"
  }
  return { url: base, runtime: body, pageHeaders };
}
