"use client";

export type StudioTab = "canvas" | "settings" | "history";

export const TAB_PANEL: Record<StudioTab, string> = {
  canvas: "studio-panel-canvas",
  settings: "studio-panel-settings",
  history: "studio-panel-history",
};

const TABS: Array<[StudioTab, string]> = [
  ["canvas", "Canvas"],
  ["settings", "Images & settings"],
  ["history", "History"],
];

/**
 * Below lg the room is one column: the canvas and Start first, the images and settings and the
 * history one tap away. From lg every panel shows at once and these tabs are hidden.
 */
export function StudioTabs({ tab, onTab, runs }: { tab: StudioTab; onTab: (t: StudioTab) => void; runs: number }) {
  return (
    <div
      role="tablist"
      aria-label="Studio panels"
      className="sticky top-0 z-10 -mx-4 mt-3 flex gap-1 border-b border-line bg-paper/95 px-4 py-2 backdrop-blur sm:-mx-5 sm:px-5 lg:hidden"
      onKeyDown={(e) => {
        // arrow keys move between tabs (the WAI-ARIA tabs pattern)
        const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
        if (!step) return;
        const at = TABS.findIndex(([id]) => id === tab);
        const next = TABS[(at + step + TABS.length) % TABS.length]![0];
        onTab(next);
        document.getElementById(`studio-tab-${next}`)?.focus();
      }}
    >
      {TABS.map(([id, label]) => (
        <button
          key={id}
          id={`studio-tab-${id}`}
          type="button"
          role="tab"
          aria-selected={tab === id}
          aria-controls={TAB_PANEL[id]}
          tabIndex={tab === id ? 0 : -1}
          className={`btn btn-sm min-w-0 flex-1 px-2 ${tab === id ? "btn-primary" : "btn-ghost"}`}
          data-testid={`tab-${id}`}
          onClick={() => onTab(id)}
        >
          {label}
          {id === "history" && runs > 0 ? ` (${runs})` : ""}
        </button>
      ))}
    </div>
  );
}
