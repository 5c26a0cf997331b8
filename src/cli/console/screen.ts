/**
 * Where the console writes: on a terminal, lines scroll above a block of status lines (transfer
 * progress) and the prompt, which are drawn again below each new line while the user types; on a
 * pipe, only the lines.
 */
import type { Interface } from 'node:readline';
import { human, type HumanText } from '../output.ts';
import { eraseConsoleArea, writeHuman } from '../terminal.ts';

export interface ConsoleScreen {
  /** One or more lines, above the status lines and the prompt. */
  print(text: HumanText): void;
  setPrompt(prompt: HumanText): void;
  /** Shows (or, with undefined, removes) the status line under `key`. */
  setStatus(key: string, text: HumanText | undefined): void;
  /** Nothing is drawn any more (readline is closed). */
  close(): void;
}

/** Piped output: the lines only, no prompt and no progress. */
export class PipedScreen implements ConsoleScreen {
  print(text: HumanText): void {
    writeHuman('stdout', text);
  }

  setPrompt(): void {}
  setStatus(): void {}
  close(): void {}
}

export class TerminalScreen implements ConsoleScreen {
  private readonly lines: Interface;
  private readonly columns: () => number;
  private readonly status = new Map<string, HumanText>();
  /** Terminal rows the status lines take now, above the prompt. */
  private statusRows = 0;
  /** Once readline is closed (Ctrl-D, /quit) there is no prompt; status lines still show. */
  private prompting = true;
  /** None until the first setPrompt(): readline's own `> ` is never shown. */
  private prompt: HumanText | undefined;
  private closed = false;

  constructor(lines: Interface, columns: () => number) {
    this.lines = lines;
    this.columns = columns;
    lines.once('close', () => { this.prompting = false; });
    lines.on('line', (typed: string) => this.submitted(typed));
  }

  print(text: HumanText): void {
    this.redraw(text);
  }

  setPrompt(prompt: HumanText): void {
    if (!this.prompting) return;
    this.prompt = prompt;
    this.lines.setPrompt(prompt.text);
    this.redraw();
  }

  setStatus(key: string, text: HumanText | undefined): void {
    if (text) this.status.set(key, text);
    else if (!this.status.delete(key)) return;
    this.redraw();
  }

  close(): void {
    if (this.closed) return;
    this.status.clear();
    this.erase();
    this.closed = true;
  }

  private redraw(above?: HumanText): void {
    if (this.closed) {
      if (above) writeHuman('stdout', above);
      return;
    }
    this.erase();
    if (above) writeHuman('stdout', above);
    this.drawStatusAndPrompt();
  }

  /**
   * Enter moved the cursor below the line just typed, under the status lines: that line goes up
   * above them, as part of the transcript, and they are drawn again under it.
   */
  private submitted(typed: string): void {
    if (this.statusRows === 0 || this.closed) return;
    const rows = this.rowsOf((this.prompt?.text.length ?? 0) + typed.length);
    eraseConsoleArea(this.statusRows + rows);
    this.statusRows = 0;
    writeHuman('stdout', human`${this.prompt ?? ''}${typed}`);
    this.drawStatusAndPrompt();
  }

  private drawStatusAndPrompt(): void {
    for (const line of this.status.values()) {
      writeHuman('stdout', line);
      this.statusRows += this.rowsOf(line.text.length);
    }
    // `true`: what the user has typed so far stays, with the cursor where it was.
    if (this.prompting && this.prompt) this.lines.prompt(true);
  }

  /** Terminal rows a line of `length` characters takes. */
  private rowsOf(length: number): number {
    return Math.max(1, Math.ceil(length / Math.max(this.columns(), 1)));
  }

  /** Clears the status lines and the prompt; the cursor is then where the first status line was. */
  private erase(): void {
    // The prompt may wrap onto several rows; readline knows on which of them the cursor is.
    eraseConsoleArea(this.statusRows + (this.prompting && this.prompt ? this.lines.getCursorPos().rows : 0));
    this.statusRows = 0;
  }
}
