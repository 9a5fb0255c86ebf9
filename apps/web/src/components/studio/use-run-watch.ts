"use client";

import { useEffect, useRef, useState, useSyncExternalStore } from "react";
import type { RunInfo } from "@atelier/protocol";
import { iconWithDot, isActive, roomTabTitle, runEndNotice, svgDataUrl } from "@/lib/run-watch";

const NOTIFY_KEY = "atelier.notify-run-end";
const notifyListeners = new Set<() => void>();

function readNotifyPreference(): boolean {
  try {
    return (
      localStorage.getItem(NOTIFY_KEY) === "1" && "Notification" in window && Notification.permission === "granted"
    );
  } catch {
    return false;
  }
}

/** The person's opt-in to a browser notification when a run ends (kept in this browser). */
export function useNotifyPreference(): [boolean, (on: boolean) => Promise<string | null>] {
  const on = useSyncExternalStore(
    (l) => {
      notifyListeners.add(l);
      return () => notifyListeners.delete(l);
    },
    readNotifyPreference,
    () => false,
  );
  const set = async (next: boolean): Promise<string | null> => {
    if (next) {
      if (!("Notification" in window)) return "This browser cannot show notifications.";
      const permission =
        Notification.permission === "default" ? await Notification.requestPermission() : Notification.permission;
      if (permission !== "granted") return "Notifications are blocked for this site in the browser's settings.";
    }
    localStorage.setItem(NOTIFY_KEY, next ? "1" : "0");
    for (const l of notifyListeners) l();
    return null;
  };
  return [on, set];
}

/**
 * Keeps the tab in step with the room's run: the title ("37 % · Room", then "Done · Room"), a
 * dot on the favicon while a run goes, and — when the person opted in and is looking elsewhere —
 * a browser notification when a run they watched ends.
 */
export function useRunWatch(roomName: string, run: RunInfo | null): void {
  const previous = useRef<RunInfo | null>(null);
  const [watchedEnd, setWatchedEnd] = useState<string | null>(null);

  useEffect(() => {
    const notice = runEndNotice(roomName, previous.current, run);
    previous.current = run;
    if (!run) return;
    if (notice) {
      setWatchedEnd(run.runId);
      if (readNotifyPreference() && (document.visibilityState !== "visible" || !document.hasFocus())) {
        try {
          new Notification(notice.title, { body: notice.body, tag: run.runId });
        } catch {
          // some mobile browsers allow notifications only from a service worker: the title still says it
        }
      }
    }
  }, [roomName, run]);

  const title = roomTabTitle(roomName, run, run !== null && watchedEnd === run.runId);
  useEffect(() => {
    document.title = title;
  }, [title]);
  // leaving the studio: the next page sets its own title
  useEffect(() => {
    const original = document.title;
    return () => {
      document.title = original;
    };
  }, []);

  useFaviconDot(isActive(run));
}

function useFaviconDot(on: boolean): void {
  const plain = useRef<{ link: HTMLLinkElement; href: string; dotted: string | null } | null>(null);
  useEffect(() => {
    const link = document.querySelector<HTMLLinkElement>('link[rel~="icon"]');
    if (!link) return;
    if (!plain.current || plain.current.link !== link) plain.current = { link, href: link.href, dotted: null };
    const icon = plain.current;
    if (!on) {
      link.href = icon.href;
      return;
    }
    let cancelled = false;
    const apply = (dotted: string) => {
      if (!cancelled) link.href = dotted;
    };
    if (icon.dotted) apply(icon.dotted);
    else
      void fetch(icon.href)
        .then((r) => (r.ok ? r.text() : Promise.reject(new Error(String(r.status)))))
        .then((svg) => {
          icon.dotted = svgDataUrl(iconWithDot(svg));
          apply(icon.dotted);
        })
        .catch(() => undefined); // no dot is better than a broken icon
    return () => {
      cancelled = true;
    };
  }, [on]);
}
