// Small DOM helpers shared by the views.

/** The element with this id; a missing one is a bug in index.html, so fail loudly. */
export function $<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`page is missing #${id}`);
  return element as T;
}

/** Put a short message in the header's status line (announced to screen readers). */
export function setStatus(text: string): void {
  $('status').textContent = text;
}

/** A button with a visible label and a fuller accessible name. */
export function button(accessibleName: string, label: string, onClick: () => unknown): HTMLButtonElement {
  const element = document.createElement('button');
  element.type = 'button';
  element.textContent = label;
  element.setAttribute('aria-label', accessibleName);
  element.addEventListener('click', () => {
    Promise.resolve()
      .then(onClick)
      .catch((error: Error) => setStatus(error.message));
  });
  return element;
}
