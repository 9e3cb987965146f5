// The control bar's "More" button: in a narrow window (or at 200 % zoom) the everyday controls
// (microphone, camera, hand, leave) stay in one row and the rest open below them on request. In a
// wide window the button is not shown and every control is in the bar (styles.css decides which).

/** Wire the "More" disclosure of the control bar. */
export function wireMoreControls(bar: HTMLElement, toggle: HTMLButtonElement): void {
  const show = (open: boolean) => {
    bar.classList.toggle('more-open', open);
    toggle.setAttribute('aria-expanded', String(open));
    toggle.textContent = open ? 'Less' : 'More';
  };
  toggle.addEventListener('click', () => show(!bar.classList.contains('more-open')));
}
