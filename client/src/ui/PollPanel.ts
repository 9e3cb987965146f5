// The poll side panel: an instructor's composer and live results (close, share, export CSV), and
// everyone's poll card. The card says plainly, before anyone answers, whether the poll is
// anonymous or named: that is the promise the server keeps (see server/rooms/Polls.ts).
import type { PollInfo, PollResults } from '../../../protocol/index.js';
import type { RoomClient } from '../RoomClient.js';
import { $, setStatus } from './dom.js';

export const ANONYMOUS_NOTICE = 'Anonymous: your name is not stored with your answer.';
export const NAMED_NOTICE = 'Named poll: the instructor will see your name.';

/** Polls as one participant sees them. */
export class PollPanel {
  #client: RoomClient | undefined;
  #canPoll = false;
  #poll: PollInfo | undefined;
  #results: PollResults | undefined;
  readonly #answered = new Set<string>();
  #tick: ReturnType<typeof setInterval> | undefined;

  /** Wire the controls once in the class; notifications that came earlier are shown now. */
  start(client: RoomClient, canPoll: boolean): void {
    this.#client = client;
    this.#canPoll = canPoll;
    $('poll-panel').hidden = !canPoll && !this.#poll;
    $('poll-composer-box').hidden = !canPoll;
    $<HTMLFormElement>('poll-composer').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#openPoll();
    });
    $('poll-new-kind').addEventListener('change', () => this.#showOptionsField());
    this.#showOptionsField();
    $<HTMLFormElement>('poll-card').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#answer();
    });
    $('poll-close').addEventListener('click', () => this.#act((id) => client.call('closePoll', { pollId: id }).then((r) => this.results(r))));
    $('poll-share').addEventListener('click', () => this.#act((id) => client.call('sharePollResults', { pollId: id })));
    $('poll-export').addEventListener('click', () => this.#act((id) => client.call('exportPoll', { pollId: id }).then(download)));
    if (this.#poll) this.opened(this.#poll);
    if (this.#results) this.results(this.#results);
  }

  /** A poll was opened (or was open when we joined). */
  opened(poll: PollInfo): void {
    this.#poll = poll;
    this.#results = undefined;
    if (!this.#client) return;
    $('poll-panel').hidden = false;
    $('poll-question').textContent = poll.question;
    $('poll-privacy').textContent = poll.named ? NAMED_NOTICE : ANONYMOUS_NOTICE;
    $('poll-results').hidden = true;
    this.#renderAnswerField(poll);
    const answered = this.#answered.has(poll.id);
    $<HTMLButtonElement>('poll-submit').disabled = answered || !poll.open;
    $('poll-thanks').hidden = !answered;
    $('poll-card').hidden = false;
    this.#startCountdown(poll);
    setStatus(`New poll: ${poll.question}`);
  }

  /** The poll stopped taking answers. */
  closed(pollId: string): void {
    if (this.#poll?.id !== pollId) return;
    this.#poll = { ...this.#poll, open: false };
    clearInterval(this.#tick);
    if (!this.#client) return;
    $<HTMLButtonElement>('poll-submit').disabled = true;
    $('poll-closes').textContent = 'This poll is closed.';
  }

  /** Results: live for instructors, or shared by one. */
  results(results: PollResults): void {
    this.#results = results;
    const poll = this.#poll;
    if (!this.#client || !poll || poll.id !== results.pollId) return;
    $('poll-results').hidden = false;
    $('poll-answered').textContent = `${results.answered} answered${results.open ? '' : ' (closed)'}${results.shared ? ', shared with the class' : ''}`;
    const total = results.answered || 1;
    $('poll-counts').replaceChildren(
      ...poll.options.map((option, i) => {
        const count = results.counts[i] ?? 0;
        return item(`${option}: ${count} (${Math.round((100 * count) / total)}%)`);
      }),
    );
    $('poll-texts').replaceChildren(...results.texts.map((text) => item(text)));
    $('poll-responses').replaceChildren(...(results.responses ?? []).map((r) => item(`${r.displayName}: ${r.answer}`)));
    $('poll-actions').hidden = !this.#canPoll;
    $<HTMLButtonElement>('poll-close').hidden = !results.open;
    $<HTMLButtonElement>('poll-share').hidden = results.shared;
  }

  /** Stop the countdown (leaving). */
  stop(): void {
    clearInterval(this.#tick);
  }

  async #openPoll(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    const kind = $<HTMLSelectElement>('poll-new-kind').value as PollInfo['kind'];
    const question = $<HTMLInputElement>('poll-new-question').value.trim();
    const options = $<HTMLTextAreaElement>('poll-new-options')
      .value.split('\n')
      .map((o) => o.trim())
      .filter(Boolean);
    const limit = Number($<HTMLInputElement>('poll-new-limit').value);
    const named = $<HTMLInputElement>('poll-new-named').checked;
    try {
      await client.call('openPoll', {
        question,
        kind,
        ...(kind === 'single' || kind === 'multiple' ? { options } : {}),
        ...(limit > 0 ? { timeLimitSeconds: Math.round(limit) } : {}),
        named,
      });
      $<HTMLFormElement>('poll-composer').reset();
      this.#showOptionsField();
      ($('poll-composer-box') as HTMLDetailsElement).open = false;
    } catch (error) {
      setStatus((error as Error).message);
    }
  }

  async #answer(): Promise<void> {
    const client = this.#client;
    const poll = this.#poll;
    if (!client || !poll || this.#answered.has(poll.id)) return;
    const form = $('poll-answer');
    try {
      if (poll.kind === 'text') {
        const text = form.querySelector<HTMLInputElement>('input')?.value.trim() ?? '';
        if (!text) return setStatus('Write an answer first.');
        await client.call('answerPoll', { pollId: poll.id, text });
      } else {
        const choices = [...form.querySelectorAll<HTMLInputElement>('input:checked')].map((input) => Number(input.value));
        if (choices.length === 0) return setStatus('Choose an answer first.');
        await client.call('answerPoll', { pollId: poll.id, choices });
      }
      this.#answered.add(poll.id);
      $<HTMLButtonElement>('poll-submit').disabled = true;
      $('poll-thanks').hidden = false;
      setStatus('Your answer was recorded.');
    } catch (error) {
      setStatus((error as Error).message);
    }
  }

  #renderAnswerField(poll: PollInfo): void {
    const area = $('poll-answer');
    if (poll.kind === 'text') {
      const label = document.createElement('label');
      label.htmlFor = 'poll-text';
      label.textContent = 'Your answer';
      const input = document.createElement('input');
      input.id = 'poll-text';
      input.maxLength = 500;
      input.autocomplete = 'off';
      area.replaceChildren(label, input);
      return;
    }
    const fieldset = document.createElement('fieldset');
    const legend = document.createElement('legend');
    legend.textContent = poll.kind === 'multiple' ? 'Choose one or more' : 'Choose one';
    fieldset.append(legend);
    poll.options.forEach((option, i) => {
      const label = document.createElement('label');
      label.htmlFor = `poll-choice-${i}`;
      const input = document.createElement('input');
      input.type = poll.kind === 'multiple' ? 'checkbox' : 'radio';
      input.name = 'poll-choice';
      input.id = `poll-choice-${i}`;
      input.value = String(i);
      label.append(input, ` ${option}`);
      fieldset.append(label);
    });
    area.replaceChildren(fieldset);
  }

  #startCountdown(poll: PollInfo): void {
    clearInterval(this.#tick);
    const closes = $('poll-closes');
    if (poll.closesAt === null || !poll.open) {
      closes.textContent = poll.open ? '' : 'This poll is closed.';
      return;
    }
    const closesAt = poll.closesAt;
    const show = () => {
      const left = Math.max(0, Math.ceil((closesAt - Date.now()) / 1000));
      closes.textContent = `Closes in ${left} s`;
    };
    show();
    this.#tick = setInterval(show, 1000);
  }

  #showOptionsField(): void {
    const kind = $<HTMLSelectElement>('poll-new-kind').value;
    const choice = kind === 'single' || kind === 'multiple';
    $('poll-new-options').hidden = !choice;
    ($('poll-new-options').previousElementSibling as HTMLElement).hidden = !choice;
  }

  #act(run: (pollId: string) => Promise<unknown>): void {
    const poll = this.#poll;
    if (poll) run(poll.id).catch((error: Error) => setStatus(error.message));
  }
}

function item(text: string): HTMLLIElement {
  const li = document.createElement('li');
  li.textContent = text; // never HTML: answers are what students typed
  return li;
}

/** Save the CSV the server made (already escaped against formula injection). */
function download({ filename, csv }: { filename: string; csv: string }): void {
  const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  setStatus(`Exported ${filename}`);
}
