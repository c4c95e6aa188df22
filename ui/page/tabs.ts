/**
 * The page's two tabs, following the WAI-ARIA tabs pattern: one tab stop for the tab list, Left/Right
 * (and Home/End) move between tabs and select them, each tab shows its panel (aria-controls).
 */

/** Wires `tabs` (buttons with role=tab and aria-controls) so exactly one is selected. */
export function wireTabs(tabs: readonly HTMLButtonElement[]): void {
  const select = (chosen: HTMLButtonElement, focus: boolean): void => {
    for (const tab of tabs) {
      const selected = tab === chosen;
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
      const panel = document.getElementById(tab.getAttribute('aria-controls') ?? '');
      if (panel !== null) panel.hidden = !selected;
    }
    if (focus) chosen.focus();
  };
  tabs.forEach((tab, index) => {
    tab.addEventListener('click', () => select(tab, false));
    tab.addEventListener('keydown', (event) => {
      const last = tabs.length - 1;
      const target = event.key === 'ArrowRight' ? (index === last ? 0 : index + 1) : event.key === 'ArrowLeft' ? (index === 0 ? last : index - 1) : event.key === 'Home' ? 0 : event.key === 'End' ? last : undefined;
      const next = target === undefined ? undefined : tabs[target];
      if (next === undefined) return;
      event.preventDefault();
      select(next, true);
    });
  });
}
