"use client";

import Link from "next/link";
import { useCallback, useRef, useState } from "react";
import type { RoomState } from "@atelier/protocol";
import { StudioProvider, useStudio, type Me } from "./context";
import { ContentPicker, StylePicker } from "./image-pickers";
import { InviteButton } from "./invite-panel";
import { LossChart } from "./loss-chart";
import { MaskPainter } from "./mask-painter";
import { ParamPanel } from "./param-panel";
import { PresenceBar } from "./presence-bar";
import { PreviewCanvas } from "./preview-canvas";
import { RunHistory } from "./run-history";
import { RunPanel } from "./run-panel";
import { SweepPanel } from "./sweep-panel";
import { useRunWatch } from "./use-run-watch";
import { useShortcuts } from "./use-shortcuts";
import { ShortcutHelp } from "./shortcut-help";
import { StudioTabs, TAB_PANEL, type StudioTab } from "./studio-tabs";

export function Studio({ initial, me, joinedAs }: { initial: RoomState; me: Me; joinedAs?: string }) {
  return (
    <StudioProvider initial={initial} me={me}>
      <StudioLayout joinedAs={joinedAs} />
    </StudioProvider>
  );
}

function StudioLayout({ joinedAs }: { joinedAs?: string }) {
  const { state, dispatch } = useStudio();
  const canvasRef = useRef<HTMLCanvasElement | null>(null);
  // the size of what the canvas holds (null: nothing yet); kept when a frame is the same size
  const [painted, setPainted] = useState<{ width: number; height: number } | null>(null);
  const markPainted = useCallback(
    (width: number, height: number) =>
      setPainted((p) => (p && p.width === width && p.height === height ? p : { width, height })),
    [],
  );
  const [tab, setTab] = useState<StudioTab>("canvas");
  const [historyCount, setHistoryCount] = useState(0);
  const role = state.role;
  useRunWatch(state.name, state.run);
  const { history, editable } = useStudio();
  const [helpOpen, setHelpOpen] = useState(false);
  useShortcuts((action) => {
    if (action === "help") setHelpOpen(true);
    else if (action === "undo" && editable) history.undo();
    else if (action === "redo" && editable) history.redo();
    else return false;
    return true;
  });

  if (state.status === "error" && !state.confirmed) {
    return <FatalError message={state.error ?? "The room could not be opened."} />;
  }

  return (
    <main className="mx-auto w-full max-w-6xl px-4 pt-4 sm:px-5 sm:pt-6">
      <header className="flex flex-wrap items-center gap-x-6 gap-y-3 border-b border-line pb-4">
        <div className="min-w-0 flex-1">
          <p className="eyebrow">
            <Link href="/dashboard" className="hover:text-ink">
              Studio
            </Link>{" "}
            / room
          </p>
          {/* wraps rather than truncates: at 390 px a long room name must stay readable */}
          <h1 className="text-2xl break-words sm:text-3xl" data-testid="room-name">
            {state.name}
          </h1>
        </div>
        <PresenceBar />
        <button
          type="button"
          className="btn btn-ghost btn-sm hidden px-2 sm:inline-flex"
          onClick={() => setHelpOpen(true)}
          title="Keyboard shortcuts (?)"
          aria-label="Keyboard shortcuts"
          data-testid="shortcuts-open"
        >
          ⌨ ?
        </button>
        <InviteButton />
      </header>

      {/* one banner: a viewer who just joined learns both things from the viewer note */}
      {joinedAs && !(role === "viewer" && joinedAs === "viewer") && (
        <p className="mt-3 rounded-lg bg-accent-soft/70 px-3 py-2 text-sm" role="status">
          You joined this room as {joinedAs === "viewer" ? "a viewer" : `an ${joinedAs}`}.
        </p>
      )}
      {role === "viewer" && (
        <p className="mt-3 rounded-lg bg-line/50 px-3 py-2 text-sm text-muted" data-testid="viewer-note">
          {joinedAs === "viewer" ? "You joined this room as a viewer" : "You are watching as a viewer"}: settings and
          runs are in the editors’ hands.
        </p>
      )}
      {state.status === "error" && state.error && (
        <p role="alert" className="mt-3 rounded-lg bg-danger/10 px-3 py-2 text-sm text-danger" data-testid="room-error">
          {state.error}
        </p>
      )}
      {state.status !== "error" && state.error && (
        <div
          role="alert"
          className="mt-3 flex items-start justify-between gap-3 rounded-lg bg-danger/10 px-3 py-2 text-sm text-danger"
          data-testid="room-error"
        >
          <span>{state.error}</span>
          <button type="button" className="shrink-0 underline" onClick={() => dispatch({ type: "dismiss-error" })}>
            Dismiss
          </button>
        </div>
      )}

      {helpOpen && <ShortcutHelp onClose={() => setHelpOpen(false)} />}
      <StudioTabs tab={tab} onTab={setTab} runs={historyCount} />
      {/*
        One column below lg (minmax(0, 1fr), so a wide child such as the history strip scrolls
        inside itself instead of widening the page); two from lg. Below lg only the chosen tab's
        panels show — all stay mounted, so the canvas keeps its pixels and fields their drafts.
      */}
      <div className="mt-4 grid grid-cols-[minmax(0,1fr)] gap-8 lg:mt-6 lg:grid-cols-[minmax(20rem,24rem)_minmax(0,1fr)]">
        <div
          className={`order-2 min-w-0 space-y-5 lg:order-1 lg:block ${tab === "settings" ? "" : "hidden"}`}
          id={TAB_PANEL.settings}
          data-testid="panel-settings"
        >
          <section aria-labelledby="images-heading" className="space-y-3">
            <h2 id="images-heading" className="px-2 text-lg">
              Images
            </h2>
            <ContentPicker />
            <StylePicker />
          </section>
          <ParamPanel />
        </div>
        <div className="order-1 min-w-0 space-y-6 lg:order-2">
          <div
            className={`min-w-0 space-y-6 lg:block ${tab === "canvas" ? "" : "hidden"}`}
            id={TAB_PANEL.canvas}
            data-testid="panel-canvas"
          >
            <PreviewCanvas canvasRef={canvasRef} onPainted={markPainted} />
            <RunPanel canvasRef={canvasRef} painted={painted} />
            <MaskPainter />
            <section aria-labelledby="loss-heading" className="card p-4">
              <h2 id="loss-heading" className="mb-3 text-lg">
                Loss
              </h2>
              <LossChart history={state.history} />
            </section>
          </div>
          <div
            className={`min-w-0 space-y-6 lg:block ${tab === "history" ? "" : "hidden"}`}
            id={TAB_PANEL.history}
            data-testid="panel-history"
          >
            <RunHistory onCount={setHistoryCount} />
            <SweepPanel />
          </div>
        </div>
      </div>
    </main>
  );
}

function FatalError({ message }: { message: string }) {
  return (
    <main className="mx-auto flex w-full max-w-lg flex-1 flex-col items-center justify-center px-5 py-20 text-center">
      <h1 className="text-3xl">The studio is closed</h1>
      <p className="mt-3 text-muted" data-testid="room-error">
        {message}
      </p>
      <div className="mt-8 flex gap-3">
        <button type="button" className="btn btn-primary" onClick={() => window.location.reload()}>
          Try again
        </button>
        <Link href="/dashboard" className="btn btn-secondary">
          Back to your studio
        </Link>
      </div>
    </main>
  );
}
