/**
 * Find in the terminal (`@xterm/addon-search`): Ctrl+Shift+F opens a bar over the terminal;
 * typing searches as you type, Enter finds the next match, Shift+Enter the previous, Escape
 * closes. Every match in the scrollback is highlighted, the active one is selected, and the
 * view scrolls to it.
 *
 * Why not the browser's Ctrl+F: it searches the page's DOM, where the WebGL renderer draws
 * nothing and the DOM renderer shows only the visible rows — never the scrollback.
 */

import { SearchAddon, type ISearchOptions } from '@xterm/addon-search';
import type { Terminal } from '@xterm/xterm';

import { h } from './dom';

const DECORATIONS: ISearchOptions['decorations'] = {
  matchBackground: '#3b4a5e',
  matchOverviewRuler: '#5aa9e6',
  activeMatchBackground: '#b58b2a',
  activeMatchColorOverviewRuler: '#f0c674',
};

export class SearchBar {
  readonly element: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly count: HTMLElement;
  private readonly addon = new SearchAddon();

  constructor(private readonly terminal: Terminal) {
    this.input = h('input', {
      type: 'search',
      class: 'search-input',
      placeholder: 'Find in terminal',
      'aria-label': 'Find in terminal',
      spellcheck: 'false',
      autocomplete: 'off',
    });
    this.count = h('span', { class: 'search-count', 'aria-live': 'polite' });
    this.element = h(
      'div',
      { class: 'search-bar', role: 'search', hidden: true },
      this.input,
      this.count,
      h('button', { type: 'button', class: 'icon', title: 'Previous match (Shift+Enter)', onclick: () => this.find('previous') }, '↑'),
      h('button', { type: 'button', class: 'icon', title: 'Next match (Enter)', onclick: () => this.find('next') }, '↓'),
      h('button', { type: 'button', class: 'icon', title: 'Close (Escape)', onclick: () => this.close() }, '×'),
    );
    this.input.addEventListener('input', () => this.find('next', true));
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        this.find(event.shiftKey ? 'previous' : 'next');
      } else if (event.key === 'Escape') {
        event.preventDefault();
        this.close();
      }
    });
  }

  /** Call once the terminal is open. */
  mount(): void {
    this.terminal.loadAddon(this.addon);
    this.addon.onDidChangeResults(({ resultIndex, resultCount }) => {
      this.count.textContent =
        resultCount === 0 ? 'no match' : resultIndex < 0 ? `${resultCount}+ matches` : `${resultIndex + 1} of ${resultCount}`;
      this.element.dataset.results = String(resultCount);
    });
  }

  get isOpen(): boolean {
    return !this.element.hidden;
  }

  open(): void {
    this.element.hidden = false;
    const selected = this.terminal.getSelection();
    if (selected !== '' && !selected.includes('\n')) this.input.value = selected;
    this.input.focus();
    this.input.select();
  }

  close(): void {
    this.element.hidden = true;
    this.addon.clearDecorations();
    this.count.textContent = '';
    delete this.element.dataset.results;
    this.terminal.focus();
  }

  private find(direction: 'next' | 'previous', incremental = false): void {
    const term = this.input.value;
    if (term === '') {
      this.addon.clearDecorations();
      this.count.textContent = '';
      return;
    }
    const options: ISearchOptions = { decorations: DECORATIONS, incremental };
    if (direction === 'next') this.addon.findNext(term, options);
    else this.addon.findPrevious(term, options);
  }
}
