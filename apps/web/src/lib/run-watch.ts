/*
 * What the browser tab says about the room's run, and when to tell the person a run ended:
 * pure decisions (run in, words out), so the tab title, the favicon dot and the notification
 * agree and are unit-tested. The React side (components/studio/use-run-watch.ts) only applies them.
 */
import { FINISHED_STATUSES, type RunInfo } from "@atelier/protocol";

type RunLike = Pick<RunInfo, "runId" | "status" | "iteration" | "iterations">;

export function isActive(run: Pick<RunInfo, "status"> | null): boolean {
  return run !== null && !FINISHED_STATUSES.includes(run.status);
}

/** Whole percent done; never 100 while the run still goes (the last iteration is not the end yet). */
export function percentDone(run: Pick<RunInfo, "iteration" | "iterations">): number {
  if (run.iterations <= 0) return 0;
  return Math.max(0, Math.min(99, Math.floor((run.iteration / run.iterations) * 100)));
}

const ENDED_WORD: Partial<Record<RunInfo["status"], string>> = {
  completed: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
  interrupted: "Interrupted",
};

/**
 * The tab title: "37 % · Room" while painting, "Queued · Room" while waiting, "Done · Room" (or
 * Failed, Cancelled…) once a run this page watched has ended, and the site's ordinary
 * "Room · Atelier" otherwise (a room reopened after its run ended has nothing new to say).
 */
export function roomTabTitle(roomName: string, run: RunLike | null, watchedEnd: boolean): string {
  const name = roomName.trim() || "Room";
  if (run?.status === "queued") return `Queued · ${name}`;
  if (run?.status === "running") return `${percentDone(run)} % · ${name}`;
  const ended = run && watchedEnd ? ENDED_WORD[run.status] : undefined;
  return ended ? `${ended} · ${name}` : `${name} · Atelier`;
}

/**
 * A run ended that this page saw going (the person started it or watched it): the notification
 * to show, or null. `previous` is the run as the page last knew it.
 */
export function runEndNotice(
  roomName: string,
  previous: RunLike | null,
  next: RunLike | null,
): { title: string; body: string } | null {
  if (!previous || !next || previous.runId !== next.runId) return null;
  if (!isActive(previous) || isActive(next)) return null;
  const name = roomName.trim() || "Your room";
  switch (next.status) {
    case "completed":
      return { title: `${name}: the painting is done`, body: `${next.iterations} iterations finished.` };
    case "failed":
      return { title: `${name}: the run failed`, body: "Open the room to see why." };
    default:
      return {
        title: `${name}: the run stopped`,
        body: `It ended at iteration ${next.iteration} of ${next.iterations}.`,
      };
  }
}

/** The site's icon with a dot in the corner, for "a run is going" in the tab (an SVG in, an SVG out). */
export function iconWithDot(svg: string, colour = "#2f9e5b"): string {
  const close = svg.lastIndexOf("</svg>");
  if (close < 0) return svg;
  const dot = `<circle cx="25" cy="7" r="6.5" fill="${colour}" stroke="#f6f2ea" stroke-width="2"/>`;
  return `${svg.slice(0, close)}${dot}${svg.slice(close)}`;
}

export function svgDataUrl(svg: string): string {
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}
