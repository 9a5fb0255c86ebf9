"use client";

import { useState } from "react";
import { useCommitter } from "./use-committer";

/**
 * One style's blend weight. Like the other sliders, a drag moves a local value and the room
 * (and a running job, which takes blend weights live) gets it once: on release or when the
 * hand rests.
 */
export function BlendWeight({
  id,
  name,
  weight,
  share,
  disabled,
  testId,
  onFocus,
  onBlur,
  commit,
}: {
  id: string;
  name: string;
  weight: number;
  share: number;
  disabled: boolean;
  testId: string;
  onFocus: () => void;
  onBlur: () => void;
  commit: (weight: number) => void;
}) {
  const [dragged, setDragged] = useState<number | null>(null);
  const committer = useCommitter<number>();
  const value = dragged ?? weight;
  const release = () => {
    committer.flush();
    setDragged(null);
  };
  return (
    <>
      <label className="sr-only" htmlFor={id}>
        Blend weight of {name}
      </label>
      <input
        id={id}
        type="range"
        min={0}
        max={10}
        step={0.1}
        value={Math.min(10, value)}
        disabled={disabled}
        aria-valuetext={`weight ${value}, ${share}% of the blend`}
        className="w-full"
        data-testid={testId}
        onFocus={onFocus}
        onBlur={() => {
          release();
          onBlur();
        }}
        onPointerUp={release}
        onKeyUp={release}
        onChange={(e) => {
          const next = Number(e.target.value);
          setDragged(next);
          committer.schedule(next, (w) => {
            if (w !== weight) commit(w);
          });
        }}
      />
    </>
  );
}
