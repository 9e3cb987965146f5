/**
 * Web storage, or undefined where the browser denies it: framed in an LMS on another site, browsers
 * that block third-party storage throw on the mere access. The class then works without it (a
 * reload asks for the name again and needs a fresh launch).
 */
export function storage(kind: 'localStorage' | 'sessionStorage'): Storage | undefined {
  try {
    return window[kind];
  } catch {
    return undefined;
  }
}
