// The page a person sees when a launch is refused: inside the LMS's frame, in plain words, with
// what to do next. The code is on the page too (data-lti-error) so support and tests can tell
// refusals apart without parsing sentences.
import type { LtiErrorCode } from './LtiError.js';

const ADVICE: Partial<Record<LtiErrorCode, string>> = {
  state_missing:
    'Your browser did not send back the cookie Lectern set when this launch started. Browsers that block cookies in embedded pages do this, ' +
    'and so does a launch that took more than ten minutes or was finished in another browser. Open the activity in a new window ' +
    '(or allow cookies for this site) and try again.',
  invalid_token: 'Open the activity from your course page again. If this keeps happening, tell your LMS administrator.',
  replayed: 'Each launch can be used once. Open the activity from your course page again.',
  unknown_platform: 'Your LMS administrator needs to register this LMS with Lectern (README: "Open a class from your LMS").',
  unknown_deployment: 'Your LMS administrator needs to add this deployment ID to Lectern’s registration for the LMS.',
  platform_unreachable: 'This is usually brief. Try again in a minute.',
};

/** A complete HTML page for a refused LTI request. */
export function refusalPage(code: LtiErrorCode, message: string): string {
  const advice = ADVICE[code];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lectern: the class could not be opened</title>
<link rel="stylesheet" href="/assets/styles.css">
</head>
<body>
<main class="panel" data-lti-error="${escapeHtml(code)}">
<h1>The class could not be opened</h1>
<p id="lti-error-message">${escapeHtml(capitalise(message))}.</p>
${advice ? `<p>${escapeHtml(advice)}</p>` : ''}
<p class="hint">Reason code: <code>${escapeHtml(code)}</code></p>
</main>
</body>
</html>
`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Escape text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

/** The Deep Linking answer: a button that posts the signed item back to the LMS (no script needed). */
export function deepLinkingPage(returnUrl: URL, jwt: string, title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lectern: add a class</title>
<link rel="stylesheet" href="/assets/styles.css">
</head>
<body>
<main class="panel">
<h1>Add a Lectern class to this course</h1>
<p>The course gets an activity <strong>${escapeHtml(title)}</strong>. Everyone who opens it joins the same class; its instructors and teaching assistants teach it.</p>
<form method="post" action="${escapeHtml(returnUrl.href)}">
<input type="hidden" name="JWT" value="${escapeHtml(jwt)}">
<button type="submit">Add this class to the course</button>
</form>
</main>
</body>
</html>
`;
}
